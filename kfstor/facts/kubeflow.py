"""Kubeflow's platform claims: which exist in which release, and how to find the installed ones.

From kubeflow/manifests 1.7 → 26.03 (facts page, Q1): none of these claims names a
StorageClass, so they all land on the cluster's default class.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kfstor.facts import k8s
from kfstor.model import Finding, K8sObject, Ref, skip

if TYPE_CHECKING:
    from kfstor.collect.snapshot import Snapshot


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


@dataclass(frozen=True, slots=True)
class ClaimStorage:
    """A platform claim of the installed variant with the StorageClass it uses."""

    claim: PlatformClaim
    namespace: str
    pvc: K8sObject | None  # None: the expected claim does not exist
    class_name: str | None  # as k8s.claim_class: None = unset and no default, "" = explicitly no class
    storage_class: K8sObject | None  # None: no class, or the named class does not exist


def claims_with_classes(snap: Snapshot, namespace: str) -> list[ClaimStorage]:
    """platform_claims() joined with each present claim's StorageClass (empty before install)."""
    storage_classes = snap.of("StorageClass")
    rows = []
    for claim, pvc in platform_claims(snap, namespace):
        class_name, sc = k8s.claim_class(pvc, storage_classes) if pvc is not None else (None, None)
        rows.append(ClaimStorage(claim, claim_namespace(claim, namespace), pvc, class_name, sc))
    return rows


def database_rows(rows: Iterable[ClaimStorage]) -> Iterator[ClaimStorage | Finding]:
    """The database and object-store claims to judge, and a skip finding for every other row: a
    missing claim (kubeflow_claims reports it) or one that holds no database (authservice)."""
    for row in rows:
        where = f"{row.namespace}/{row.claim.name}"
        if row.pvc is None:
            yield skip(
                Ref("PersistentVolumeClaim", row.claim.name, row.namespace),
                f"claim {where} does not exist; kubeflow_claims reports it",
            )
        elif not row.claim.database:
            yield skip(row.pvc, f"claim {where} holds {row.claim.role}, no database: not judged")
        else:
            yield row
