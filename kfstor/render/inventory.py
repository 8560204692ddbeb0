"""The inventory tables shown in reports: StorageClasses (and the claims on each), CSI drivers,
snapshot classes, Kubeflow's claims and its notebooks with their workspace and shared volumes.

Read from the facts view, so a table never says something about a class or claim that the checks
judged differently; computed once per report (Report.inventory).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kfstor.facts import k8s, kubeflow, storage
from kfstor.facts.view import ClassSource, Facts

# Parameters worth showing in the inventory: the ones that decide durability, sharing and I/O.
KEY_PARAMETERS = (
    "repl",
    "io_profile",
    "priority_io",
    "io_priority",
    "sharedv4",
    "type",
    "fsType",
    "fstype",
    "csi.storage.k8s.io/fstype",
    "numberOfReplicas",
    "backendType",
    "skuName",
    "clusterID",
    "pool",
)


@dataclass(frozen=True, slots=True)
class ClassRow:
    name: str
    provisioner: str
    default: str  # "effective default", "default (not used)" or ""
    binding_mode: str
    reclaim_policy: str
    expansion: bool
    parameters: tuple[tuple[str, str], ...]
    rwx: str  # "yes" / "no" / "unknown"
    rwx_reason: str


@dataclass(frozen=True, slots=True)
class ClaimRow:
    namespace: str
    name: str
    role: str
    phase: str  # "Missing" when the expected claim does not exist
    storage_class: str
    capacity: str  # what the bound volume holds ("" until the claim is Bound)
    access_modes: tuple[str, ...]
    volume: str
    mounted_by: tuple[str, ...]
    requested: str = ""  # spec.resources.requests.storage


@dataclass(frozen=True, slots=True)
class ClassUsage:
    """The claims on one StorageClass (or "(no default)" / '""' for claims without one)."""

    storage_class: str
    claims: int
    requested: str  # the sum of their requests
    bound: str  # the sum of the bound claims' capacity
    phases: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class DriverRow:
    name: str
    attach_required: str  # "yes" / "no" (Kubernetes' default when unset: yes)
    storage_capacity: str  # publishes CSIStorageCapacity: "yes" / "no"
    modes: tuple[str, ...]  # volumeLifecycleModes
    classes: tuple[str, ...]  # StorageClasses that use the driver


@dataclass(frozen=True, slots=True)
class SnapshotClassRow:
    name: str
    driver: str
    deletion_policy: str
    default: bool


@dataclass(frozen=True, slots=True)
class NotebookRow:
    namespace: str
    name: str
    stopped: bool
    workspace: tuple[str, ...]  # its workspace claim(s) ("<name>-workspace", "workspace-<name>", ...)
    shared: tuple[str, ...]  # claims other notebooks mount too
    other: tuple[str, ...]  # its other data volumes


@dataclass(frozen=True, slots=True)
class Inventory:
    classes: tuple[ClassRow, ...] = ()
    claims: tuple[ClaimRow, ...] = ()
    usage: tuple[ClassUsage, ...] = ()
    drivers: tuple[DriverRow, ...] = ()
    snapshot_classes: tuple[SnapshotClassRow, ...] = ()
    notebooks: tuple[NotebookRow, ...] = ()


def build_inventory(facts: Facts) -> Inventory:
    effective = facts.default.name
    class_rows = []
    for name, sc in facts.classes.items():
        default = ""
        if name == effective:
            default = "effective default"
        elif k8s.is_default_class(sc):
            default = "default (not used)"
        params = k8s.parameters(sc)
        rwx = facts.rwx_fs(sc)
        missing = facts.driver_missing(sc)
        if rwx.capable and missing:  # as rwx_available judges it: a class without its driver serves nothing
            rwx = storage.RwxVerdict(False, f"{rwx.reason}, but CSI driver {missing} is not registered")
        class_rows.append(
            ClassRow(
                name=name,
                provisioner=k8s.provisioner(sc),
                default=default,
                binding_mode=k8s.binding_mode(sc),
                reclaim_policy=k8s.reclaim_policy(sc),
                expansion=k8s.allows_expansion(sc),
                parameters=tuple((key, params[key]) for key in KEY_PARAMETERS if key in params),
                rwx={True: "yes", False: "no", None: "unknown"}[rwx.capable],
                rwx_reason=rwx.reason,
            )
        )

    def users(ns: str, claim_name: str) -> tuple[str, ...]:
        pods = facts.claim_users(ns, claim_name)
        return tuple(sorted(f"{k8s.name(p)}@{k8s.pod_node(p)}" if k8s.pod_node(p) else k8s.name(p) for p in pods))

    claim_rows = []
    for row in facts.platform.claims:
        pvc = row.pvc
        if pvc is None:
            claim_rows.append(
                ClaimRow(row.namespace, row.claim.name, row.claim.role, "Missing", "", row.claim.size, (), "", ())
            )
            continue
        capacity = str(k8s.dig(pvc, "status", "capacity", "storage", default="") or "")
        claim_rows.append(
            ClaimRow(
                namespace=row.namespace,
                name=row.claim.name,
                role=row.claim.role,
                phase=k8s.phase(pvc),
                storage_class=row.class_name if row.class_name is not None else "(no default)",
                capacity=capacity,
                access_modes=tuple(k8s.access_modes(pvc)),
                volume=k8s.dig(pvc, "spec", "volumeName", default=""),
                mounted_by=users(row.namespace, row.claim.name),
                requested=k8s.requested_storage(pvc),
            )
        )
    return Inventory(
        classes=tuple(class_rows),
        claims=tuple(claim_rows),
        usage=_usage(facts),
        drivers=_drivers(facts),
        snapshot_classes=_snapshot_classes(facts),
        notebooks=_notebooks(facts),
    )


def _usage(facts: Facts) -> tuple[ClassUsage, ...]:
    """Per class: how many claims, what they request, what is bound, in which phases. One pass
    over the claims, so it stays linear on clusters with tens of thousands of them."""
    claims: Counter[str] = Counter()
    requested: Counter[str] = Counter()
    bound: Counter[str] = Counter()
    phases: dict[str, Counter[str]] = {}
    for pvc in facts.of("PersistentVolumeClaim"):
        cls = facts.claim_class(pvc)
        name = "(no default)" if cls.source is ClassSource.NO_DEFAULT else (cls.name or '""')
        claims[name] += 1
        requested[name] += k8s.quantity_bytes(k8s.requested_storage(pvc)) or 0
        phase = k8s.phase(pvc)
        if phase == "Bound":
            bound[name] += k8s.quantity_bytes(k8s.dig(pvc, "status", "capacity", "storage", default="")) or 0
        phases.setdefault(name, Counter())[phase] += 1
    rows = []
    for name in sorted(claims):
        rows.append(
            ClassUsage(
                storage_class=name,
                claims=claims[name],
                requested=k8s.format_bytes(requested[name]),
                bound=k8s.format_bytes(bound[name]),
                phases=tuple(sorted(phases[name].items(), key=lambda kv: (-kv[1], kv[0]))),
            )
        )
    return tuple(rows)


def _drivers(facts: Facts) -> tuple[DriverRow, ...]:
    users: dict[str, list[str]] = {}
    for name, sc in facts.classes.items():
        users.setdefault(storage.csi_name(k8s.provisioner(sc)), []).append(name)
    rows = []
    for name, driver in sorted((facts.csi_drivers or {}).items()):
        spec: Mapping[str, Any] = k8s.dig(driver, "spec", default={})
        rows.append(
            DriverRow(
                name=name,
                attach_required="no" if k8s.dig(spec, "attachRequired", default=True) is False else "yes",
                storage_capacity="yes" if k8s.dig(spec, "storageCapacity", default=False) is True else "no",
                modes=tuple(k8s.str_list(driver, "spec", "volumeLifecycleModes")) or ("Persistent",),
                classes=tuple(users.get(name, [])),
            )
        )
    return tuple(rows)


def _snapshot_classes(facts: Facts) -> tuple[SnapshotClassRow, ...]:
    rows = []
    for vsc in sorted(facts.of("VolumeSnapshotClass"), key=k8s.name):
        default = k8s.annotations(vsc).get("snapshot.storage.kubernetes.io/is-default-class") == "true"
        rows.append(
            SnapshotClassRow(
                name=k8s.name(vsc),
                driver=str(k8s.dig(vsc, "driver", default="")),
                deletion_policy=str(k8s.dig(vsc, "deletionPolicy", default="")),
                default=default,
            )
        )
    return tuple(rows)


def _notebooks(facts: Facts) -> tuple[NotebookRow, ...]:
    """Notebooks (Notebook objects, else their StatefulSets) and the claims their pods mount. A
    workspace is a claim whose name says so; a claim two notebooks mount is shared."""
    found: dict[tuple[str, str], tuple[bool, set[str]]] = {}
    for nb in facts.of("Notebook"):
        key = (k8s.namespace(nb), k8s.name(nb))
        found[key] = (kubeflow.is_stopped(nb), set(k8s.claim_names(nb)))
    for sts in facts.of("StatefulSet"):
        if not kubeflow.is_notebook_statefulset(sts):
            continue
        key = (k8s.namespace(sts), k8s.name(sts))
        stopped, claims = found.get(key, (False, set()))
        found[key] = (stopped or kubeflow.is_stopped(sts), claims | set(k8s.claim_names(sts)))
    users: Counter[tuple[str, str]] = Counter()
    for (ns, _), (_, claims) in found.items():
        for claim in claims:
            users[(ns, claim)] += 1
    rows = []
    for (ns, name), (stopped, claims) in sorted(found.items()):
        workspace = tuple(sorted(c for c in claims if "workspace" in c))
        shared = tuple(sorted(c for c in claims if users[(ns, c)] > 1 and c not in workspace))
        other = tuple(sorted(claims - set(workspace) - set(shared)))
        rows.append(NotebookRow(ns, name, stopped, workspace, shared, other))
    return tuple(rows)
