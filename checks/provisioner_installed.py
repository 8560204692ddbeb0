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
  hostpath provisioners) register no CSIDriver object: pass, named as such.
- `kubernetes.io/no-provisioner` provisions nothing by design (static local volumes): skip, since
  there is nothing to install; default_storage_class judges whether it may be the default.
- any other name containing "/" cannot be a CSI driver name, so no CSIDriver object can prove it
  runs: warn "cannot verify".

One finding per StorageClass; its status is the worst of the problems above. When the input has
no CSIDriver objects at all, the message says so (a kubectl dump made without `csidrivers`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kfstor.api import CLUSTER, Check, Context, Facts, Finding, Status, Verdict, judged, k8s, skip, storage

PERSISTENT = "Persistent"


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


def _judge(
    sc: Mapping[str, Any], is_default: bool, drivers: Mapping[str, Mapping[str, Any]], no_drivers_note: str
) -> Verdict:
    sc_name = k8s.name(sc)
    prov = k8s.provisioner(sc)
    role = "the default StorageClass" if is_default else "StorageClass"
    missing_status = Status.FAIL if is_default else Status.WARN
    if not prov:
        return Verdict(missing_status, f"{role} {sc_name} names no provisioner; recreate it with a provisioner")
    if prov in storage.REMOVED_IN_TREE:
        return Verdict(
            Status.FAIL,
            f"{role} {sc_name} uses {prov}, an in-tree plugin removed with no migration "
            f"({storage.REMOVED_IN_TREE[prov]}); nothing can provision its volumes, "
            "recreate the class with a CSI driver",
        )
    if not storage.is_volume_class(sc):
        return Verdict(
            Status.SKIP,
            f"StorageClass {sc_name}: {storage.not_a_volume_text(sc)}; it backs no PersistentVolumeClaims, so "
            "there is no volume driver to verify",
        )
    if prov == k8s.NO_PROVISIONER:
        return Verdict(
            Status.SKIP,
            f"{role} {sc_name} uses {prov}: it provisions nothing by design (static "
            "PersistentVolumes only), so there is no driver to install; "
            "default_storage_class judges whether it may be the default",
        )
    non_csi = storage.non_csi_label(prov)
    if non_csi:
        what = "not a CSI driver" if "/" in prov else "its deployment registers no CSIDriver object"
        return Verdict(Status.PASS, f"{role} {sc_name} uses {prov} ({non_csi}): {what}, no CSIDriver object expected")
    driver = storage.csi_name(prov)
    if driver == prov and "/" in prov:
        return Verdict(
            Status.WARN,
            f"{role} {sc_name} uses {prov}, an external provisioner that is not a CSI "
            "driver and unknown to kfstor: cannot verify it is running; check its "
            "controller pod",
        )
    problem = _driver_problem(driver, drivers, no_drivers_note)
    if driver != prov:
        if problem:
            return Verdict(
                missing_status,
                f"{role} {sc_name} uses the deprecated in-tree name {prov}, which CSI "
                f"migration hands to {driver}, but {problem} (and create classes with "
                f"provisioner {driver} instead of the in-tree name)",
            )
        return Verdict(
            Status.WARN,
            f"{role} {sc_name} uses the deprecated in-tree name {prov}; create a class with "
            f"provisioner {driver} instead (CSI migration serves it through the registered "
            f"{driver} driver)",
        )
    if problem:
        return Verdict(missing_status, f"{role} {sc_name} uses {prov} but {problem}")
    return Verdict(Status.PASS, f"{role} {sc_name}: CSI driver {prov} is registered")


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    if not facts.classes:
        yield skip(
            CLUSTER,
            "no StorageClasses exist, so there is no provisioner to verify "
            "(default_storage_class reports the missing default)",
        )
        return
    drivers = facts.csi_drivers
    no_drivers_note = (
        ""
        if drivers is not None
        else (" (the input has no CSIDriver objects at all: if it was made without `kubectl get csidrivers`, add them)")
    )
    effective = facts.default.effective
    for sc in facts.of("StorageClass"):
        yield judged(sc, _judge(sc, sc is effective, drivers or {}, no_drivers_note))


CHECK = Check(
    id="provisioner_installed",
    title="Every StorageClass's provisioner is installed",
    kinds=("StorageClass", "CSIDriver"),
    evaluate=evaluate,
    description=__doc__ or "",
    remediation=(
        "Install the CSI driver the class names (its CSIDriver object must exist: kubectl get csidrivers), "
        "or delete the class. Replace in-tree provisioner names with their CSI drivers "
        "(kubernetes.io/aws-ebs -> ebs.csi.aws.com, kubernetes.io/gce-pd -> pd.csi.storage.gke.io, "
        "kubernetes.io/portworx-volume -> "
        "pxd.portworx.com, ...) by creating a new class; classes of removed plugins (glusterfs, rbd, cephfs) "
        "must be recreated on a CSI driver such as ceph-csi."
    ),
)
