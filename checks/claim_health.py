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

from kfstor.api import CLUSTER, Check, Context, Finding, Ref, Snapshot, fail, k8s, ok, skip, warn

WFFC = "WaitForFirstConsumer"
RESIZE_FAILURES = ("ControllerResizeError", "NodeResizeError")


class Events:
    """Events by object (k8s.object_events), looked up on first need: healthy clusters never
    pay for the index."""

    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap

    def get(self, key: tuple[str, str, str]) -> list[Mapping[str, Any]]:
        return k8s.object_events(self._snap).get(key, [])


class Users:
    """Names of the active pods using each claim (k8s.claim_users), looked up on first need."""

    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap

    def get(self, key: tuple[str, str]) -> list[str]:
        return sorted(k8s.name(pod) for pod in k8s.claim_users(self._snap).get(key, []))


def _latest_event(events: Events, kind: str, ns: str, obj_name: str) -> str:
    found = events.get((kind, ns, obj_name))
    if not found:
        return "no events recorded (events expire after an hour; kubectl describe shows new ones)"
    return f"latest event {k8s.describe_event(found[0])}"


def _condition_problems(pvc: Mapping[str, Any]) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []
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
            problems.append((2, f"resize failed: {cond_type}{detail}"))
        elif cond_type == "FileSystemResizePending":
            problems.append(
                (
                    1,
                    f"FileSystemResizePending{detail}: the file system grows when a pod next "
                    "mounts the volume; restart the pod using it",
                )
            )
    statuses: Mapping[str, Any] = k8s.dig(pvc, "status", "allocatedResourceStatuses", default={})
    for resource in sorted(statuses, key=str):
        value = statuses[resource]
        if isinstance(value, str) and value.endswith("Infeasible"):
            problems.append(
                (
                    2,
                    f"{resource} resize is {value}: the driver can never satisfy it; lower "
                    "spec.resources.requests back to the current size",
                )
            )
    return problems


def _pending_problem(
    pvc: Mapping[str, Any], classes: Mapping[str, Mapping[str, Any]], default: str | None, users: Users, events: Events
) -> tuple[int, str] | None:
    """None when the claim waits legitimately (WaitForFirstConsumer, no consumer yet)."""
    wanted = k8s.claim_class_name(pvc)
    sc_name = default if wanted is None else wanted
    sc = classes.get(sc_name or "")
    ns, pvc_name = k8s.namespace(pvc), k8s.name(pvc)
    if sc is not None and k8s.binding_mode(sc) == WFFC:
        consumers = users.get((ns, pvc_name))
        if not consumers:
            return None
        why = f"Pending although pod {', '.join(consumers[:3])} uses it ({WFFC} class {sc_name})"
    elif sc_name is None:
        why = "Pending: it names no StorageClass and there is no default class"
    elif sc_name == "":
        why = 'Pending: storageClassName "" waits for a matching static PersistentVolume'
    elif sc is None:
        why = f"Pending: StorageClass {sc_name} does not exist"
    else:
        prov = k8s.provisioner(sc) or "no provisioner"
        why = f"Pending: StorageClass {sc_name} ({prov}) has not provisioned it"
    return 2, f"{why}; {_latest_event(events, 'PersistentVolumeClaim', ns, pvc_name)}"


def _claims(snap: Snapshot, events: Events) -> Iterator[Finding]:
    classes_list = snap.of("StorageClass")
    classes = {k8s.name(sc): sc for sc in classes_list}
    default_sc = k8s.effective_default_class(classes_list)
    default = k8s.name(default_sc) if default_sc is not None else None
    users = Users(snap)
    healthy: dict[str, Counter[str]] = {}
    for pvc in snap.of("PersistentVolumeClaim"):
        ns, pvc_name = k8s.namespace(pvc), k8s.name(pvc)
        phase = k8s.phase(pvc)
        problems = _condition_problems(pvc)
        state = ""
        if phase == "Lost":
            volume = k8s.dig(pvc, "spec", "volumeName", default="") or "its PersistentVolume"
            problems.insert(
                0, (2, f"Lost: {volume} is gone and the data with it; restore from a backup or re-create the claim")
            )
        elif phase == "Pending":
            pending = _pending_problem(pvc, classes, default, users, events)
            if pending:
                problems.insert(0, pending)
            else:
                state = "waiting for their first consumer"
        elif phase == "Bound":
            state = "Bound"
        else:
            problems.insert(0, (2, f"unexpected phase {phase}"))
        if problems:
            level = max(p[0] for p in problems)
            text = f"claim {ns}/{pvc_name}: " + "; ".join(p[1] for p in problems)
            yield fail(pvc, text) if level == 2 else warn(pvc, text)
        else:
            healthy.setdefault(ns, Counter())[state] += 1
    for ns in sorted(healthy):
        counts = healthy[ns]
        total = sum(counts.values())
        states = ("Bound", "waiting for their first consumer")
        parts = ", ".join(f"{counts[s]} {s}" for s in states if counts[s])
        noun = "claim" if total == 1 else "claims"
        yield ok(Ref("Namespace", ns), f"{total} healthy {noun} in namespace {ns or '(none)'}: {parts}")


def _volumes(snap: Snapshot, events: Events) -> Iterator[Finding]:
    healthy: Counter[str] = Counter()
    for pv in snap.of("PersistentVolume"):
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
                f"{_latest_event(events, 'PersistentVolume', '', pv_name)}; clean up the backing "
                "storage and delete the volume",
            )
        elif phase == "Released":
            policy = k8s.dig(pv, "spec", "persistentVolumeReclaimPolicy", default="Retain")
            if policy == "Retain":
                yield warn(
                    pv,
                    (
                        f"PersistentVolume {pv_name} is Released with reclaim policy Retain: it keeps the data of"
                        f" the deleted claim {former}, orphaned; recover it (clear spec.claimRef and re-bind) or "
                        "delete the volume and its backing storage"
                    ),
                )
            elif policy == "Delete":
                found = events.get(("PersistentVolume", "", pv_name))
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


def evaluate(snap: Snapshot, ctx: Context) -> Iterator[Finding]:
    if not snap.of("PersistentVolumeClaim") and not snap.of("PersistentVolume"):
        yield skip(CLUSTER, "no PersistentVolumeClaims or PersistentVolumes in the snapshot")
        return
    events = Events(snap)
    yield from _claims(snap, events)
    if not snap.available("PersistentVolume"):
        yield skip(CLUSTER, f"PersistentVolumes were not checked ({snap.unavailable['PersistentVolume']})")
        return
    yield from _volumes(snap, events)


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
        "either recover the data (remove spec.claimRef so a new claim can bind) or delete the volume and its "
        "backing disk. Resize errors: fix the driver's error or lower the request back to the current size "
        "(RecoverVolumeExpansionFailure); FileSystemResizePending clears when the pod is restarted."
    ),
)
