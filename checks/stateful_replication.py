"""Kubeflow's databases and object store survive the loss of a node.

MySQL (or PostgreSQL) and the artifact store (SeaweedFS or MinIO) run as single-replica
Deployments, so their availability comes from the storage alone: the volume must keep copies on
more than one node. For each database and object-store claim (pre-install: the effective default
StorageClass) kfstor reads what the class's parameters say:

- Portworx (`pxd.portworx.com`, `kubernetes.io/portworx-volume`): `repl` at or above the
  option `min_replicas` (default 3): pass; 2: warn; 1 or unset (Portworx's default is 1): warn,
  a single node failure loses Kubeflow's metadata.
- Longhorn: `numberOfReplicas` (Longhorn's default 3) judged the same way.
- node-local provisioners (local-path, OpenEBS LocalPV, TopoLVM, hostpath provisioners,
  `kubernetes.io/no-provisioner` static local volumes): warn, the data lives on one node.
- Ceph RBD/CephFS: pass, replicated by the Ceph pool (its size is not visible in the class).
- cloud block disks: pass, naming what protects them: AWS EBS (replicated within its zone),
  GCE PD (zonal, or across two zones with `replication-type: regional-pd`), Azure Disk (LRS:
  one datacenter, ZRS: across zones, from `skuName`); other backends that replicate by
  themselves (EFS, Filestore, Azure Files, vSphere, Cinder, Trident, Dell, cStor, GlusterFS): pass.
- NFS and unknown provisioners: warn "cannot verify replication".

With `--manifests`, each planned database or object-store claim is judged on the class it will
get (pre-install: instead of the default class).

One finding per claim. Claims that are missing or name no existing class are skipped
(kubeflow_claims reports them), except that a class-less claim bound to a `local`/`hostPath`
PersistentVolume warns as node-local; `authservice-pvc` (login sessions) is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kfstor.api import (
    CLUSTER,
    Check,
    Context,
    Facts,
    Finding,
    PlatformClaimFacts,
    Status,
    Verdict,
    finding,
    k8s,
    skip,
    storage,
    warn,
)

Obj = Mapping[str, Any]
DEFAULT_MIN_REPLICAS = 3
LONGHORN_DEFAULT_REPLICAS = 3
PORTWORX_MAX_REPL = 3


def _min_replicas(ctx: Context) -> int:
    value = ctx.option("min_replicas", DEFAULT_MIN_REPLICAS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"option min_replicas must be a whole number of at least 1, not {value!r}")
    return value


def _count(system: str, setting: str, count: int, minimum: int, subject: str) -> Verdict:
    if count >= minimum:
        return Verdict(Status.PASS, f"{system} keeps {count} replicas ({setting}), at least the required {minimum}")
    if count <= 1:
        return Verdict(
            Status.WARN,
            (
                f"{system} keeps a single copy ({setting}): a single node failure loses "
                f"{subject}; use a class with {minimum} replicas"
            ),
        )
    return Verdict(
        Status.WARN,
        (
            f"{system} keeps only {count} replicas ({setting}), below the required {minimum}: "
            f"a second failure loses {subject}; use a class with {minimum} replicas"
        ),
    )


def _param(params: Mapping[str, str], *keys: str) -> str:
    """A parameter by any of its spellings, case-insensitively (Azure's drivers accept any case)."""
    lowered = {k.lower(): v for k, v in params.items()}
    for key in keys:
        if key.lower() in lowered:
            return lowered[key.lower()].strip()
    return ""


def _judge(sc: Obj, minimum: int, subject: str) -> Verdict:
    prov = k8s.provisioner(sc)
    params = k8s.parameters(sc)
    if prov in storage.REMOVED_IN_TREE:
        return Verdict(
            Status.WARN,
            (f"{prov} is a removed in-tree plugin: cannot verify replication (provisioner_installed fails the class)"),
        )
    info = storage.backend(prov)
    if storage.is_portworx(sc):
        raw = params.get("repl", "").strip()
        if not raw:
            return _count("Portworx", "repl unset, Portworx's default is 1", 1, minimum, subject)
        replicas = k8s.count(raw)
        if replicas is None:
            return Verdict(
                Status.WARN,
                (f'Portworx repl "{raw}" is not a number: cannot verify replication (portworx_parameters fails it)'),
            )
        if replicas > PORTWORX_MAX_REPL or replicas < 1:
            return Verdict(
                Status.WARN,
                (
                    f'Portworx repl "{raw}" is outside 1-3, so Portworx rejects the volume '
                    "(portworx_parameters fails it)"
                ),
            )
        return _count("Portworx", f'repl: "{raw}"', replicas, minimum, subject)
    if info.node_local:
        return Verdict(
            Status.WARN,
            (
                f"{info.label} ({prov}) keeps each volume on one node's disk: a single node "
                f"failure loses {subject}; use a replicated class"
            ),
        )
    if info.family == "longhorn":
        raw = params.get("numberOfReplicas", "").strip()
        if not raw:
            return _count(
                "Longhorn",
                "numberOfReplicas unset, Longhorn's default is 3",
                LONGHORN_DEFAULT_REPLICAS,
                minimum,
                subject,
            )
        replicas = k8s.count(raw)
        if replicas is None:
            return Verdict(Status.WARN, f'Longhorn numberOfReplicas "{raw}" is not a number: cannot verify it')
        return _count("Longhorn", f'numberOfReplicas: "{raw}"', replicas, minimum, subject)
    if info.family in ("ceph-rbd", "cephfs", "ceph-nfs"):
        pool = params.get("pool") or params.get("fsName") or ""
        where = f"Ceph pool {pool}" if pool else "the Ceph pool"
        return Verdict(
            Status.PASS,
            (
                f"{info.label}: replicated by the {where} (its size is not visible in the "
                "class; ceph osd pool get <pool> size shows it)"
            ),
        )
    if info.family == "aws-ebs":
        return Verdict(Status.PASS, "AWS EBS volumes are replicated within their availability zone by AWS")
    if info.family == "gce-pd":
        if _param(params, "replication-type").lower() == "regional-pd":
            return Verdict(Status.PASS, "regional GCE persistent disk: synchronously replicated across two zones")
        return Verdict(
            Status.PASS,
            (
                "zonal GCE persistent disk: replicated within its zone by Google (a zone outage "
                "makes it unavailable; replication-type: regional-pd survives one)"
            ),
        )
    if info.family == "azure-disk":
        sku = _param(params, "skuName", "storageaccounttype")
        if "zrs" in sku.lower():
            return Verdict(Status.PASS, f"Azure Disk {sku}: zone-redundant, copies across availability zones")
        shown = sku or "default SKU"
        return Verdict(
            Status.PASS,
            (
                f"Azure Disk {shown}: locally redundant (three copies in one datacenter; a ZRS "
                "skuName survives a zone outage)"
            ),
        )
    if info.replicated is True:
        return Verdict(Status.PASS, f"{info.label} ({prov}) replicates data in its storage system")
    if info.family == "nfs":
        return Verdict(
            Status.WARN,
            (
                f"cannot verify replication: {info.label} ({prov}) stores data on an NFS server "
                "kfstor cannot see; make sure that server is highly available"
            ),
        )
    return Verdict(
        Status.WARN,
        (
            f"cannot verify replication of provisioner {prov}: confirm the backend keeps more "
            "than one copy of each volume"
        ),
    )


def _planned(facts: Facts, minimum: int) -> Iterator[Finding]:
    """The planned database claims (--manifests), on the class each will get."""
    for entry in facts.platform.planned_databases:
        if entry.storage_class is None:
            yield skip(
                entry.ref,
                f"{entry.label}: StorageClass {entry.class_text} does not exist, so its replication cannot be "
                "judged; kubeflow_claims reports the claim",
            )
            continue
        verdict = _judge(entry.storage_class, minimum, f"the {entry.claim.role} data")
        yield finding(verdict.status, entry.ref, f"{entry.label} on StorageClass {entry.class_text}: {verdict.message}")


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    minimum = _min_replicas(ctx)
    platform = facts.platform
    yield from _planned(facts, minimum)
    if not platform.installed and facts.plan.from_manifests:
        if not platform.planned_databases:
            yield skip(CLUSTER, "pre-install: the manifests create no database or object-store claims")
        return
    if not platform.installed:
        default = platform.future_class
        if default is None:
            yield skip(
                CLUSTER,
                "pre-install: Kubeflow is not installed and there is no default StorageClass "
                "to judge (default_storage_class reports it)",
            )
            return
        verdict = _judge(default, minimum, "Kubeflow's metadata")
        yield finding(
            verdict.status,
            default,
            f"pre-install: default StorageClass {k8s.name(default)}, which "
            f"Kubeflow's databases will use: {verdict.message}",
        )
        return
    for unjudged, why in platform.not_judged():
        yield skip(unjudged, why)
    for row in platform.databases:
        where = f"{row.claim.role} claim {row.where}"
        subject = f"the {row.claim.role} data"
        if row.storage_class is None:
            yield _classless(row, where, subject)
            continue
        assert row.pvc is not None  # Platform.databases holds existing claims only
        verdict = _judge(row.storage_class, minimum, subject)
        yield finding(
            verdict.status, row.pvc, f"{where} on StorageClass {k8s.name(row.storage_class)}: {verdict.message}"
        )


def _classless(row: PlatformClaimFacts, where: str, subject: str) -> Finding:
    assert row.pvc is not None  # Platform.databases holds existing claims only
    pv = row.pv
    if pv is not None:
        for source in ("local", "hostPath"):
            if k8s.dig(pv, "spec", source, default={}):
                return warn(
                    row.pvc,
                    f"{where} is bound to the {source} PersistentVolume {k8s.name(pv)}, which "
                    f"lives on one node: a single node failure loses {subject}; move it to a "
                    "replicated class",
                )
    what = f"StorageClass {row.class_name} does not exist" if row.class_name else "it has no StorageClass"
    return skip(row.pvc, f"{where}: {what}, so its replication cannot be judged; kubeflow_claims reports the claim")


CHECK = Check(
    id="stateful_replication",
    title="Kubeflow's databases are on replicated storage",
    kinds=("StorageClass", "PersistentVolumeClaim"),
    optional_kinds=("PersistentVolume", "Deployment"),
    evaluate=evaluate,
    description=__doc__ or "",
    remediation=(
        'Put Kubeflow\'s MySQL and object store on a class that keeps several copies: Portworx repl: "3" '
        '(with io_profile: db_remote), Longhorn numberOfReplicas: "3", Ceph RBD, or a cloud disk (regional '
        "PD or Azure ZRS for zone outages). Classes are immutable: create a new class and migrate the data; "
        "for Portworx, pxctl volume ha-update --repl 3 <volume> raises an existing volume's replication. "
        "Node-local storage is only for throw-away test clusters."
    ),
    options={"min_replicas": DEFAULT_MIN_REPLICAS},
)
