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


@dataclass(frozen=True, slots=True)
class Component:
    """A Kubeflow component whose platform claims are expected only when it is installed.

    Standalone Pipelines installs (no Katib) and Katib-only installs are common, so one component's
    claims are never demanded because another component is present.
    """

    name: str
    # Its Deployments in the Kubeflow namespace (kubeflow/manifests, kubeflow/katib manifests): any
    # one of them shows it is installed. The first is named in messages.
    workloads: tuple[str, ...]
    claims: tuple[str, ...]  # its platform claims: any one of them shows it is installed too
    expected: str  # what is not expected when it is absent, for messages


PIPELINES = Component(
    "Pipelines",
    (
        "ml-pipeline",
        "ml-pipeline-ui",
        "ml-pipeline-persistenceagent",
        "ml-pipeline-scheduledworkflow",
        MYSQL.workload,
        MINIO.workload,
        SEAWEEDFS.workload,
        "postgres",
    ),
    (MYSQL.name, MINIO.name, SEAWEEDFS.name, "postgres-pvc"),
    f"its {MYSQL.name} claim and its artifact store's claim are not expected",
)
KATIB = Component(
    "Katib",
    ("katib-controller", "katib-db-manager", "katib-ui", KATIB_MYSQL.workload, "katib-postgres"),
    (KATIB_MYSQL.name, "katib-postgres"),
    f"its {KATIB_MYSQL.name} claim is not expected",
)
COMPONENTS = (PIPELINES, KATIB)


def component_installed(snap: Snapshot, namespace: str, component: Component) -> bool | None:
    """True when one of the component's claims or Deployments exists in the Kubeflow namespace;
    False when Deployments were read and none of its claims or Deployments exist; None when
    Deployments were not read (forbidden, or kubectl output without any), so it cannot be told:
    a gate never calls absent what it could not see, and then the claims stay expected."""
    if any(_present(snap, "PersistentVolumeClaim", name, namespace) for name in component.claims):
        return True
    if any(_present(snap, "Deployment", name, namespace) for name in component.workloads):
        return True
    return False if snap.has_collected("Deployment") else None


# Names only a Kubeflow install uses (generic ones such as "mysql" are left out): where they exist
# outside the audited namespace, the audit was probably pointed at the wrong one.
MARKER_CLAIMS = frozenset({MYSQL.name, KATIB_MYSQL.name, MINIO.name, SEAWEEDFS.name})
MARKER_WORKLOADS = frozenset({"ml-pipeline", "ml-pipeline-ui", "katib-controller", "katib-db-manager"})


def installed_elsewhere(snap: Snapshot, namespace: str) -> tuple[str, ...]:
    """Namespaces other than `namespace` that hold Kubeflow's platform claims or workloads."""
    found = {k8s.namespace(o) for o in snap.of("PersistentVolumeClaim") if k8s.name(o) in MARKER_CLAIMS}
    found |= {k8s.namespace(o) for o in snap.of("Deployment") if k8s.name(o) in MARKER_WORKLOADS}
    return tuple(sorted(found - {namespace, ""}))


def component_of(claim: PlatformClaim) -> Component | None:
    """The component whose claim this is (None for optional claims of other components)."""
    return next((c for c in COMPONENTS if claim.name in c.claims), None)


def not_installed_text(component: Component, namespace: str) -> str:
    """Why a component's claims are not expected: "Katib is not installed (no katib-controller, ...)"."""
    deployments = ", ".join(component.workloads[:-1]) + f" or {component.workloads[-1]}"
    return (
        f"{component.name} is not installed (no {deployments} Deployment and none of its claims in "
        f"namespace {namespace}): {component.expected}"
    )


def absent_components(snap: Snapshot, namespace: str) -> tuple[Component, ...]:
    """The components shown absent from an installed Kubeflow (empty when Kubeflow is not installed)."""
    if not platform_claims(snap, namespace):
        return ()
    return tuple(c for c in COMPONENTS if component_installed(snap, namespace, c) is False)


def expected_claims(snap: Snapshot, namespace: str) -> tuple[list[PlatformClaim], list[PlatformClaim]]:
    """(claims that must exist, optional claims that do exist) for the installed variant.

    Returns ([], []) when Kubeflow is not installed (none of its components' claims or workloads,
    nor an optional claim or its workload, present). A component shown absent (Katib on a
    standalone Pipelines install) has no expected claims. Only the platform's known names are
    looked up in the snapshot's index: the cost does not grow with the number of claims in the
    cluster.
    """
    store = object_store(snap, namespace)
    present = {c: component_installed(snap, namespace, c) for c in COMPONENTS}
    installed = any(present.values()) or any(
        _present(snap, "PersistentVolumeClaim", c.name, claim_namespace(c, namespace))
        or _present(snap, "Deployment", c.workload, claim_namespace(c, namespace))
        for c in OPTIONAL
    )
    if not installed:
        return ([], [])
    # Pipelines and Katib each may run on PostgreSQL instead of MySQL: demand MySQL only when
    # its replacement is absent. A component whose presence is unknown (Deployments not read)
    # keeps its claims expected.
    required: list[PlatformClaim] = []
    if present[PIPELINES] is not False and not _present(snap, "PersistentVolumeClaim", "postgres-pvc", namespace):
        required.append(MYSQL)
    if present[KATIB] is not False and not _present(snap, "PersistentVolumeClaim", "katib-postgres", namespace):
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
