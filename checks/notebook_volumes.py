"""Every Kubeflow notebook's claims exist and are Bound, and shared claims are ReadWriteMany.

A Kubeflow notebook is a Notebook object (kubeflow.org) and the StatefulSet the notebook
controller makes of it (its pod template carries the `notebook-name` label). The Jupyter web app
creates the workspace claim (`<notebook>-workspace`, ReadWriteOnce, default class) before the
notebook; data volumes may name existing claims, and PodDefaults may inject more into the pod.
kfstor reads the claims from all three places: the Notebook, the StatefulSet template and the
notebook's live pods.

Per notebook and claim (one finding per broken claim, with its code): a missing or Lost claim
is a fail (the pod cannot start; for a stopped notebook
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
    Cause,
    Check,
    ClassSource,
    Code,
    Context,
    Facts,
    Finding,
    Ref,
    Status,
    Verdict,
    fail,
    finding,
    fixes,
    k8s,
    kubeflow,
    ok,
    skip,
    warn,
)

WFFC = k8s.WFFC
CLAIM_MISSING = "KFS-NOTEBOOK-CLAIM-MISSING"
CLAIM_LOST = "KFS-NOTEBOOK-CLAIM-LOST"
CLAIM_PENDING = "KFS-NOTEBOOK-CLAIM-PENDING"
CLAIM_WAITING = "KFS-NOTEBOOK-CLAIM-WAITING"
RWOP_SHARED = "KFS-NOTEBOOK-RWOP-SHARED"
RWO_MULTI_NODE = "KFS-NOTEBOOK-RWO-MULTI-NODE"
RWO_SHARED = "KFS-NOTEBOOK-RWO-SHARED"
NO_NOTEBOOKS = "KFS-NOTEBOOK-NONE"
_SHARE = "Put shared data on a ReadWriteMany claim of an RWX-capable class and mount it in each notebook."
CODES = (
    Code(
        CLAIM_MISSING,
        "Notebook claim missing",
        "A claim the notebook mounts does not exist.",
        "The notebook's pod cannot start (a stopped notebook fails at its next start).",
        "Re-create the claim (the workspace is 5Gi ReadWriteOnce) or edit the Notebook to drop it.",
        (fixes.DOCS_NOTEBOOKS,),
    ),
    Code(
        CLAIM_LOST,
        "Notebook claim Lost",
        "A claim the notebook mounts is Lost: its volume is gone.",
        "The notebook's files are gone and its pod cannot start.",
        "Restore from a backup or re-create the claim.",
        (fixes.DOCS_PV_PHASE,),
    ),
    Code(
        CLAIM_PENDING,
        "Notebook claim Pending",
        "A claim the notebook mounts is Pending (not waiting for its first consumer).",
        "The notebook's pod cannot start.",
        "Describe the claim; claim_health shows its events.",
        (fixes.DOCS_PV,),
    ),
    Code(
        CLAIM_WAITING,
        "Notebook claim waits for its pod",
        "A WaitForFirstConsumer claim of a running notebook is Pending and the pod is not scheduled yet.",
        "It binds once the pod is scheduled; if it stays Pending the notebook never starts.",
        "Check the notebook pod's events.",
        (fixes.DOCS_BINDING_MODE,),
    ),
    Code(
        RWOP_SHARED,
        "ReadWriteOncePod claim shared by notebooks",
        "Several running notebooks mount one ReadWriteOncePod claim.",
        "Only one pod may use it; the others cannot start.",
        _SHARE,
        (fixes.DOCS_ACCESS_MODES,),
    ),
    Code(
        RWO_MULTI_NODE,
        "ReadWriteOnce claim shared across nodes",
        "Notebooks on different nodes mount one ReadWriteOnce claim.",
        "The later pods hang in ContainerCreating with a Multi-Attach error.",
        _SHARE,
        (fixes.DOCS_ACCESS_MODES,),
    ),
    Code(
        RWO_SHARED,
        "ReadWriteOnce claim shared by notebooks",
        "Notebooks on one node (or nodes not known yet) mount one ReadWriteOnce claim.",
        "It works only while they share the node; a restart elsewhere fails with Multi-Attach.",
        _SHARE,
        (fixes.DOCS_ACCESS_MODES,),
    ),
    Code(
        NO_NOTEBOOKS,
        "No notebooks",
        "No Notebook objects and no StatefulSets with the notebook-name label.",
        "Nothing to judge.",
        "Nothing to fix.",
    ),
)


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
    describe = fixes.fix(fixes.describe("pvc", claim, nb.namespace), docs=fixes.DOCS_PV)
    if pvc is None:
        return Verdict(
            broken,
            f"claim {claim} does not exist",
            code=CLAIM_MISSING,
            fix=fixes.fix(
                fixes.get_yaml("notebook", nb.name, nb.namespace),
                docs=fixes.DOCS_NOTEBOOKS,
                text=f"re-create claim {nb.namespace}/{claim} or remove it from the notebook's volumes",
            ),
        )
    phase = k8s.phase(pvc)
    if phase == "Bound":
        return Verdict(Status.PASS, f"{claim} Bound")
    if phase == "Lost":
        return Verdict(broken, f"claim {claim} is Lost (its volume is gone)", code=CLAIM_LOST, fix=describe)
    if facts.waits_for_consumer(pvc):
        if nb.stopped:
            return Verdict(Status.PASS, f"{claim} Pending until the notebook starts ({WFFC})")
        return Verdict(
            Status.WARN,
            f"claim {claim} is Pending ({WFFC}) and the notebook's pod is not scheduled yet",
            code=CLAIM_WAITING,
            fix=fixes.fix(f"kubectl {fixes.ns_flag(nb.namespace)}get pods -l notebook-name={fixes.q(nb.name)} -o wide"),
        )
    cls = facts.claim_class(pvc)
    cause = Cause("KFS-DEFAULT-NONE", CLUSTER) if cls.source is ClassSource.NO_DEFAULT else None
    return Verdict(
        Status.FAIL,
        f"claim {claim} is {phase} (StorageClass {cls.name or 'none'}); see claim_health for its events",
        code=CLAIM_PENDING,
        fix=None if cause else describe,
        caused_by=cause,
    )


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    notebooks = _notebooks(facts)
    if not notebooks:
        installed = facts.platform.installed
        yield skip(
            CLUSTER,
            "no Kubeflow notebooks (no Notebook objects, no StatefulSets with the notebook-name label)",
            code=NO_NOTEBOOKS,
            caused_by=None if installed else Cause("KFS-KUBEFLOW-NOT-INSTALLED", CLUSTER),
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
        problems = [v for v in verdicts if v.status is not Status.PASS]
        for v in problems:  # one finding per broken claim, each with its code
            if v.status is Status.FAIL:
                text = (
                    f"{state} {nb.label} cannot start: {v.message}; create or fix the claim (kubectl "
                    "describe pvc) before starting it"
                )
            else:
                advice = (
                    "fix it before starting the notebook"
                    if nb.stopped
                    else "it binds once the pod is scheduled; check the pod's events if it stays Pending"
                )
                text = f"{state} {nb.label}: {v.message}; {advice}"
            yield finding(v.status, nb.ref, text, code=v.code, fix=v.fix, caused_by=v.caused_by)
        if not problems:
            yield ok(nb.ref, f"{state} {nb.label}: {', '.join(v.message for v in verdicts)}")
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
    share = fixes.fix(
        fixes.get_yaml("pvc", claim, k8s.namespace(pvc)),
        docs=fixes.DOCS_ACCESS_MODES,
        text=f"create a ReadWriteMany claim on an RWX-capable class, copy {claim}'s data to it and mount that instead",
    )
    if "ReadWriteOncePod" in modes:
        return fail(
            pvc,
            (
                f"ReadWriteOncePod claim {claim} is shared by running notebooks {names}: only one pod may use it;"
                " stop all but one or move the data to a ReadWriteMany claim"
            ),
            code=RWOP_SHARED,
            fix=share,
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
            code=RWO_MULTI_NODE,
            fix=share,
        )
    known = nodes and all(nb.nodes for nb in users)
    where = f"all on node {next(iter(nodes))}" if known else "nodes not all known"
    return warn(
        pvc,
        (
            f"ReadWriteOnce claim {claim} is shared by notebooks {names} ({where}): it works only while they run "
            "on one node, a restart elsewhere fails with Multi-Attach; put shared data on a ReadWriteMany claim"
        ),
        code=RWO_SHARED,
        fix=share,
    )


CHECK = Check(
    id="notebook_volumes",
    title="Notebook volumes are Bound and shared only through ReadWriteMany",
    kinds=("StatefulSet", "PersistentVolumeClaim"),
    optional_kinds=("Notebook", "Pod", "StorageClass", "PersistentVolume"),
    evaluate=evaluate,
    description=__doc__ or "",
    codes=CODES,
    remediation=(
        "kubectl -n PROFILE describe pvc CLAIM shows why a claim is Pending; re-create a missing "
        "workspace claim (5Gi ReadWriteOnce, the name the Notebook mounts) or edit the Notebook to drop it. "
        "For data shared between notebooks create a ReadWriteMany claim on an RWX-capable class and mount it "
        "in each notebook (or through a PodDefault) instead of attaching one notebook's ReadWriteOnce "
        "workspace to another."
    ),
)
