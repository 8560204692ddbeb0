"""Kubeflow's platform claims: which exist in which release, and how to find the installed ones.

From kubeflow/manifests 1.7 → 26.03: none of these claims names a
StorageClass, so they all land on the cluster's default class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kfstor.collect.snapshot import Snapshot
from kfstor.facts import k8s
from kfstor.model import K8sObject


@dataclass(frozen=True, slots=True)
class PlatformClaim:
    name: str
    namespace: str  # "" = the configured Kubeflow namespace
    size: str
    role: str  # what it stores, for messages
    database: bool  # write-heavy database or object store: wants replicated block storage
    workload: str  # the Deployment/StatefulSet that mounts it


# The claims of a default install (object store chosen by detection, see object_store()).
MYSQL = PlatformClaim("mysql-pv-claim", "", "20Gi", "Pipelines MySQL (KFP and ML Metadata)", True, "mysql")
KATIB_MYSQL = PlatformClaim("katib-mysql", "", "10Gi", "Katib MySQL", True, "katib-mysql")
MINIO = PlatformClaim("minio-pvc", "", "20Gi", "Pipelines artifact store (MinIO)", True, "minio")
SEAWEEDFS = PlatformClaim("seaweedfs-pvc", "", "20Gi", "Pipelines artifact store (SeaweedFS)", True, "seaweedfs")

# Claims of optional components, audited when present.
OPTIONAL: tuple[PlatformClaim, ...] = (
    PlatformClaim("metadata-mysql", "", "10Gi", "ML Metadata / Model Registry MySQL", True, "metadata-db"),
    PlatformClaim(
        "metadata-postgres", "", "20Gi", "ML Metadata / Model Registry PostgreSQL", True, "model-registry-db"
    ),
    PlatformClaim("postgres-pvc", "", "20Gi", "Pipelines PostgreSQL", True, "postgres"),
    PlatformClaim("katib-postgres", "", "3Gi", "Katib PostgreSQL", True, "katib-postgres"),
    PlatformClaim(
        "model-catalog-postgres", "", "5Gi", "Model Registry catalog PostgreSQL", True, "model-catalog-postgres"
    ),
    PlatformClaim(
        "authservice-pvc", "istio-system", "10Gi", "OIDC AuthService sessions (1.7/1.8)", False, "authservice"
    ),
)

REQUIRED_CORE = (MYSQL, KATIB_MYSQL)
# The platform's requests before install (1.11+ default: SeaweedFS), used for capacity planning.
PRE_INSTALL = (MYSQL, SEAWEEDFS, KATIB_MYSQL)

NOTEBOOK_LABEL = "notebook-name"
STOPPED_ANNOTATION = "kubeflow-resource-stopped"


def claim_namespace(claim: PlatformClaim, kubeflow_namespace: str) -> str:
    return claim.namespace or kubeflow_namespace


def _present(snap: Snapshot, kind: str, name: str, namespace: str) -> bool:
    return snap.get(kind, name, namespace) is not None


def object_store(snap: Snapshot, namespace: str) -> PlatformClaim | None:
    """Which artifact store is installed: SeaweedFS (1.11+) or MinIO (≤1.10), never both demanded.

    A Deployment decides first (the claim of a removed store may linger after an upgrade),
    then the claims themselves.
    """
    for store in (SEAWEEDFS, MINIO):
        if _present(snap, "Deployment", store.workload, namespace):
            return store
    for store in (SEAWEEDFS, MINIO):
        if _present(snap, "PersistentVolumeClaim", store.name, namespace):
            return store
    return None


def expected_claims(snap: Snapshot, namespace: str) -> tuple[list[PlatformClaim], list[PlatformClaim]]:
    """(claims that must exist, optional claims that do exist) for the installed variant.

    Returns ([], []) when Kubeflow is not installed (none of its platform claims or workloads present).
    Only the platform's known names are looked up in the snapshot's index: the cost does not grow
    with the number of claims in the cluster.
    """
    store = object_store(snap, namespace)
    candidates = [*REQUIRED_CORE, *([store] if store else []), *OPTIONAL]
    installed = any(
        _present(snap, "PersistentVolumeClaim", c.name, claim_namespace(c, namespace))
        or _present(snap, "Deployment", c.workload, claim_namespace(c, namespace))
        for c in candidates
    )
    if not installed:
        return ([], [])
    # Pipelines and Katib each may run on PostgreSQL instead of MySQL: demand MySQL only when
    # its replacement is absent.
    required: list[PlatformClaim] = []
    if not _present(snap, "PersistentVolumeClaim", "postgres-pvc", namespace):
        required.append(MYSQL)
    if not _present(snap, "PersistentVolumeClaim", "katib-postgres", namespace):
        required.append(KATIB_MYSQL)
    if store:
        required.append(store)
    optional = [c for c in OPTIONAL if _present(snap, "PersistentVolumeClaim", c.name, claim_namespace(c, namespace))]
    return (required, optional)


def platform_claims(snap: Snapshot, namespace: str) -> list[tuple[PlatformClaim, K8sObject | None]]:
    """Every platform claim to audit with its object (None when it is missing)."""
    required, optional = expected_claims(snap, namespace)
    return [
        (c, snap.get("PersistentVolumeClaim", c.name, claim_namespace(c, namespace))) for c in (*required, *optional)
    ]


def is_notebook_statefulset(sts: K8sObject) -> bool:
    template_labels: dict[str, Any] = k8s.dig(sts, "spec", "template", "metadata", "labels", default={})
    return NOTEBOOK_LABEL in template_labels or NOTEBOOK_LABEL in k8s.labels(sts)


def is_stopped(obj: K8sObject) -> bool:
    return STOPPED_ANNOTATION in k8s.annotations(obj)
