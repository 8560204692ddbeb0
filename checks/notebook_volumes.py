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

from kfstor.api import (
    CLUSTER,
    Check,
    Context,
    Facts,
    Finding,
    Ref,
    Status,
    Verdict,
    fail,
    k8s,
    kubeflow,
    ok,
    skip,
    warn,
    worst,
)

WFFC = k8s.WFFC


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


def _notebooks(facts: Facts) -> dict[tuple[str, str], _Notebook]:
    notebooks: dict[tuple[str, str], _Notebook] = {}
    for nb in facts.of("Notebook"):
        key = (k8s.namespace(nb), k8s.name(nb))
        entry = notebooks.setdefault(key, _Notebook(key[0], key[1], Ref.of(nb)))
        entry.stopped = entry.stopped or kubeflow.is_stopped(nb)
        entry.claims.update(k8s.claim_names(nb))
    for sts in facts.of("StatefulSet"):
        if not kubeflow.is_notebook_statefulset(sts):
            continue
        key = (k8s.namespace(sts), k8s.name(sts))
        entry = notebooks.setdefault(key, _Notebook(key[0], key[1], Ref.of(sts)))
        entry.stopped = entry.stopped or kubeflow.is_stopped(sts) or _replicas(sts) == 0
        entry.claims.update(k8s.claim_names(sts))
    for pod in facts.of("Pod"):
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


def _claim_verdict(facts: Facts, nb: _Notebook, claim: str, pvc: Mapping[str, Any] | None) -> Verdict:
    """One claim of one notebook. A stopped notebook's broken claim is a warn: it fails at the next start."""
    broken = Status.WARN if nb.stopped else Status.FAIL
    if pvc is None:
        return Verdict(broken, f"claim {claim} does not exist")
    phase = k8s.phase(pvc)
    if phase == "Bound":
        return Verdict(Status.PASS, f"{claim} Bound")
    if phase == "Lost":
        return Verdict(broken, f"claim {claim} is Lost (its volume is gone)")
    if facts.waits_for_consumer(pvc):
        if nb.stopped:
            return Verdict(Status.PASS, f"{claim} Pending until the notebook starts ({WFFC})")
        return Verdict(Status.WARN, f"claim {claim} is Pending ({WFFC}) and the notebook's pod is not scheduled yet")
    sc_name = facts.claim_class(pvc).name
    return Verdict(
        Status.FAIL, f"claim {claim} is {phase} (StorageClass {sc_name or 'none'}); see claim_health for its events"
    )


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    notebooks = _notebooks(facts)
    if not notebooks:
        yield skip(
            CLUSTER, ("no Kubeflow notebooks (no Notebook objects, no StatefulSets with the notebook-name label)")
        )
        return
    pods_unreadable = facts.unreadable("Pod")
    if pods_unreadable:
        yield skip(
            CLUSTER,
            f"notebook pods not readable ({pods_unreadable}): which notebooks run, on which nodes, and the "
            "volumes PodDefaults add were not checked",
        )
    consumers: dict[tuple[str, str], list[_Notebook]] = {}
    for key in sorted(notebooks):
        nb = notebooks[key]
        state = "stopped notebook" if nb.stopped else "notebook"
        if not nb.claims:
            yield ok(nb.ref, f"{state} {nb.label} mounts no PersistentVolumeClaims (workspace disabled)")
            continue
        verdicts = [
            _claim_verdict(facts, nb, claim, facts.get("PersistentVolumeClaim", claim, nb.namespace))
            for claim in sorted(nb.claims)
        ]
        status = worst(v.status for v in verdicts)
        texts = [v.message for v in verdicts if v.status is status]
        if status is Status.FAIL:
            yield fail(
                nb.ref,
                (
                    f"{state} {nb.label} cannot start: {'; '.join(texts)}; create or fix the claim (kubectl "
                    "describe pvc) before starting it"
                ),
            )
        elif status is Status.WARN:
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
        pvc = facts.get("PersistentVolumeClaim", claim, ns)
        if pvc is None:
            continue  # the notebooks' findings already say it is missing
        yield _judge_shared(pvc, sorted(users, key=lambda n: n.name), facts)


def _judge_shared(pvc: Mapping[str, Any], users: list[_Notebook], facts: Facts) -> Finding:
    claim = k8s.name(pvc)
    volume = k8s.dig(pvc, "spec", "volumeName", default="")
    pv = facts.get("PersistentVolume", volume) if volume else None
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
