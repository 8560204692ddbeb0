"""The inventory tables shown in reports: StorageClasses and Kubeflow's claims.

Read from the facts view, so a table never says something about a class or claim that the checks
judged differently; computed once per report (Report.inventory).
"""

from __future__ import annotations

from dataclasses import dataclass

from kfstor.facts import k8s, storage
from kfstor.facts.view import Facts

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
    capacity: str
    access_modes: tuple[str, ...]
    volume: str
    mounted_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Inventory:
    classes: tuple[ClassRow, ...] = ()
    claims: tuple[ClaimRow, ...] = ()


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
        capacity = str(k8s.dig(pvc, "status", "capacity", "storage", default="") or k8s.requested_storage(pvc))
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
            )
        )
    return Inventory(classes=tuple(class_rows), claims=tuple(claim_rows))
