"""Every Kubeflow notebook's claims exist and are Bound, and shared claims are ReadWriteMany.

A Kubeflow notebook is a Notebook object (kubeflow.org) and the StatefulSet the notebook
controller makes of it (its pod template carries the `notebook-name` label). The Jupyter web app
creates the workspace claim (`<notebook>-workspace`, ReadWriteOnce, default class) before the
notebook; data volumes may name existing claims, and PodDefaults may inject more into the pod.
kfstor reads the claims from all three places: the Notebook, the StatefulSet template and the
notebook's live pods.

Per notebook: a missing or Lost claim is a fail (the pod cannot start; for a stopped notebook
it is a warn: it fails at the next start). A Pending claim is a fail, except under
WaitForFirstConsumer: while the notebook is stopped that is normal (pass: it binds when the
notebook starts), while it runs with no scheduled pod yet it is a warn.

Per claim mounted by several running notebooks: ReadWriteMany (or ReadOnlyMany) passes; a
ReadWriteOnce claim used by notebooks on different nodes is a fail (the second pod hangs with
"Multi-Attach error"), on one node or on nodes not yet known a warn. Stopped notebooks (annotation
`kubeflow-resource-stopped` on the Notebook or the StatefulSet, or 0 replicas) are not consumers.
No notebooks: skip.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kfstor.api import CLUSTER, Check, Context, Finding, Ref, Snapshot, fail, k8s, kubeflow, ok, skip, warn

WFFC = "WaitForFirstConsumer"


@dataclass
class _Notebook:
    namespace: str
    name: str
    ref: Ref
    stopped: bool = False
    claims: set[str] = field(default_factory=set)
    nodes: set[str] = field(default_factory=set)
    has_pod: bool = False

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}"


def _replicas(sts: Mapping[str, Any]) -> int | None:
    value = k8s.dig(sts, "spec", "replicas", default=1)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _notebooks(snap: Snapshot) -> dict[tuple[str, str], _Notebook]:
    notebooks: dict[tuple[str, str], _Notebook] = {}
    for nb in snap.of("Notebook"):
        key = (k8s.namespace(nb), k8s.name(nb))
        entry = notebooks.setdefault(key, _Notebook(key[0], key[1], Ref.of(nb)))
        entry.stopped = entry.stopped or kubeflow.is_stopped(nb)
        entry.claims.update(k8s.claim_names(nb))
    for sts in snap.of("StatefulSet"):
        if not kubeflow.is_notebook_statefulset(sts):
            continue
        key = (k8s.namespace(sts), k8s.name(sts))
        entry = notebooks.setdefault(key, _Notebook(key[0], key[1], Ref.of(sts)))
        entry.stopped = entry.stopped or kubeflow.is_stopped(sts) or _replicas(sts) == 0
        entry.claims.update(k8s.claim_names(sts))
    for pod in snap.of("Pod"):
        nb_name = k8s.dig(pod, "metadata", "labels", kubeflow.NOTEBOOK_LABEL, default="")
        found = notebooks.get((k8s.namespace(pod), nb_name)) if nb_name else None
        if found is None or not k8s.pod_is_active(pod):
            continue
        entry = found
        # PodDefaults inject volumes into the pod only: the live pod is the full truth.
        entry.claims.update(k8s.claim_names(pod))
        entry.has_pod = True
        if k8s.pod_node(pod):
            entry.nodes.add(k8s.pod_node(pod))
    return notebooks


def _describe_claim_problem(
    nb: _Notebook,
    claim: str,
    pvc: Mapping[str, Any] | None,
    classes: Mapping[str, Mapping[str, Any]],
    default: str | None,
) -> tuple[int, str]:
    """(severity 0 ok / 1 warn / 2 fail, text) for one claim of one notebook."""
    if pvc is None:
        return (1 if nb.stopped else 2), f"claim {claim} does not exist"
    phase = k8s.phase(pvc)
    if phase == "Bound":
        return 0, f"{claim} Bound"
    if phase == "Lost":
        return (1 if nb.stopped else 2), f"claim {claim} is Lost (its volume is gone)"
    wanted = k8s.claim_class_name(pvc)
    sc_name = default if wanted is None else wanted
    sc = classes.get(sc_name or "")
    # Once the scheduler has picked a node (selected-node), the claim no longer waits for a consumer:
    # still Pending then means provisioning failed.
    waiting = k8s.SELECTED_NODE_ANNOTATION not in k8s.dig(pvc, "metadata", "annotations", default={})
    if phase == "Pending" and sc is not None and k8s.binding_mode(sc) == WFFC and waiting:
        if nb.stopped:
            return 0, f"{claim} Pending until the notebook starts ({WFFC})"
        if not nb.has_pod or not nb.nodes:
            return 1, f"claim {claim} is Pending ({WFFC}) and the notebook's pod is not scheduled yet"
    return 2, f"claim {claim} is {phase} (StorageClass {sc_name or 'none'}); see claim_health for its events"


def evaluate(snap: Snapshot, ctx: Context) -> Iterator[Finding]:
    notebooks = _notebooks(snap)
    if not notebooks:
        yield skip(
            CLUSTER, ("no Kubeflow notebooks (no Notebook objects, no StatefulSets with the notebook-name label)")
        )
        return
    classes_list = snap.of("StorageClass")
    classes = {k8s.name(sc): sc for sc in classes_list}
    default_sc = k8s.effective_default_class(classes_list)
    default = k8s.name(default_sc) if default_sc is not None else None
    consumers: dict[tuple[str, str], list[_Notebook]] = {}
    for key in sorted(notebooks):
        nb = notebooks[key]
        state = "stopped notebook" if nb.stopped else "notebook"
        if not nb.claims:
            yield ok(nb.ref, f"{state} {nb.label} mounts no PersistentVolumeClaims (workspace disabled)")
            continue
        results = [
            _describe_claim_problem(nb, claim, snap.get("PersistentVolumeClaim", claim, nb.namespace), classes, default)
            for claim in sorted(nb.claims)
        ]
        worst = max(level for level, _ in results)
        texts = [text for level, text in results if level == worst]
        if worst == 2:
            yield fail(
                nb.ref,
                (
                    f"{state} {nb.label} cannot start: {'; '.join(texts)}; create or fix the claim (kubectl "
                    "describe pvc) before starting it"
                ),
            )
        elif worst == 1:
            advice = (
                "fix it before starting the notebook"
                if nb.stopped
                else "it binds once the pod is scheduled; check the pod's events if it stays Pending"
            )
            yield warn(nb.ref, f"{state} {nb.label}: {'; '.join(texts)}; {advice}")
        else:
            yield ok(nb.ref, f"{state} {nb.label}: {', '.join(texts)}")
        if not nb.stopped:
            for claim in nb.claims:
                consumers.setdefault((nb.namespace, claim), []).append(nb)
    for (ns, claim), users in sorted(consumers.items()):
        if len(users) < 2:
            continue
        pvc = snap.get("PersistentVolumeClaim", claim, ns)
        if pvc is None:
            continue  # the notebooks' findings already say it is missing
        yield _judge_shared(pvc, sorted(users, key=lambda n: n.name), snap)


def _judge_shared(pvc: Mapping[str, Any], users: list[_Notebook], snap: Snapshot) -> Finding:
    claim = k8s.name(pvc)
    volume = k8s.dig(pvc, "spec", "volumeName", default="")
    pv = snap.get("PersistentVolume", volume) if volume else None
    modes = k8s.granted_access_modes(pvc, pv)
    names = ", ".join(
        f"{nb.name} ({'node ' + ', '.join(sorted(nb.nodes)) if nb.nodes else 'node unknown'})" for nb in users
    )
    if not k8s.is_single_node_mode(modes):
        return ok(pvc, f"claim {claim} is shared by notebooks {names} and grants {', '.join(modes)}")
    if "ReadWriteOncePod" in modes:
        return fail(
            pvc,
            (
                f"ReadWriteOncePod claim {claim} is shared by running notebooks {names}: only one pod may use it;"
                " stop all but one or move the data to a ReadWriteMany claim"
            ),
        )
    nodes = set().union(*(nb.nodes for nb in users))
    if len(nodes) >= 2:
        return fail(
            pvc,
            (
                f"ReadWriteOnce claim {claim} is shared by notebooks on different nodes ({names}): the later ones"
                " hang in ContainerCreating with a Multi-Attach error; put shared data on a ReadWriteMany claim "
                "(see rwx_available)"
            ),
        )
    known = nodes and all(nb.nodes for nb in users)
    where = f"all on node {next(iter(nodes))}" if known else "nodes not all known"
    return warn(
        pvc,
        (
            f"ReadWriteOnce claim {claim} is shared by notebooks {names} ({where}): it works only while they run "
            "on one node, a restart elsewhere fails with Multi-Attach; put shared data on a ReadWriteMany claim"
        ),
    )


CHECK = Check(
    id="notebook_volumes",
    title="Notebook volumes are Bound and shared only through ReadWriteMany",
    kinds=("StatefulSet", "PersistentVolumeClaim"),
    optional_kinds=("Notebook", "Pod", "StorageClass", "PersistentVolume"),
    evaluate=evaluate,
    description=__doc__ or "",
    remediation=(
        "kubectl -n <profile> describe pvc <claim> shows why a claim is Pending; re-create a missing "
        "workspace claim (5Gi ReadWriteOnce, the name the Notebook mounts) or edit the Notebook to drop it. "
        "For data shared between notebooks create a ReadWriteMany claim on an RWX-capable class and mount it "
        "in each notebook (or through a PodDefault) instead of attaching one notebook's ReadWriteOnce "
        "workspace to another."
    ),
)
