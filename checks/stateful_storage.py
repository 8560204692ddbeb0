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

One finding per problem, each with its code (KFS-DB-SHARED-FS, KFS-DB-RECLAIM-DELETE,
KFS-DB-NO-EXPANSION), so a waiver of one problem never hides another; a claim without problems
gets one pass finding saying what was verified. The check warns when any problem is found.
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
    Cause,
    Check,
    Code,
    Context,
    Facts,
    Finding,
    Ref,
    Status,
    Verdict,
    finding,
    fixes,
    k8s,
    skip,
    storage,
)

Obj = Mapping[str, Any]
SHARED_FS = "KFS-DB-SHARED-FS"
RECLAIM_DELETE = "KFS-DB-RECLAIM-DELETE"
NO_EXPANSION = "KFS-DB-NO-EXPANSION"
NOT_JUDGED = "KFS-DB-NOT-JUDGED"
KIND_UNVERIFIABLE = "KFS-DB-KIND-UNVERIFIABLE"
NO_DEFAULT_CAUSE = Cause("KFS-DEFAULT-NONE", CLUSTER)
CODES = (
    Code(
        SHARED_FS,
        "Database on a shared file system",
        "A Kubeflow database or object-store claim (or, pre-install, the default class) is a share of a "
        "network file system (NFS, CephFS, EFS, Azure Files, Portworx sharedv4, ...).",
        "MySQL, PostgreSQL and the object store are fsync-bound: on a network file system they are slow, and "
        "locking problems can corrupt Kubeflow's metadata.",
        "Give the databases a block (ReadWriteOnce) class: create the claims on it and restore the data.",
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
    Code(
        RECLAIM_DELETE,
        "Database volume deleted with its claim",
        "The bound PersistentVolume (or, with no volume yet, the class) has reclaim policy Delete.",
        "Deleting the claim (kubectl delete -k, a namespace deletion, --prune) destroys the volume and "
        "Kubeflow's pipelines, experiments and metadata with it.",
        "Patch the bound PersistentVolume to Retain; before install, use a class with reclaimPolicy: Retain.",
        (fixes.DOCS_RECLAIM,),
    ),
    Code(
        NO_EXPANSION,
        "Database volume cannot grow",
        "The class behind a database claim does not set allowVolumeExpansion: true.",
        "When MySQL or the object store fills its 10-20Gi volume, Kubeflow stops and the claim cannot be enlarged.",
        "Set allowVolumeExpansion: true on the class (the field can be changed on an existing class) when its "
        "driver can expand volumes; when it cannot, move the databases to a class whose driver can.",
        (fixes.DOCS_EXPANSION,),
    ),
    Code(
        KIND_UNVERIFIABLE,
        "Block or shared storage cannot be verified",
        "The class's provisioner is not in kfstor's driver table, so whether its volumes are block devices "
        "or shares of a network file system is unknown.",
        "MySQL on a network file system corrupts or stalls under its write pattern; kfstor does not guess.",
        "Confirm the driver gives block (ReadWriteOnce) volumes, then waive the finding with that reason, or "
        "move the databases to a class kfstor knows.",
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
    Code(
        NOT_JUDGED,
        "Database storage not judged",
        "A database claim has no StorageClass (or names one that does not exist), so its storage cannot be judged.",
        "Nothing is known about where the data will live until the claim gets a class.",
        "Fix the claim's class first (kubeflow_claims and default_storage_class say how).",
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
)


def _filesystem(sc: Obj) -> Verdict:
    shared = storage.shared_filesystem(sc)
    if shared:
        return Verdict(
            Status.WARN,
            f"the class is a shared file system, {shared}: write-heavy databases need block storage, "
            "use a block class (ReadWriteOnce) for it",
            code=SHARED_FS,
            fix=fixes.fix(
                docs=fixes.DOCS_STORAGE_CLASSES,
                text="create the database claims on a block (ReadWriteOnce) class and restore the data into them",
            ),
        )
    unknown = storage.kind_unknown(sc)
    if unknown:
        prov = k8s.provisioner(sc)
        return Verdict(
            Status.WARN,
            f"cannot verify the class gives block storage: {unknown}",
            code=KIND_UNVERIFIABLE,
            fix=fixes.fix(
                docs=fixes.DOCS_STORAGE_CLASSES,
                text=f"confirm {prov or 'its provisioner'} gives block (ReadWriteOnce) volumes, then waive this "
                "finding with that reason",
            ),
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
            code=RECLAIM_DELETE,
            fix=fixes.fix(fixes.retain_pv(pv_name), docs=fixes.DOCS_RECLAIM),
        )
    if class_policy == "Retain":
        return Verdict(Status.PASS, "the class is Retain")
    sc_name = k8s.name(sc)
    if pv is not None:
        remedy = fixes.fix(fixes.retain_pv(k8s.name(pv)), docs=fixes.DOCS_RECLAIM)
    else:
        retained = f"{sc_name}-retain"
        remedy = fixes.fix(
            fixes.copy_class(sc_name, retained, '.reclaimPolicy = "Retain"'),
            docs=fixes.DOCS_RECLAIM,
            text=f"Kubeflow's database claims name no class: set storageClassName: {retained} on them in the "
            "manifests (a kustomize patch) before they are created; once bound, patch each volume to Retain",
        )
    return Verdict(
        Status.WARN,
        f"the class has reclaimPolicy {class_policy}: deleting the claim destroys {subject}; "
        "use a Retain class or patch the bound volume to Retain",
        code=RECLAIM_DELETE,
        fix=remedy,
    )


def _expansion(sc: Obj) -> Verdict:
    if k8s.allows_expansion(sc):
        return Verdict(Status.PASS, "volume expansion allowed")
    profile = storage.profile_of(k8s.provisioner(sc))
    if profile is not None and profile.expansion is False:
        # Allowing it would only make resizes hang: the driver has nothing that grows a volume.
        return Verdict(
            Status.WARN,
            f"the class does not allow volume expansion and its driver ({profile.label}) cannot expand "
            "volumes, so a full volume cannot grow; move the databases to a class whose driver expands volumes",
            code=NO_EXPANSION,
            fix=fixes.fix(
                docs=fixes.DOCS_EXPANSION,
                text=f"{profile.label} cannot grow a volume: size the database claims for their growth, or "
                "move them to a class whose driver expands volumes",
            ),
        )
    unknown = " if its driver can expand volumes (kfstor's driver table does not know it)" if profile is None else ""
    return Verdict(
        Status.WARN,
        "the class does not allow volume expansion, so a full volume cannot grow; set allowVolumeExpansion: true"
        + unknown,
        code=NO_EXPANSION,
        fix=fixes.fix(fixes.allow_expansion(k8s.name(sc)), docs=fixes.DOCS_EXPANSION),
    )


def _findings(subject_obj: Obj | Ref, label: str, sc: Obj, pv: Obj | None, subject: str) -> Iterator[Finding]:
    """One finding per problem (one code each), or one pass saying what was verified."""
    verdicts = [_filesystem(sc), _reclaim(sc, pv, subject), _expansion(sc)]
    on = " " if label.endswith("default class") else " on StorageClass "
    prefix = f"{label}{on}{k8s.name(sc)}: "
    problems = [v for v in verdicts if v.status is not Status.PASS]
    if not problems:
        yield finding(Status.PASS, subject_obj, prefix + ", ".join(v.message for v in verdicts))
        return
    for v in problems:
        yield finding(v.status, subject_obj, prefix + v.message, code=v.code, fix=v.fix)


def _planned(facts: Facts) -> Iterator[Finding]:
    """The planned database claims (--manifests), on the class each will get."""
    for entry in facts.platform.planned_databases:
        if entry.storage_class is None:
            yield skip(
                entry.ref,
                f"{entry.label}: StorageClass {entry.class_text} does not exist, so its storage cannot be judged; "
                "kubeflow_claims reports the claim",
                code=NOT_JUDGED,
            )
            continue
        yield from _findings(entry.ref, entry.label, entry.storage_class, None, f"the {entry.claim.role} data")


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
                code=NOT_JUDGED,
                caused_by=NO_DEFAULT_CAUSE,
            )
            return
        yield from _findings(
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
                code=NOT_JUDGED,
                caused_by=NO_DEFAULT_CAUSE if row.class_name is None else None,
            )
            continue
        yield from _findings(
            row.pvc, f"{row.claim.role} claim {row.where}", row.storage_class, row.pv, f"the {row.claim.role} data"
        )


CHECK = Check(
    id="stateful_storage",
    title="Kubeflow's databases use block storage that is retained and expandable",
    kinds=("StorageClass", "PersistentVolumeClaim"),
    optional_kinds=("PersistentVolume", "Deployment"),
    evaluate=evaluate,
    description=__doc__ or "",
    codes=CODES,
    remediation=(
        "Put Kubeflow's MySQL/PostgreSQL and object store on a block StorageClass (not NFS-like) with "
        "allowVolumeExpansion: true (kubectl patch storageclass CLASS -p "
        "'{\"allowVolumeExpansion\":true}'). Protect the data from claim deletion: kubectl patch pv VOLUME "
        '-p \'{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}\', or use a class with '
        "reclaimPolicy: Retain."
    ),
)
