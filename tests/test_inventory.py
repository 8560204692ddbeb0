"""The inventory tables: what a reader of the HTML report sees per StorageClass and platform claim."""

from __future__ import annotations

from kfstor.collect.snapshot import Source, build
from kfstor.facts.view import Facts
from kfstor.render.inventory import build_inventory

EFS = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "metadata": {"name": "efs-shared"},
    "provisioner": "efs.csi.aws.com",
}
GP3 = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "provisioner": "ebs.csi.aws.com",
    "metadata": {"name": "gp3", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
    "parameters": {"type": "gp3"},
    "volumeBindingMode": "WaitForFirstConsumer",
    "allowVolumeExpansion": True,
}
EBS_DRIVER = {"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": "ebs.csi.aws.com"}}
EFS_DRIVER = {"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": "efs.csi.aws.com"}}
KINDS = frozenset({"StorageClass", "CSIDriver"})


def rows(*objects: dict) -> dict:  # type: ignore[type-arg]
    snap = build([dict(o) for o in objects], Source("file", "test"), collected=KINDS)
    return {row.name: row for row in build_inventory(Facts(snap, "kubeflow")).classes}


def test_class_rows() -> None:
    gp3 = rows(GP3, EFS, EBS_DRIVER, EFS_DRIVER)["gp3"]
    assert (gp3.provisioner, gp3.default, gp3.binding_mode, gp3.reclaim_policy, gp3.expansion) == (
        "ebs.csi.aws.com",
        "effective default",
        "WaitForFirstConsumer",
        "Delete",
        True,
    )
    assert gp3.parameters == (("type", "gp3"),)
    assert (gp3.rwx, gp3.rwx_reason) == ("no", "AWS EBS serves ReadWriteOnce only")


def test_rwx_column_agrees_with_rwx_available_on_missing_drivers() -> None:
    assert rows(GP3, EFS, EBS_DRIVER, EFS_DRIVER)["efs-shared"].rwx == "yes"
    efs = rows(GP3, EFS, EBS_DRIVER)["efs-shared"]
    assert (efs.rwx, efs.rwx_reason) == (
        "no",
        "AWS EFS (network file system), but CSI driver efs.csi.aws.com is not registered",
    )
