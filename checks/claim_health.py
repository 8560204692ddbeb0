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

Healthy claims are summarised by one pass finding per namespace, and healthy volumes by one
cluster-wide pass finding, so clusters with tens of thousands of claims stay readable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from kfstor.api import (
    CLUSTER,
    Check,
    ClassSource,
    Context,
    Facts,
    Finding,
    Ref,
    Status,
    Verdict,
    fail,
    finding,
    k8s,
    ok,
    skip,
    warn,
    worst,
)

WFFC = k8s.WFFC
RESIZE_FAILURES = ("ControllerResizeError", "NodeResizeError")


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
    )


def _condition_problems(facts: Facts, pvc: Mapping[str, Any]) -> list[Verdict]:
    problems: list[Verdict] = []
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
            problems.append(Verdict(Status.FAIL, f"resize failed: {cond_type}{detail}"))
        elif cond_type == "FileSystemResizePending":
            problems.append(
                Verdict(
                    Status.WARN,
                    f"FileSystemResizePending{detail}: the file system grows when a pod next "
                    "mounts the volume; restart the pod using it",
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


def _pending_problem(facts: Facts, pvc: Mapping[str, Any]) -> Verdict | None:
    """None when the claim waits legitimately (WaitForFirstConsumer, no consumer yet)."""
    cls = facts.claim_class(pvc)
    ns, pvc_name = k8s.namespace(pvc), k8s.name(pvc)
    if k8s.waits_for_consumer(cls.obj):
        consumers = sorted(k8s.name(pod) for pod in facts.claim_users(ns, pvc_name))
        if not consumers and facts.waits_for_consumer(pvc):
            return None
        if consumers:
            why = f"Pending although pod {', '.join(consumers[:3])} uses it ({WFFC} class {cls.name})"
        else:
            prov = k8s.provisioner(cls.obj) if cls.obj is not None else ""
            why = f"Pending: StorageClass {cls.name} ({prov or 'no provisioner'}) has not provisioned it"
    elif cls.source is ClassSource.NO_DEFAULT:
        why = "Pending: it names no StorageClass and there is no default class"
    elif cls.source is ClassSource.EMPTY:
        why = 'Pending: storageClassName "" waits for a matching static PersistentVolume'
    elif cls.obj is None:
        why = f"Pending: StorageClass {cls.name} does not exist"
    else:
        prov = k8s.provisioner(cls.obj) or "no provisioner"
        why = f"Pending: StorageClass {cls.name} ({prov}) has not provisioned it"
    return Verdict(Status.FAIL, f"{why}; {_latest_event(facts, 'PersistentVolumeClaim', ns, pvc_name)}")


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
            problems.insert(0, Verdict(Status.FAIL, f"unexpected phase {phase}"))
        if problems:
            text = f"claim {ns}/{pvc_name}: " + "; ".join(p.message for p in problems)
            yield finding(worst(p.status for p in problems), pvc, text)
        else:
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
            )
        elif phase == "Released":
            policy = k8s.dig(pv, "spec", "persistentVolumeReclaimPolicy", default="Retain")
            if policy == "Retain":
                yield warn(pv, _released_retain(facts, pv_name, claim_ref, former))
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
                    )
                else:
                    yield warn(
                        pv,
                        (
                            f"PersistentVolume {pv_name} is Released with reclaim policy Delete: deleting the "
                            f"volume of claim {former} has not completed; if it persists, check the provisioner's"
                            " logs"
                        ),
                    )
            else:
                yield warn(
                    pv,
                    f"PersistentVolume {pv_name} is Released with the deprecated reclaim policy "
                    f"{policy}: use Retain or Delete",
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
        yield skip(CLUSTER, f"PersistentVolumes were not checked ({facts.unavailable['PersistentVolume']})")
        return
    yield from _volumes(facts)


CHECK = Check(
    id="claim_health",
    title="Claims and volumes are healthy in every namespace",
    kinds=("PersistentVolumeClaim", "StorageClass"),
    optional_kinds=("PersistentVolume", "Pod", "Event"),
    evaluate=evaluate,
    description=__doc__ or "",
    remediation=(
        "kubectl describe pvc <name> -n <ns> shows why a claim is Pending (missing class, provisioner not "
        "running, quota, capacity). Lost claims need a restore from backup. For a Released Retain volume, "
        "either recover the data by pre-binding it to the claim that should own it (the volume's spec.claimRef "
        "set to that claim, no uid, and the claim's spec.volumeName set to the volume; clearing spec.claimRef "
        "would let any matching claim bind the old data) or delete the volume and its backing disk. "
        "Resize errors: fix the driver's error or lower the request back to the current size "
        "(RecoverVolumeExpansionFailure); FileSystemResizePending clears when the pod is restarted."
    ),
)
