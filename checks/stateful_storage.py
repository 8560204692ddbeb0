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
is judged the same way and reported against that StorageClass.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kfstor.api import CLUSTER, Check, Context, Finding, Snapshot, k8s, kubeflow, ok, skip, storage, warn

Obj = Mapping[str, Any]


def _problems(sc: Obj, pv: Obj | None, subject: str) -> tuple[list[str], list[str]]:
    """(problems, verified facts) for the class (and bound volume) behind one subject."""
    problems: list[str] = []
    fine: list[str] = []
    shared = storage.shared_filesystem(sc)
    if shared:
        problems.append(
            f"the class is a shared file system, {shared}: write-heavy databases need block storage, "
            "use a block "
            "class (ReadWriteOnce) for it"
        )
    else:
        fine.append("block storage")
    class_policy = k8s.reclaim_policy(sc)
    pv_policy = k8s.dig(pv, "spec", "persistentVolumeReclaimPolicy", default="") if pv is not None else ""
    if pv is not None and pv_policy:
        pv_name = k8s.name(pv)
        if pv_policy == "Retain":
            note = f" although the class says {class_policy}" if class_policy != "Retain" else ""
            fine.append(f"PersistentVolume {pv_name} is Retain{note}")
        else:
            problems.append(
                f"its PersistentVolume {pv_name} has reclaim policy {pv_policy}: deleting the "
                f"claim destroys {subject}; patch the volume's persistentVolumeReclaimPolicy to "
                "Retain"
            )
    elif class_policy == "Retain":
        fine.append("the class is Retain")
    else:
        problems.append(
            f"the class has reclaimPolicy {class_policy}: deleting the claim destroys {subject}; "
            "use a Retain class or patch the bound volume to Retain"
        )
    if k8s.allows_expansion(sc):
        fine.append("volume expansion allowed")
    else:
        problems.append(
            "the class does not allow volume expansion, so a full volume cannot grow; set allowVolumeExpansion: true"
        )
    return problems, fine


def _finding(subject_obj: Obj, label: str, sc: Obj, pv: Obj | None, subject: str) -> Finding:
    problems, fine = _problems(sc, pv, subject)
    on = " " if label.endswith("default class") else " on StorageClass "
    prefix = f"{label}{on}{k8s.name(sc)}: "
    if problems:
        return warn(subject_obj, prefix + "; ".join(problems))
    return ok(subject_obj, prefix + ", ".join(fine))


def evaluate(snap: Snapshot, ctx: Context) -> Iterator[Finding]:
    classes = snap.of("StorageClass")
    rows = kubeflow.claims_with_classes(snap, ctx.namespace)
    if not rows:
        default = k8s.effective_default_class(classes)
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
    for row in kubeflow.database_rows(rows):
        if isinstance(row, Finding):
            yield row
            continue
        assert row.pvc is not None  # database_rows yields only rows with a claim
        where = f"{row.namespace}/{row.claim.name}"
        if row.storage_class is None:
            what = f"StorageClass {row.class_name} does not exist" if row.class_name else "it has no StorageClass"
            yield skip(
                row.pvc, f"claim {where}: {what}, so its storage cannot be judged; kubeflow_claims reports the claim"
            )
            continue
        volume = k8s.dig(row.pvc, "spec", "volumeName", default="")
        pv = snap.get("PersistentVolume", volume) if volume else None
        yield _finding(row.pvc, f"{row.claim.role} claim {where}", row.storage_class, pv, f"the {row.claim.role} data")


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
