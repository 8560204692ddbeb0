"""The one table of Kubernetes kinds kfstor reads.

The live collector lists exactly these resources, `kfstor rbac` derives the ClusterRole from
them, and offline snapshots use the same kind names, so the three can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KindInfo:
    kind: str
    group: str  # "" for the core API
    versions: tuple[str, ...]  # preferred first; optional APIs are discovered
    plural: str
    namespaced: bool
    optional: bool = False  # an API that may not be installed (CRDs); skipped when absent


KINDS: dict[str, KindInfo] = {
    info.kind: info
    for info in (
        KindInfo("StorageClass", "storage.k8s.io", ("v1",), "storageclasses", False),
        KindInfo("CSIDriver", "storage.k8s.io", ("v1",), "csidrivers", False),
        KindInfo("CSIStorageCapacity", "storage.k8s.io", ("v1",), "csistoragecapacities", True),
        KindInfo("PersistentVolume", "", ("v1",), "persistentvolumes", False),
        KindInfo("PersistentVolumeClaim", "", ("v1",), "persistentvolumeclaims", True),
        KindInfo("Pod", "", ("v1",), "pods", True),
        KindInfo("Event", "", ("v1",), "events", True),
        KindInfo("Node", "", ("v1",), "nodes", False),
        KindInfo("ResourceQuota", "", ("v1",), "resourcequotas", True),
        KindInfo("Deployment", "apps", ("v1",), "deployments", True),
        KindInfo("StatefulSet", "apps", ("v1",), "statefulsets", True),
        KindInfo(
            "VolumeSnapshotClass",
            "snapshot.storage.k8s.io",
            ("v1",),
            "volumesnapshotclasses",
            False,
            optional=True,
        ),
        KindInfo("Notebook", "kubeflow.org", ("v1", "v1beta1"), "notebooks", True, optional=True),
    )
}

# Kinds the collector never reads, whatever a check declares: kfstor's audit does not need
# credentials and must never carry them into a snapshot or a report.
FORBIDDEN_KINDS = frozenset({"Secret"})
