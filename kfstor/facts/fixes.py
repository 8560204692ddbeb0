"""Concrete fixes: the kubectl commands a finding's remedy needs, with the real object names.

Checks build a Fix from these helpers so every command is spelled one way, quoted safely for a
POSIX shell (names come from the cluster and may hold anything), and linked to the documentation
that explains it. A command never carries a `<name>` placeholder where the object is known.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from kfstor.model import Fix

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
BETA_DEFAULT_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class"
SNAPSHOT_DEFAULT_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"

K8S = "https://kubernetes.io/docs"
DOCS_DEFAULT_CLASS = f"{K8S}/tasks/administer-cluster/change-default-storage-class/"
DOCS_STORAGE_CLASSES = f"{K8S}/concepts/storage/storage-classes/"
DOCS_BINDING_MODE = f"{K8S}/concepts/storage/storage-classes/#volume-binding-mode"
DOCS_RECLAIM = f"{K8S}/tasks/administer-cluster/change-pv-reclaim-policy/"
DOCS_EXPANSION = f"{K8S}/concepts/storage/persistent-volumes/#expanding-persistent-volumes-claims"
DOCS_EXPANSION_RECOVERY = f"{K8S}/concepts/storage/persistent-volumes/#recovering-from-failure-when-expanding-volumes"
DOCS_PV = f"{K8S}/concepts/storage/persistent-volumes/"
DOCS_ACCESS_MODES = f"{K8S}/concepts/storage/persistent-volumes/#access-modes"
DOCS_RESERVE_PV = f"{K8S}/concepts/storage/persistent-volumes/#reserving-a-persistentvolume"
DOCS_PV_PHASE = f"{K8S}/concepts/storage/persistent-volumes/#phase"
DOCS_CSI_MIGRATION = f"{K8S}/concepts/storage/volumes/#csi-migration"
DOCS_CSI_DRIVERS = "https://kubernetes-csi.github.io/docs/drivers.html"
DOCS_CSIDRIVER_OBJECT = "https://kubernetes-csi.github.io/docs/csi-driver-object.html"
DOCS_SNAPSHOT_CLASSES = f"{K8S}/concepts/storage/volume-snapshot-classes/"
DOCS_SNAPSHOTTER = "https://kubernetes-csi.github.io/docs/snapshot-controller.html"
DOCS_QUOTA = f"{K8S}/concepts/policy/resource-quotas/#storage-resource-quota"
DOCS_CAPACITY = f"{K8S}/concepts/storage/storage-capacity/"
DOCS_CEPH_POOLS = "https://docs.ceph.com/en/latest/rados/operations/pools/"
DOCS_PORTWORX = "https://docs.portworx.com/portworx-enterprise/reference/crd/storage-class"
DOCS_NOTEBOOKS = "https://www.kubeflow.org/docs/components/notebooks/"
DOCS_KUBEFLOW_INSTALL = "https://www.kubeflow.org/docs/started/installing-kubeflow/"


def q(value: str) -> str:
    """One shell word: cluster names are quoted only when they need it."""
    return shlex.quote(value)


def _json(patch: Mapping[str, Any]) -> str:
    return q(json.dumps(patch, separators=(",", ":")))


def ns_flag(namespace: str) -> str:
    return f"-n {q(namespace)} " if namespace else ""


def fix(*commands: str, docs: str = "", text: str = "") -> Fix:
    return Fix(commands=tuple(c for c in commands if c), docs=docs, text=text)


def mark_default(sc_name: str, value: bool = True, beta: bool = False) -> str:
    key = BETA_DEFAULT_CLASS_ANNOTATION if beta else DEFAULT_CLASS_ANNOTATION
    patch = {"metadata": {"annotations": {key: "true" if value else "false"}}}
    return f"kubectl patch storageclass {q(sc_name)} -p {_json(patch)}"


def allow_expansion(sc_name: str) -> str:
    return f"kubectl patch storageclass {q(sc_name)} -p {_json({'allowVolumeExpansion': True})}"


def retain_pv(pv_name: str) -> str:
    patch = {"spec": {"persistentVolumeReclaimPolicy": "Retain"}}
    return f"kubectl patch pv {q(pv_name)} -p {_json(patch)}"


def describe(kind: str, name: str, namespace: str = "") -> str:
    return f"kubectl {ns_flag(namespace)}describe {kind} {q(name)}"


def get_yaml(kind: str, name: str, namespace: str = "") -> str:
    return f"kubectl {ns_flag(namespace)}get {kind} {q(name)} -o yaml"


def copy_class(sc_name: str, new_name: str, changes: str) -> str:
    """A copy of a class with `changes` (a jq filter) applied: classes are immutable, so a changed
    class is a new one. Needs jq. The copy never carries the default mark: a second default would
    take every claim that names no class (the newest default wins); a fix that moves the default
    says so with mark_default."""
    strip = (
        "del(.metadata.uid, .metadata.resourceVersion, .metadata.creationTimestamp, .metadata.managedFields, "
        f'.metadata.annotations["{DEFAULT_CLASS_ANNOTATION}"], '
        f'.metadata.annotations["{BETA_DEFAULT_CLASS_ANNOTATION}"])'
    )
    program = f'.metadata.name = "{new_name}" | {changes} | {strip}'
    return f"kubectl get storageclass {q(sc_name)} -o json | jq {q(program)} | kubectl apply -f -"


def replace_class(sc_name: str, new_name: str, changes: str, default: bool) -> tuple[str, ...]:
    """The commands that replace a class by a changed copy; a default class hands its default mark
    to the copy (marked first, so claims never meet a cluster without a default)."""
    copy = copy_class(sc_name, new_name, changes)
    if not default:
        return (copy,)
    return (copy, mark_default(new_name), mark_default(sc_name, value=False))


def snapshot_default(vsc_name: str, value: bool) -> str:
    patch = {"metadata": {"annotations": {SNAPSHOT_DEFAULT_ANNOTATION: "true" if value else "false"}}}
    return f"kubectl patch volumesnapshotclass {q(vsc_name)} --type merge -p {_json(patch)}"


def snapshot_class(driver: str) -> str:
    """A VolumeSnapshotClass for a CSI driver, as a here-document for kubectl apply."""
    name = (driver.replace(".", "-").replace("/", "-") + "-snapclass")[:63]
    return (
        "kubectl apply -f - <<'EOF'\n"
        "apiVersion: snapshot.storage.k8s.io/v1\n"
        "kind: VolumeSnapshotClass\n"
        f"metadata:\n  name: {name}\n"
        f'  annotations:\n    {SNAPSHOT_DEFAULT_ANNOTATION}: "true"\n'
        f"driver: {json.dumps(driver)}\n"
        "deletionPolicy: Retain\n"
        "EOF"
    )


def patch_quota(namespace: str, quota: str, hard: Mapping[str, str]) -> str:
    return f"kubectl {ns_flag(namespace)}patch resourcequota {q(quota)} -p {_json({'spec': {'hard': dict(hard)}})}"
