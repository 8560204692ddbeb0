"""Kubeflow's databases and object store sit on storage fit for them.

Pipelines' MySQL (or PostgreSQL), Katib's MySQL and the artifact store (SeaweedFS or MinIO) are
write-heavy, fsync-bound services holding all of Kubeflow's metadata. For each of their claims
(the database and object-store claims of kubeflow_claims) kfstor judges the StorageClass behind it:

- a shared network file system (NFS, GlusterFS, CephFS, EFS, Azure Files, Filestore, Portworx
  sharedv4, ...): warn, databases need block storage (slow fsync, locking and corruption risk);
- reclaim policy `Delete`: warn, deleting the claim (`kubectl delete -k`, a namespace deletion,
  `--prune`) destroys the volume and Kubeflow's metadata with it. The bound PersistentVolume's
  own `persistentVolumeReclaimPolicy` decides what really happens, so a PV patched to `Retain`
  makes this aspect pass (and a PV patched to `Delete` under a Retain class warns);
- no `allowVolumeExpansion: true`: warn, the 20Gi/10Gi volumes cannot grow when they fill up.

One finding per claim, combining every problem of that claim into one message (the status is
warn when any aspect warns, pass otherwise, and a pass message says what was verified).
Claims that are missing, or whose class does not exist, are skipped here (kubeflow_claims
reports them); claims holding no database (`authservice-pvc`'s login sessions) are skipped.

Before Kubeflow is installed, the effective default StorageClass (which its claims will use)
is judged the same way and reported against that StorageClass. With `--manifests`, each planned
database or object-store claim (recognized from the image that mounts it: MySQL, PostgreSQL,
MinIO, SeaweedFS, ...) is judged on the class it will get instead, one finding per claim.
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
    Ref,
    Status,
    Verdict,
    finding,
    k8s,
    skip,
    storage,
    worst,
)

Obj = Mapping[str, Any]


def _filesystem(sc: Obj) -> Verdict:
    shared = storage.shared_filesystem(sc)
    if shared:
        return Verdict(
            Status.WARN,
            f"the class is a shared file system, {shared}: write-heavy databases need block storage, "
            "use a block class (ReadWriteOnce) for it",
        )
    return Verdict(Status.PASS, "block storage")


def _reclaim(sc: Obj, pv: Obj | None, subject: str) -> Verdict:
    """The bound volume's own policy decides what deleting the claim does; the class's only when
    there is no volume yet."""
    class_policy = k8s.reclaim_policy(sc)
    pv_policy = k8s.dig(pv, "spec", "persistentVolumeReclaimPolicy", default="") if pv is not None else ""
    if pv is not None and pv_policy:
        pv_name = k8s.name(pv)
        if pv_policy == "Retain":
            note = f" although the class says {class_policy}" if class_policy != "Retain" else ""
            return Verdict(Status.PASS, f"PersistentVolume {pv_name} is Retain{note}")
        return Verdict(
            Status.WARN,
            f"its PersistentVolume {pv_name} has reclaim policy {pv_policy}: deleting the "
            f"claim destroys {subject}; patch the volume's persistentVolumeReclaimPolicy to Retain",
        )
    if class_policy == "Retain":
        return Verdict(Status.PASS, "the class is Retain")
    return Verdict(
        Status.WARN,
        f"the class has reclaimPolicy {class_policy}: deleting the claim destroys {subject}; "
        "use a Retain class or patch the bound volume to Retain",
    )


def _expansion(sc: Obj) -> Verdict:
    if k8s.allows_expansion(sc):
        return Verdict(Status.PASS, "volume expansion allowed")
    return Verdict(
        Status.WARN,
        "the class does not allow volume expansion, so a full volume cannot grow; set allowVolumeExpansion: true",
    )


def _finding(subject_obj: Obj | Ref, label: str, sc: Obj, pv: Obj | None, subject: str) -> Finding:
    verdicts = [_filesystem(sc), _reclaim(sc, pv, subject), _expansion(sc)]
    status = worst(v.status for v in verdicts)
    on = " " if label.endswith("default class") else " on StorageClass "
    prefix = f"{label}{on}{k8s.name(sc)}: "
    if status is Status.PASS:
        return finding(status, subject_obj, prefix + ", ".join(v.message for v in verdicts))
    return finding(status, subject_obj, prefix + "; ".join(v.message for v in verdicts if v.status is not Status.PASS))


def _planned(facts: Facts) -> Iterator[Finding]:
    """The planned database claims (--manifests), on the class each will get."""
    for entry in facts.platform.planned_databases:
        if entry.storage_class is None:
            yield skip(
                entry.ref,
                f"{entry.label}: StorageClass {entry.class_text} does not exist, so its storage cannot be judged; "
                "kubeflow_claims reports the claim",
            )
            continue
        yield _finding(entry.ref, entry.label, entry.storage_class, None, f"the {entry.claim.role} data")


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    platform = facts.platform
    yield from _planned(facts)
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
        yield _finding(
            default,
            "pre-install: Kubeflow's databases and object store will use the default class",
            default,
            None,
            "Kubeflow's metadata",
        )
        return
    for unjudged, why in platform.not_judged():
        yield skip(unjudged, why)
    for row in platform.databases:
        assert row.pvc is not None  # Platform.databases holds existing claims only
        if row.storage_class is None:
            what = f"StorageClass {row.class_name} does not exist" if row.class_name else "it has no StorageClass"
            yield skip(
                row.pvc,
                f"claim {row.where}: {what}, so its storage cannot be judged; kubeflow_claims reports the claim",
            )
            continue
        yield _finding(
            row.pvc, f"{row.claim.role} claim {row.where}", row.storage_class, row.pv, f"the {row.claim.role} data"
        )


CHECK = Check(
    id="stateful_storage",
    title="Kubeflow's databases use block storage that is retained and expandable",
    kinds=("StorageClass", "PersistentVolumeClaim"),
    optional_kinds=("PersistentVolume", "Deployment"),
    evaluate=evaluate,
    description=__doc__ or "",
    remediation=(
        "Put Kubeflow's MySQL/PostgreSQL and object store on a block StorageClass (not NFS-like) with "
        "allowVolumeExpansion: true (kubectl patch storageclass <name> -p "
        "'{\"allowVolumeExpansion\":true}'). Protect the data from claim deletion: kubectl patch pv <volume> "
        '-p \'{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}\', or use a class with '
        "reclaimPolicy: Retain."
    ),
)
