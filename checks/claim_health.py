"""Claims and volumes in every namespace are healthy: none stuck, lost, failed or half-resized.

Across all namespaces:

- a Pending claim is a fail, with its latest event, unless its class binds WaitForFirstConsumer
  and no active pod uses it yet (that is how such claims wait: healthy);
- a Lost claim (its PersistentVolume is gone) is a fail;
- a Failed PersistentVolume (recycling or deletion failed) is a fail;
- a Released PersistentVolume (its claim was deleted) with reclaim policy Retain keeps orphaned
  data: warn; with Delete its deletion has not completed: warn, or fail when a
  VolumeFailedDelete event says the provisioner could not delete it; with Recycle (deprecated):
  warn;
- resize trouble in a claim's conditions: ControllerResizeError or NodeResizeError is a fail,
  FileSystemResizePending (the file system grows when a pod mounts the volume next) is a warn;
  an `allocatedResourceStatuses` value ending in Infeasible is a fail (the request can never be
  met: lower it back).

One finding per problem (a Pending claim with a resize error gets two, each with its code).
Healthy claims are summarised by one pass finding per namespace, and healthy volumes by one
cluster-wide pass finding, so clusters with tens of thousands of claims stay readable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
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
    Fix,
    Ref,
    Status,
    Verdict,
    fail,
    finding,
    fixes,
    k8s,
    ok,
    skip,
    storage,
    warn,
)

WFFC = k8s.WFFC
RESIZE_FAILURES = ("ControllerResizeError", "NodeResizeError")

PENDING_NO_DEFAULT = "KFS-PVC-PENDING-NO-DEFAULT"
PENDING_CLASS_MISSING = "KFS-PVC-PENDING-CLASS-MISSING"
PENDING_EMPTY_CLASS = "KFS-PVC-PENDING-EMPTY-CLASS"
PENDING_NOT_PROVISIONED = "KFS-PVC-PENDING"
PENDING_WITH_POD = "KFS-PVC-PENDING-WITH-POD"
LOST = "KFS-PVC-LOST"
UNEXPECTED_PHASE = "KFS-PVC-UNEXPECTED-PHASE"
RESIZE_FAILED = "KFS-PVC-RESIZE-FAILED"
RESIZE_PENDING = "KFS-PVC-RESIZE-PENDING"
RESIZE_INFEASIBLE = "KFS-PVC-RESIZE-INFEASIBLE"
RESIZE_RETRYING = "KFS-PVC-RESIZE-RETRYING"
PV_FAILED = "KFS-PV-FAILED"
PV_RELEASED_RETAIN = "KFS-PV-RELEASED-RETAIN"
PV_DELETE_FAILED = "KFS-PV-DELETE-FAILED"
PV_DELETE_PENDING = "KFS-PV-DELETE-PENDING"
PV_RECYCLE = "KFS-PV-RECYCLE"
PV_NOT_READ = "KFS-PV-NOT-READ"


def _c(code_id: str, title: str, meaning: str, why: str, fix_text: str, *links: str) -> Code:
    return Code(code_id, title, meaning, why, fix_text, links or (fixes.DOCS_PV,))


CODES = (
    _c(
        PENDING_NO_DEFAULT,
        "Claim Pending: no default class",
        "The claim names no StorageClass and the cluster has no default class.",
        "Notebook workspaces and Kubeflow's platform claims name no class: they all wait like this one.",
        "Mark one class default (KFS-DEFAULT-NONE); waiting claims then get it.",
        fixes.DOCS_DEFAULT_CLASS,
    ),
    _c(
        PENDING_CLASS_MISSING,
        "Claim Pending: class does not exist",
        "The claim names a StorageClass that does not exist.",
        "Nothing provisions it; the pod that mounts it cannot start.",
        "Create the class, or re-create the claim on an existing one.",
        fixes.DOCS_STORAGE_CLASSES,
    ),
    _c(
        PENDING_EMPTY_CLASS,
        "Claim Pending: static volumes only",
        'The claim sets storageClassName: "" and waits for a matching static PersistentVolume.',
        "It binds only to a hand-made volume.",
        "Create a matching PersistentVolume, or re-create the claim with a class.",
        fixes.DOCS_RESERVE_PV,
    ),
    _c(
        PENDING_NOT_PROVISIONED,
        "Claim Pending: not provisioned",
        "The claim's class has not provisioned a volume for it.",
        "The pod that mounts it cannot start.",
        "Describe the claim: its events name the cause (provisioner down, quota, capacity, parameters).",
    ),
    _c(
        PENDING_WITH_POD,
        "Claim Pending although a pod uses it",
        "A WaitForFirstConsumer claim stays Pending although a pod that mounts it exists.",
        "The pod cannot start until the volume is provisioned in its zone.",
        "Describe the claim and the pod: the scheduler's and provisioner's events name the cause.",
        fixes.DOCS_BINDING_MODE,
    ),
    _c(
        LOST,
        "Claim Lost",
        "The claim's PersistentVolume is gone.",
        "The data is gone with it; its pod cannot start.",
        "Restore from a backup, or re-create the claim.",
        fixes.DOCS_PV_PHASE,
    ),
    _c(
        UNEXPECTED_PHASE,
        "Claim in an unexpected phase",
        "The claim reports a phase other than Pending, Bound or Lost.",
        "Its state cannot be judged.",
        "Describe the claim.",
    ),
    _c(
        RESIZE_FAILED,
        "Claim resize failed",
        "A ControllerResizeError or NodeResizeError condition is true.",
        "The volume did not grow; a database that needed the space stays full.",
        "Fix the driver's error, or lower the request back to the current size (RecoverVolumeExpansionFailure).",
        fixes.DOCS_EXPANSION_RECOVERY,
    ),
    _c(
        RESIZE_PENDING,
        "File system resize pending",
        "FileSystemResizePending: the volume grew, its file system grows when a pod next mounts it.",
        "The extra space is not usable until the pod restarts.",
        "Restart the pod that uses the claim.",
        fixes.DOCS_EXPANSION,
    ),
    _c(
        RESIZE_INFEASIBLE,
        "Claim resize infeasible",
        "allocatedResourceStatuses says the resize can never be satisfied.",
        "The claim stays at its old size and the request keeps failing.",
        "Lower spec.resources.requests back to the current size.",
        fixes.DOCS_EXPANSION_RECOVERY,
    ),
    _c(
        RESIZE_RETRYING,
        "Claim resize failing and retried",
        "A resize is in progress and the claim's newest Warning event says it failed (VolumeResizeFailed or "
        "FileSystemResizeFailed); the resizer retries without writing an error condition.",
        "The volume does not grow while the error lasts (a full backend retries forever).",
        "Free capacity in the storage backend, or lower spec.resources.requests back to the current size.",
        fixes.DOCS_EXPANSION_RECOVERY,
    ),
    _c(
        PV_FAILED,
        "PersistentVolume Failed",
        "Recycling or deleting the volume failed.",
        "Storage stays allocated and the volume is unusable.",
        "Clean up the backing storage and delete the PersistentVolume.",
        fixes.DOCS_PV_PHASE,
    ),
    _c(
        PV_RELEASED_RETAIN,
        "Orphaned data on a Released volume",
        "A Retain volume whose claim was deleted keeps that claim's data.",
        "The data (perhaps Kubeflow's metadata from before a reinstall) is orphaned and still costs storage.",
        "Recover it by pre-binding the volume to the claim that should own it, or delete volume and disk.",
        fixes.DOCS_RESERVE_PV,
    ),
    _c(
        PV_DELETE_FAILED,
        "Volume deletion failed",
        "A Released Delete volume has VolumeFailedDelete events: the provisioner could not delete it.",
        "The backing disk is left behind and keeps costing.",
        "Fix the provisioner's permissions or delete the backing volume by hand, then the PersistentVolume.",
        fixes.DOCS_PV_PHASE,
    ),
    _c(
        PV_DELETE_PENDING,
        "Volume deletion not complete",
        "A Released Delete volume has not been deleted yet.",
        "Usually transient; if it persists the provisioner is stuck.",
        "If it persists, check the provisioner's logs.",
        fixes.DOCS_PV_PHASE,
    ),
    _c(
        PV_RECYCLE,
        "Deprecated Recycle policy",
        "A Released volume uses the deprecated Recycle reclaim policy.",
        "Recycle scrubs data with rm -rf and is removed for most plugins.",
        "Use Retain or Delete.",
        fixes.DOCS_RECLAIM,
    ),
    _c(
        PV_NOT_READ,
        "PersistentVolumes not checked",
        "PersistentVolumes could not be read.",
        "Failed and Released volumes cannot be found.",
        "Grant list on persistentvolumes (kfstor rbac).",
    ),
)


def _latest_event(facts: Facts, kind: str, ns: str, obj_name: str) -> str:
    event = facts.meaningful_event(kind, ns, obj_name)
    if event is None:
        return facts.no_events_text()
    return f"latest event {k8s.describe_event(event)}"


RESIZE_FAILED_EVENTS = ("VolumeResizeFailed", "FileSystemResizeFailed")


def _resize_failing(facts: Facts, pvc: Mapping[str, Any]) -> Verdict | None:
    """A resize still in progress whose newest Warning says it failed: external-resizer retries
    errors such as ResourceExhausted without writing an error condition."""
    event = facts.meaningful_event("PersistentVolumeClaim", k8s.namespace(pvc), k8s.name(pvc))
    if event is None or k8s.dig(event, "type", default="") != "Warning":
        return None
    if k8s.dig(event, "reason", default="") not in RESIZE_FAILED_EVENTS:
        return None
    return Verdict(
        Status.FAIL,
        f"resize is failing and being retried: {k8s.describe_event(event)}; free capacity in the storage "
        "backend, or lower spec.resources.requests back to the current size",
        code=RESIZE_RETRYING,
        fix=_lower_request(pvc, "storage"),
    )


def _condition_problems(facts: Facts, pvc: Mapping[str, Any]) -> list[Verdict]:
    problems: list[Verdict] = []
    describe = fixes.describe("pvc", k8s.name(pvc), k8s.namespace(pvc))
    status = pvc.get("status")
    if not isinstance(status, Mapping) or not (status.get("conditions") or status.get("allocatedResourceStatuses")):
        return problems  # the common case, kept cheap for clusters with tens of thousands of claims
    for cond in k8s.dict_list(pvc, "status", "conditions"):
        cond_type = k8s.dig(cond, "type", default="")
        if k8s.dig(cond, "status", default="") != "True":
            continue
        message = " ".join(k8s.dig(cond, "message", default="").split())
        detail = f" ({message})" if message else ""
        if cond_type in RESIZE_FAILURES:
            problems.append(
                Verdict(
                    Status.FAIL,
                    f"resize failed: {cond_type}{detail}",
                    code=RESIZE_FAILED,
                    fix=fixes.fix(describe, docs=fixes.DOCS_EXPANSION_RECOVERY),
                )
            )
        elif cond_type == "FileSystemResizePending":
            problems.append(
                Verdict(
                    Status.WARN,
                    f"FileSystemResizePending{detail}: the file system grows when a pod next "
                    "mounts the volume; restart the pod using it",
                    code=RESIZE_PENDING,
                    fix=fixes.fix(docs=fixes.DOCS_EXPANSION, text="restart the pod that mounts the claim"),
                )
            )
    statuses: Mapping[str, Any] = k8s.dig(pvc, "status", "allocatedResourceStatuses", default={})
    for resource in sorted(statuses, key=str):
        value = statuses[resource]
        if isinstance(value, str) and value.endswith("Infeasible"):
            problems.append(
                Verdict(
                    Status.FAIL,
                    f"{resource} resize is {value}: the driver can never satisfy it; lower "
                    "spec.resources.requests back to the current size",
                    code=RESIZE_INFEASIBLE,
                    fix=_lower_request(pvc, str(resource)),
                )
            )
    resizing = any(
        k8s.dig(c, "type", default="") == "Resizing" and k8s.dig(c, "status", default="") == "True"
        for c in k8s.dict_list(pvc, "status", "conditions")
    ) or any(isinstance(v, str) and v.endswith("InProgress") for v in statuses.values())
    if resizing and not any(p.status is Status.FAIL for p in problems):
        failing = _resize_failing(facts, pvc)
        if failing is not None:
            problems.append(failing)
    return problems


def _lower_request(pvc: Mapping[str, Any], resource: str) -> Fix:
    current = k8s.dig(pvc, "status", "capacity", resource, default="")
    if not current:
        return fixes.fix(docs=fixes.DOCS_EXPANSION_RECOVERY, text="lower spec.resources.requests to the current size")
    patch = fixes.q('{"spec":{"resources":{"requests":{"' + resource + '":"' + str(current) + '"}}}}')
    command = f"kubectl {fixes.ns_flag(k8s.namespace(pvc))}patch pvc {fixes.q(k8s.name(pvc))} -p {patch}"
    return fixes.fix(command, docs=fixes.DOCS_EXPANSION_RECOVERY)


def _class_cause(facts: Facts, sc: Mapping[str, Any] | None) -> Cause | None:
    """The class problem that keeps a claim Pending, when another check reports it."""
    if sc is None:
        return None
    ref = Ref("StorageClass", k8s.name(sc))
    prov = k8s.provisioner(sc)
    if prov in storage.REMOVED_IN_TREE:
        return Cause("KFS-PROVISIONER-REMOVED", ref)
    if prov == k8s.NO_PROVISIONER and k8s.name(sc) == facts.default.name:
        return Cause("KFS-DEFAULT-STATIC", ref)
    if facts.driver_missing(sc):
        return Cause("KFS-PROVISIONER-MISSING", ref)
    return None


def _pending_problem(facts: Facts, pvc: Mapping[str, Any]) -> Verdict | None:
    """None when the claim waits legitimately (WaitForFirstConsumer, no consumer yet)."""
    cls = facts.claim_class(pvc)
    ns, pvc_name = k8s.namespace(pvc), k8s.name(pvc)
    describe = fixes.describe("pvc", pvc_name, ns)
    remedy: Fix | None = fixes.fix(describe, docs=fixes.DOCS_PV)
    cause: Cause | None = None
    if k8s.waits_for_consumer(cls.obj):
        consumers = sorted(k8s.name(pod) for pod in facts.claim_users(ns, pvc_name))
        if not consumers and facts.waits_for_consumer(pvc):
            return None
        if consumers:
            why = f"Pending although pod {', '.join(consumers[:3])} uses it ({WFFC} class {cls.name})"
            code = PENDING_WITH_POD
            remedy = fixes.fix(describe, fixes.describe("pod", consumers[0], ns), docs=fixes.DOCS_BINDING_MODE)
        else:
            prov = k8s.provisioner(cls.obj) if cls.obj is not None else ""
            why = f"Pending: StorageClass {cls.name} ({prov or 'no provisioner'}) has not provisioned it"
            code = PENDING_NOT_PROVISIONED
        cause = _class_cause(facts, cls.obj)
    elif cls.source is ClassSource.NO_DEFAULT:
        why = "Pending: it names no StorageClass and there is no default class"
        code = PENDING_NO_DEFAULT
        cause = Cause("KFS-DEFAULT-NONE", CLUSTER)
        remedy = None
    elif cls.source is ClassSource.EMPTY:
        why = 'Pending: storageClassName "" waits for a matching static PersistentVolume'
        code = PENDING_EMPTY_CLASS
    elif cls.obj is None:
        why = f"Pending: StorageClass {cls.name} does not exist"
        code = PENDING_CLASS_MISSING
        remedy = fixes.fix(describe, "kubectl get storageclass", docs=fixes.DOCS_STORAGE_CLASSES)
    else:
        prov = k8s.provisioner(cls.obj) or "no provisioner"
        why = f"Pending: StorageClass {cls.name} ({prov}) has not provisioned it"
        code = PENDING_NOT_PROVISIONED
        cause = _class_cause(facts, cls.obj)
    return Verdict(
        Status.FAIL,
        f"{why}; {_latest_event(facts, 'PersistentVolumeClaim', ns, pvc_name)}",
        code=code,
        fix=remedy,
        caused_by=cause,
    )


def _claims(facts: Facts) -> Iterator[Finding]:
    healthy: dict[str, Counter[str]] = {}
    for pvc in facts.of("PersistentVolumeClaim"):
        ns, pvc_name = k8s.namespace(pvc), k8s.name(pvc)
        phase = k8s.phase(pvc)
        problems = _condition_problems(facts, pvc)
        state = ""
        if phase == "Lost":
            volume = k8s.dig(pvc, "spec", "volumeName", default="") or "its PersistentVolume"
            problems.insert(
                0,
                Verdict(
                    Status.FAIL,
                    f"Lost: {volume} is gone and the data with it; restore from a backup or re-create the claim",
                    code=LOST,
                    fix=fixes.fix(fixes.describe("pvc", pvc_name, ns), docs=fixes.DOCS_PV_PHASE),
                ),
            )
        elif phase == "Pending":
            pending = _pending_problem(facts, pvc)
            if pending:
                problems.insert(0, pending)
            else:
                state = "waiting for their first consumer"
        elif phase == "Bound":
            state = "Bound"
        else:
            problems.insert(
                0,
                Verdict(
                    Status.FAIL,
                    f"unexpected phase {phase}",
                    code=UNEXPECTED_PHASE,
                    fix=fixes.fix(fixes.describe("pvc", pvc_name, ns)),
                ),
            )
        for p in problems:  # one finding per problem, each with its own code
            yield finding(
                p.status, pvc, f"claim {ns}/{pvc_name}: {p.message}", code=p.code, fix=p.fix, caused_by=p.caused_by
            )
        if not problems:
            healthy.setdefault(ns, Counter())[state] += 1
    for ns in sorted(healthy):
        counts = healthy[ns]
        total = sum(counts.values())
        states = ("Bound", "waiting for their first consumer")
        parts = ", ".join(f"{counts[s]} {s}" for s in states if counts[s])
        noun = "claim" if total == 1 else "claims"
        yield ok(Ref("Namespace", ns), f"{total} healthy {noun} in namespace {ns or '(none)'}: {parts}")


def _released_retain(facts: Facts, pv_name: str, claim_ref: Mapping[str, Any], former: str) -> str:
    """Advice that keeps the orphaned data safe. Clearing spec.claimRef makes the volume Available to
    any claim that matches it; the Kubernetes docs reuse such a volume by pre-binding it to the claim
    that should own it."""
    text = (
        f"PersistentVolume {pv_name} is Released with reclaim policy Retain: it keeps the data of the deleted "
        f"claim {former}, orphaned"
    )
    ns = k8s.dig(claim_ref, "namespace", default="")
    name = k8s.dig(claim_ref, "name", default="")
    again = facts.get("PersistentVolumeClaim", name, ns) if name else None
    prebind = (
        f"pre-bind the claim that should own it: set the volume's spec.claimRef to that claim's namespace and "
        f"name (no uid) and the claim's spec.volumeName to {pv_name}"
    )
    if again is not None:
        volume = k8s.dig(again, "spec", "volumeName", default="")
        holds = f"{k8s.phase(again)} on PersistentVolume {volume}" if volume else k8s.phase(again)
        return (
            f"{text}; a new claim {former} exists ({holds}) and does not hold that data: to give it back, copy "
            f"the data over, or delete and re-create the claim with spec.volumeName: {pv_name} after setting the "
            f"volume's spec.claimRef to it (no uid); never clear spec.claimRef, which lets any matching claim bind "
            "the old data"
        )
    return (
        f"{text}; to recover it, {prebind} (clearing spec.claimRef instead lets any matching claim bind the "
        "data); or delete the volume and its backing storage"
    )


def _prebind(facts: Facts, pv_name: str, claim_ref: Mapping[str, Any]) -> Fix:
    """Commands that hand a Released Retain volume to its claim again: the volume's claimRef names
    the claim (no uid, so it can bind), only when a claim of that name exists to receive it."""
    ns = str(k8s.dig(claim_ref, "namespace", default=""))
    name = str(k8s.dig(claim_ref, "name", default=""))
    show = fixes.get_yaml("pv", pv_name)
    if not name or facts.get("PersistentVolumeClaim", name, ns) is not None:
        # No claim, or a new claim already bound elsewhere: only people can decide; show the volume.
        return fixes.fix(show, docs=fixes.DOCS_RESERVE_PV)
    patch = fixes.q('{"spec":{"claimRef":{"namespace":"' + ns + '","name":"' + name + '","uid":null}}}')
    return fixes.fix(
        show,
        f"kubectl patch pv {fixes.q(pv_name)} -p {patch}",
        docs=fixes.DOCS_RESERVE_PV,
        text=f"then create claim {ns}/{name} with spec.volumeName: {pv_name}, or delete the volume and its disk",
    )


def _volumes(facts: Facts) -> Iterator[Finding]:
    healthy: Counter[str] = Counter()
    for pv in facts.of("PersistentVolume"):
        phase = k8s.phase(pv, default="")
        if phase not in ("Failed", "Released"):  # the common case: count it and move on
            healthy[phase or "no phase"] += 1
            continue
        pv_name = k8s.name(pv)
        claim_ref: Mapping[str, Any] = k8s.dig(pv, "spec", "claimRef", default={})
        ref_name = k8s.dig(claim_ref, "name", default="")
        former = f"{k8s.dig(claim_ref, 'namespace', default='')}/{ref_name}" if ref_name else "(unknown)"
        message = " ".join(k8s.dig(pv, "status", "message", default="").split())
        if phase == "Failed":
            yield fail(
                pv,
                f"PersistentVolume {pv_name} is Failed ({message or 'no message'}); "
                f"{_latest_event(facts, 'PersistentVolume', '', pv_name)}; clean up the backing "
                "storage and delete the volume",
                code=PV_FAILED,
                fix=fixes.fix(fixes.describe("pv", pv_name), docs=fixes.DOCS_PV_PHASE),
            )
        elif phase == "Released":
            policy = k8s.dig(pv, "spec", "persistentVolumeReclaimPolicy", default="Retain")
            if policy == "Retain":
                yield warn(
                    pv,
                    _released_retain(facts, pv_name, claim_ref, former),
                    code=PV_RELEASED_RETAIN,
                    fix=_prebind(facts, pv_name, claim_ref),
                )
            elif policy == "Delete":
                found = facts.events("PersistentVolume", "", pv_name)
                failed = [ev for ev in found if k8s.dig(ev, "reason", default="") == "VolumeFailedDelete"]
                if failed:
                    yield fail(
                        pv,
                        (
                            f"PersistentVolume {pv_name} (claim {former} deleted) could not be deleted: "
                            f"{k8s.describe_event(failed[0])}; fix the provisioner's permissions or delete the "
                            "backing volume by hand, then the PersistentVolume"
                        ),
                        code=PV_DELETE_FAILED,
                        fix=fixes.fix(fixes.describe("pv", pv_name), docs=fixes.DOCS_PV_PHASE),
                    )
                else:
                    yield warn(
                        pv,
                        (
                            f"PersistentVolume {pv_name} is Released with reclaim policy Delete: deleting the "
                            f"volume of claim {former} has not completed; if it persists, check the provisioner's"
                            " logs"
                        ),
                        code=PV_DELETE_PENDING,
                        fix=fixes.fix(fixes.describe("pv", pv_name), docs=fixes.DOCS_PV_PHASE),
                    )
            else:
                yield warn(
                    pv,
                    f"PersistentVolume {pv_name} is Released with the deprecated reclaim policy "
                    f"{policy}: use Retain or Delete",
                    code=PV_RECYCLE,
                    fix=fixes.fix(fixes.retain_pv(pv_name), docs=fixes.DOCS_RECLAIM),
                )
    if healthy:
        parts = ", ".join(f"{healthy[p]} {p}" for p in sorted(healthy))
        total = sum(healthy.values())
        noun = "PersistentVolume" if total == 1 else "PersistentVolumes"
        yield ok(CLUSTER, f"{total} {noun} without trouble: {parts}")


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    if not facts.of("PersistentVolumeClaim") and not facts.of("PersistentVolume"):
        yield skip(CLUSTER, "no PersistentVolumeClaims or PersistentVolumes in the snapshot")
        return
    yield from _claims(facts)
    if not facts.available("PersistentVolume"):
        yield skip(
            CLUSTER,
            f"PersistentVolumes were not checked ({facts.unavailable['PersistentVolume']})",
            code=PV_NOT_READ,
        )
        return
    yield from _volumes(facts)


CHECK = Check(
    id="claim_health",
    title="Claims and volumes are healthy in every namespace",
    kinds=("PersistentVolumeClaim", "StorageClass"),
    optional_kinds=("PersistentVolume", "Pod", "Event"),
    evaluate=evaluate,
    description=__doc__ or "",
    codes=CODES,
    remediation=(
        "kubectl describe pvc CLAIM -n NAMESPACE shows why a claim is Pending (missing class, provisioner not "
        "running, quota, capacity). Lost claims need a restore from backup. For a Released Retain volume, "
        "either recover the data by pre-binding it to the claim that should own it (the volume's spec.claimRef "
        "set to that claim, no uid, and the claim's spec.volumeName set to the volume; clearing spec.claimRef "
        "would let any matching claim bind the old data) or delete the volume and its backing disk. "
        "Resize errors: fix the driver's error or lower the request back to the current size "
        "(RecoverVolumeExpansionFailure); FileSystemResizePending clears when the pod is restarted."
    ),
)
