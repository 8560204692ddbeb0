"""Every StorageClass's provisioner is installed: its CSI driver is registered.

A StorageClass only names a provisioner; nothing checks that it runs. Claims against a class
whose driver is gone stay Pending with "Waiting for a volume to be created either by the external
provisioner ...". kfstor translates in-tree names to the CSI driver that serves them since CSI
migration (`kubernetes.io/aws-ebs` is served by `ebs.csi.aws.com`, `kubernetes.io/portworx-volume`
by `pxd.portworx.com`, ...) and looks for a `CSIDriver` object of that name:

- missing for the effective default class (Kubeflow's claims use it): fail; for other classes: warn.
  A CSIDriver whose `volumeLifecycleModes` lacks `Persistent` serves only inline ephemeral volumes,
  so it counts as not installed for claims.
- an in-tree name that still works through migration: warn, naming the CSI provisioner to use.
- an in-tree plugin removed with no migration (glusterfs, rbd, cephfs, flocker, quobyte, ...):
  fail for every class, default or not: nothing can provision its volumes.
- known external provisioners that are not CSI drivers (local-path, NFS subdir, OpenEBS local,
  hostpath provisioners) register no CSIDriver object, so the cluster's volumes are the evidence:
  a PersistentVolume it provisioned (`pv.kubernetes.io/provisioned-by`) passes; a Pending claim
  of its class that it never picked up (only the PV controller's ExternalProvisioning events) means
  it is not running (fail for the default class, else warn); neither: warn "cannot verify".
- `kubernetes.io/no-provisioner` provisions nothing by design (static local volumes): skip, since
  there is nothing to install; default_storage_class judges whether it may be the default.
- any other name containing "/" cannot be a CSI driver name, so no CSIDriver object can prove it
  runs: warn "cannot verify".

One finding per StorageClass and problem: an in-tree name whose migrated driver is missing gets
two (KFS-PROVISIONER-MISSING and KFS-PROVISIONER-IN-TREE). When the input has no CSIDriver
objects at all, the message says so (a kubectl dump made without `csidrivers`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from kfstor.api import (
    CLUSTER,
    Cause,
    Check,
    Code,
    Context,
    Facts,
    Finding,
    Status,
    Verdict,
    fixes,
    judged,
    k8s,
    skip,
    storage,
)

PERSISTENT = "Persistent"
NONE = "KFS-PROVISIONER-NONE"
REMOVED = "KFS-PROVISIONER-REMOVED"
MISSING = "KFS-PROVISIONER-MISSING"
INLINE_ONLY = "KFS-PROVISIONER-INLINE-ONLY"
IN_TREE = "KFS-PROVISIONER-IN-TREE"
UNVERIFIABLE = "KFS-PROVISIONER-UNVERIFIABLE"
NOT_RUNNING = "KFS-PROVISIONER-NOT-RUNNING"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
NOT_A_VOLUME = "KFS-PROVISIONER-NOT-A-VOLUME"
STATIC = "KFS-PROVISIONER-STATIC"
NO_CLASSES = "KFS-PROVISIONER-NO-CLASSES"
CODES = (
    Code(
        NONE,
        "Class names no provisioner",
        "The StorageClass has an empty provisioner.",
        "No volume can be created for its claims.",
        "Recreate the class with a provisioner.",
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
    Code(
        REMOVED,
        "Class uses a removed in-tree plugin",
        "The class names an in-tree plugin Kubernetes removed with no CSI migration (glusterfs, rbd, cephfs, ...).",
        "Nothing can provision its volumes: every claim on it stays Pending.",
        "Recreate the class on a CSI driver (ceph-csi, ...) and move the claims to it.",
        (fixes.DOCS_CSI_MIGRATION,),
    ),
    Code(
        MISSING,
        "CSI driver not installed",
        "No CSIDriver object is registered for the class's provisioner (in-tree names translated).",
        "Claims on the class stay Pending; on the default class that is every Kubeflow claim.",
        "Install the CSI driver (its CSIDriver object must exist), or delete the class.",
        (fixes.DOCS_CSI_DRIVERS, fixes.DOCS_CSIDRIVER_OBJECT),
    ),
    Code(
        INLINE_ONLY,
        "CSI driver serves inline volumes only",
        "The CSIDriver's volumeLifecycleModes lacks Persistent.",
        "It cannot back PersistentVolumeClaims.",
        "Delete the class, or use a driver that provisions persistent volumes.",
        (fixes.DOCS_CSIDRIVER_OBJECT,),
    ),
    Code(
        IN_TREE,
        "Deprecated in-tree provisioner name",
        "The class names an in-tree provisioner that CSI migration hands to a CSI driver.",
        "It works through migration, but new features and future Kubernetes versions need the CSI name.",
        "Create a class with the CSI provisioner and move new claims to it.",
        (fixes.DOCS_CSI_MIGRATION,),
    ),
    Code(
        UNVERIFIABLE,
        "Provisioner cannot be verified",
        "An external provisioner that is not a CSI driver: no CSIDriver object can prove it runs, and no "
        "PersistentVolume it provisioned exists (or it is not in kfstor's table).",
        "If it is not running, claims on the class stay Pending.",
        "Check the provisioner's controller pod.",
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
    Code(
        NOT_RUNNING,
        "Provisioner not running",
        "A claim of the class waits for its external provisioner, which never picked it up (only the PV "
        "controller's ExternalProvisioning events, no Provisioning event of its own).",
        "Claims on the class stay Pending; on the default class that is every Kubeflow claim.",
        "Start the provisioner's controller (its Deployment), or delete the class.",
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
    Code(
        NOT_A_VOLUME,
        "Class is not a volume class",
        "The class creates object buckets or helps another tool; it backs no claims.",
        "Nothing to verify.",
        "Nothing to fix.",
    ),
    Code(
        STATIC,
        "Static class",
        "The class uses kubernetes.io/no-provisioner (static volumes by design).",
        "There is no driver to install.",
        "Nothing to fix here; default_storage_class judges whether it may be the default.",
    ),
    Code(
        NO_CLASSES,
        "No StorageClasses",
        "The cluster has no StorageClass.",
        "No provisioner to verify; nothing can provision Kubeflow's claims.",
        "Install a CSI driver and create a default class.",
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
)


def _driver_problem(driver: str, drivers: Mapping[str, Mapping[str, Any]], no_drivers_note: str) -> str | None:
    """Why the CSI driver cannot serve claims (ending with the fix), or None when it is registered for
    persistent volumes."""
    obj = drivers.get(driver)
    if obj is None:
        return (
            f"no CSIDriver {driver} is registered, so the driver is not installed{no_drivers_note}: "
            f"install the {driver} driver or delete the class"
        )
    modes = k8s.str_list(obj, "spec", "volumeLifecycleModes")
    if modes and PERSISTENT not in modes:
        return (
            f"CSIDriver {driver} declares volumeLifecycleModes {', '.join(modes)} without Persistent, "
            "so it serves only inline volumes and cannot back PersistentVolumeClaims: delete the class "
            "or use a driver that provisions persistent volumes"
        )
    return None


@dataclass(frozen=True, slots=True)
class _Work:
    """What the cluster's volumes show of external provisioners at work."""

    provisioned: Mapping[str, str]  # provisioner -> a PersistentVolume it provisioned
    ignored: Mapping[str, str]  # provisioner -> a Pending claim ("ns/name") it never picked up


def _work(facts: Facts) -> _Work:
    provisioned: dict[str, str] = {}
    for pv in facts.of("PersistentVolume"):
        by = k8s.annotations(pv).get(PROVISIONED_BY, "")
        if isinstance(by, str) and by:
            provisioned.setdefault(by, k8s.name(pv))
    ignored: dict[str, str] = {}
    for pvc in facts.of("PersistentVolumeClaim"):
        if k8s.phase(pvc) != "Pending":
            continue
        sc = facts.claim_class(pvc).obj
        if sc is not None and facts.never_picked_up(pvc):
            ignored.setdefault(k8s.provisioner(sc), f"{k8s.namespace(pvc)}/{k8s.name(pvc)}")
    return _Work(provisioned, ignored)


def _external(sc_name: str, prov: str, label: str, role: str, missing: Status, work: _Work) -> Verdict:
    """A known provisioner that registers no CSIDriver: the cluster's volumes are the evidence."""
    what = "not a CSI driver" if "/" in prov else "its deployment registers no CSIDriver object"
    where = f"kubectl get pods -A -o wide | grep -i {fixes.q(prov.rsplit('/', 1)[-1])}"
    pv = work.provisioned.get(prov)
    if pv is not None:
        return Verdict(
            Status.PASS, f"{role} {sc_name} uses {prov} ({label}): {what}; it provisioned PersistentVolume {pv}"
        )
    claim = work.ignored.get(prov)
    if claim is not None:
        return Verdict(
            missing,
            f"{role} {sc_name} uses {prov} ({label}), which never picked up claim {claim} (only "
            "ExternalProvisioning events): its controller is not running",
            code=NOT_RUNNING,
            fix=fixes.fix(
                where,
                docs=fixes.DOCS_STORAGE_CLASSES,
                text="start the provisioner's controller (its Deployment), or delete the class",
            ),
        )
    return Verdict(
        Status.WARN,
        f"cannot verify that {prov} ({label}), the provisioner of {role} {sc_name}, is running: {what}, "
        "and no PersistentVolume it provisioned exists; check its controller pod",
        code=UNVERIFIABLE,
        fix=fixes.fix(where, docs=fixes.DOCS_STORAGE_CLASSES),
    )


def _judge(
    sc: Mapping[str, Any],
    is_default: bool,
    drivers: Mapping[str, Mapping[str, Any]],
    no_drivers_note: str,
    work: _Work,
) -> list[Verdict]:
    """One verdict per problem of the class (one code each), or one pass or skip."""
    sc_name = k8s.name(sc)
    prov = k8s.provisioner(sc)
    role = "the default StorageClass" if is_default else "StorageClass"
    missing_status = Status.FAIL if is_default else Status.WARN
    show = fixes.fix(fixes.get_yaml("storageclass", sc_name), docs=fixes.DOCS_STORAGE_CLASSES)
    if not prov:
        return [
            Verdict(
                missing_status,
                f"{role} {sc_name} names no provisioner; recreate it with a provisioner",
                code=NONE,
                fix=show,
            )
        ]
    if prov in storage.REMOVED_IN_TREE:
        return [
            Verdict(
                Status.FAIL,
                f"{role} {sc_name} uses {prov}, an in-tree plugin removed with no migration "
                f"({storage.REMOVED_IN_TREE[prov]}); nothing can provision its volumes, "
                "recreate the class with a CSI driver",
                code=REMOVED,
                fix=fixes.fix(
                    f"kubectl get pvc -A -o wide | grep -w {fixes.q(sc_name)}",
                    docs=fixes.DOCS_CSI_MIGRATION,
                    text="recreate the class on a CSI driver and move the claims listed to it",
                ),
            )
        ]
    if not storage.is_volume_class(sc):
        return [
            Verdict(
                Status.SKIP,
                f"StorageClass {sc_name}: {storage.not_a_volume_text(sc)}; it backs no PersistentVolumeClaims, so "
                "there is no volume driver to verify",
                code=NOT_A_VOLUME,
            )
        ]
    if prov == k8s.NO_PROVISIONER:
        return [
            Verdict(
                Status.SKIP,
                f"{role} {sc_name} uses {prov}: it provisions nothing by design (static "
                "PersistentVolumes only), so there is no driver to install; "
                "default_storage_class judges whether it may be the default",
                code=STATIC,
            )
        ]
    non_csi = storage.non_csi_label(prov)
    if non_csi:
        return [_external(sc_name, prov, non_csi, role, missing_status, work)]
    driver = storage.csi_name(prov)
    if driver == prov and "/" in prov:
        return [
            Verdict(
                Status.WARN,
                f"{role} {sc_name} uses {prov}, an external provisioner that is not a CSI "
                "driver and unknown to kfstor: cannot verify it is running; check its "
                "controller pod",
                code=UNVERIFIABLE,
                fix=fixes.fix("kubectl get pods -A -o wide | grep -i provisioner", docs=fixes.DOCS_STORAGE_CLASSES),
            )
        ]
    problem = _driver_problem(driver, drivers, no_drivers_note)
    problem_code = INLINE_ONLY if driver in drivers else MISSING
    driver_fix = fixes.fix(
        f"kubectl get csidriver {fixes.q(driver)}",
        docs=fixes.DOCS_CSI_DRIVERS,
        text=f"install the {driver} CSI driver (its Helm chart or manifests) or delete StorageClass {sc_name}",
    )
    verdicts = []
    if problem:
        via = f"the in-tree name {prov}, which CSI migration hands to {driver}," if driver != prov else prov
        verdicts.append(
            Verdict(missing_status, f"{role} {sc_name} uses {via} but {problem}", code=problem_code, fix=driver_fix)
        )
    if driver != prov:
        served = (
            f"(CSI migration serves it through the registered {driver} driver)"
            if not problem
            else f"(CSI migration needs the {driver} driver)"
        )
        verdicts.append(
            Verdict(
                Status.WARN,
                f"{role} {sc_name} uses the deprecated in-tree name {prov}; create a class with "
                f"provisioner {driver} instead {served}",
                code=IN_TREE,
                fix=fixes.fix(
                    *fixes.replace_class(sc_name, f"{sc_name}-csi", f'.provisioner = "{driver}"', is_default),
                    docs=fixes.DOCS_CSI_MIGRATION,
                    text=f"create new claims on {sc_name}-csi; existing volumes keep working through migration",
                ),
            )
        )
    return verdicts or [Verdict(Status.PASS, f"{role} {sc_name}: CSI driver {prov} is registered")]


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    if not facts.classes:
        yield skip(
            CLUSTER,
            "no StorageClasses exist, so there is no provisioner to verify "
            "(default_storage_class reports the missing default)",
            code=NO_CLASSES,
            caused_by=Cause("KFS-DEFAULT-NONE", CLUSTER),
        )
        return
    drivers = facts.csi_drivers
    no_drivers_note = (
        ""
        if drivers is not None
        else (" (the input has no CSIDriver objects at all: if it was made without `kubectl get csidrivers`, add them)")
    )
    effective = facts.default.effective
    work = _work(facts)
    for sc in facts.of("StorageClass"):
        for verdict in _judge(sc, sc is effective, drivers or {}, no_drivers_note, work):
            yield judged(sc, verdict)


CHECK = Check(
    id="provisioner_installed",
    title="Every StorageClass's provisioner is installed",
    kinds=("StorageClass", "CSIDriver"),
    optional_kinds=("PersistentVolume", "PersistentVolumeClaim", "Event"),
    evaluate=evaluate,
    description=__doc__ or "",
    codes=CODES,
    remediation=(
        "Install the CSI driver the class names (its CSIDriver object must exist: kubectl get csidrivers), "
        "or delete the class. Replace in-tree provisioner names with their CSI drivers "
        "(kubernetes.io/aws-ebs -> ebs.csi.aws.com, kubernetes.io/gce-pd -> pd.csi.storage.gke.io, "
        "kubernetes.io/portworx-volume -> "
        "pxd.portworx.com, ...) by creating a new class; classes of removed plugins (glusterfs, rbd, cephfs) "
        "must be recreated on a CSI driver such as ceph-csi."
    ),
)
