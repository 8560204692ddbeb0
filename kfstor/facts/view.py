"""The facts view: what every check reads about a snapshot, derived once per audit.

Checks never re-derive these facts (which class a claim gets, which CSI drivers are registered,
which pods use a claim, which event explains a claim, which claims are Kubeflow's databases):
they ask this view, so two checks cannot disagree about the same object. Everything is computed
on first use and cached, so an audit pays only for the facts its checks need.

The view also answers what a Snapshot answers (of, get, available, has_collected), so a drop-in
check written against kfstor 1.0's Snapshot keeps working.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from kfstor.collect.manifests import Manifests
from kfstor.collect.snapshot import Snapshot, not_installed
from kfstor.facts import k8s, kubeflow, storage
from kfstor.facts import plan as planning
from kfstor.facts.profile import Answer, Profile
from kfstor.model import DEFAULT_NAMESPACE, K8sObject, Ref

T = TypeVar("T")
# How provisioners word a refused access mode: "access mode ... not supported", "multi node access
# modes are only supported on rbd `block` type volumes" (ceph-csi), "MULTI_NODE_MULTI_WRITER".
ACCESS_MODE_REJECTION = re.compile(r"access ?mode|multi[ _-]?node|readwritemany|volume capabilit", re.IGNORECASE)
# A default-class annotation is honoured only with the value exactly "true" (kubernetes
# pkg/volume/util/storageclass.go IsDefaultAnnotation); "false" is a deliberate no.
NOT_DEFAULT_VALUES = ("true", "false")


class ClassSource(enum.Enum):
    """How a claim's StorageClass is decided."""

    NAMED = "named"  # the claim names a class (spec or the legacy annotation)
    DEFAULT = "default"  # it names none and gets the effective default
    NO_DEFAULT = "no default"  # it names none and the cluster has no default
    EMPTY = "empty"  # storageClassName "": static class-less volumes only


# Events a provisioner itself emits on a claim it works on (external-provisioner, and the
# sig-storage-lib-external-provisioner that local-path and NFS subdir are built on).
PROVISIONER_ACTIVITY = frozenset({"Provisioning", "ProvisioningSucceeded", "ProvisioningFailed"})


@dataclass(frozen=True, slots=True)
class ClaimClass:
    """The class a claim gets. `name` is None only for NO_DEFAULT and "" for EMPTY; `obj` is None
    when there is no class or the named class does not exist."""

    source: ClassSource
    name: str | None
    obj: K8sObject | None

    @property
    def missing(self) -> bool:
        """The claim names a class that does not exist."""
        return self.source is ClassSource.NAMED and self.obj is None


@dataclass(frozen=True, slots=True)
class IgnoredDefault:
    """A default-class annotation Kubernetes does not honour (value not exactly "true")."""

    class_name: str
    annotation: str
    value: str


@dataclass(frozen=True, slots=True)
class DefaultClass:
    """The cluster's default StorageClass as Kubernetes picks it (newest honoured default, ties by
    name), the other honoured defaults, and annotations that look default but are not."""

    effective: K8sObject | None
    others: tuple[K8sObject, ...]
    ignored: tuple[IgnoredDefault, ...]

    @property
    def name(self) -> str | None:
        return k8s.name(self.effective) if self.effective is not None else None


@dataclass(frozen=True, slots=True)
class PlatformClaimFacts:
    """One of Kubeflow's platform claims: the expectation, the claim if it exists, its class and volume."""

    claim: kubeflow.PlatformClaim
    namespace: str
    pvc: K8sObject | None
    cls: ClaimClass | None  # None when the claim does not exist
    pv: K8sObject | None

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.claim.name}"

    @property
    def storage_class(self) -> K8sObject | None:
        return self.cls.obj if self.cls is not None else None

    @property
    def class_name(self) -> str | None:
        return self.cls.name if self.cls is not None else None


@dataclass(frozen=True, slots=True)
class Platform:
    """Kubeflow in its namespace: whether it is installed and the claims of the installed variant.

    Before install `claims` is empty and `future_class` is the class its claims will get (they name
    none, so the effective default). `planned` is what the install will create when manifests were
    given (kfstor.facts.plan: every planned claim not in the cluster yet, with its class and
    predicted outcome), empty otherwise; checks judge those entries like installed claims."""

    namespace: str
    installed: bool
    claims: tuple[PlatformClaimFacts, ...]
    future_class: K8sObject | None
    planned: tuple[planning.PlanEntry, ...] = ()
    # Components shown absent from the installed Kubeflow (Katib on a standalone Pipelines
    # install): their claims are not expected, and the checks say so instead of passing silently.
    absent: tuple[kubeflow.Component, ...] = ()

    def absent_claims(self) -> tuple[tuple[Ref, str], ...]:
        """(the component's first claim, why it is not expected) per absent component whose claims
        the install (--manifests) does not create either."""
        return tuple(
            (
                Ref("PersistentVolumeClaim", component.claims[0], self.namespace),
                kubeflow.not_installed_text(component, self.namespace),
            )
            for component in self.absent
            if not any(self.is_planned(self.namespace, name) for name in component.claims)
        )

    def is_planned(self, namespace: str, name: str) -> bool:
        """The install (--manifests) creates this claim: a missing platform claim is not reported missing."""
        return any(e.claim.namespace == namespace and e.claim.name == name for e in self.planned)

    @property
    def planned_databases(self) -> tuple[planning.PlanEntry, ...]:
        """The planned database and object-store claims whose storage is judged."""
        return tuple(e for e in self.planned if e.claim.database)

    @property
    def databases(self) -> tuple[PlatformClaimFacts, ...]:
        """The database and object-store claims that exist: the ones whose storage is judged."""
        return tuple(c for c in self.claims if c.pvc is not None and c.claim.database)

    def not_judged(self) -> tuple[tuple[K8sObject | Ref, str], ...]:
        """(subject, why) for each platform claim whose storage is not judged: a missing claim
        (kubeflow_claims reports it), one that holds no database (authservice's sessions), or the
        claim of a component that is not installed."""
        rows: list[tuple[K8sObject | Ref, str]] = list(self.absent_claims())
        for row in self.claims:
            if row.pvc is None and self.is_planned(row.namespace, row.claim.name):
                continue  # the install creates it: judged as a planned claim
            if row.pvc is None:
                subject = Ref("PersistentVolumeClaim", row.claim.name, row.namespace)
                rows.append((subject, f"claim {row.where} does not exist; kubeflow_claims reports it"))
            elif not row.claim.database:
                rows.append((row.pvc, f"claim {row.where} holds {row.claim.role}, no database: not judged"))
        return tuple(rows)

    @property
    def database_classes(self) -> dict[str, list[str]]:
        """Class name -> the database claims ("ns/name") that use it."""
        users: dict[str, list[str]] = {}
        for row in self.databases:
            if row.storage_class is not None:
                users.setdefault(k8s.name(row.storage_class), []).append(row.where)
        return users


class Facts:
    """The shared facts of one snapshot, for one Kubeflow namespace."""

    def __init__(
        self, snapshot: Snapshot, namespace: str = DEFAULT_NAMESPACE, manifests: Manifests | None = None
    ) -> None:
        self.snapshot = snapshot
        self.namespace = namespace
        self.manifests = manifests  # what `--manifests` read: the install being planned
        self._memo: dict[str, Any] = {}

    # --- the Snapshot's own questions, for checks written against kfstor 1.0 -------------------

    def of(self, kind: str) -> tuple[dict[str, Any], ...]:
        return self.snapshot.of(kind)

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        return self.snapshot.get(kind, name, namespace)

    def available(self, kind: str) -> bool:
        return self.snapshot.available(kind)

    def has_collected(self, kind: str) -> bool:
        return self.snapshot.has_collected(kind)

    @property
    def unavailable(self) -> Mapping[str, str]:
        return self.snapshot.unavailable

    def memo(self, key: str, build: Callable[[Snapshot], T]) -> T:
        return self.snapshot.memo(key, build)

    def unreadable(self, kind: str) -> str | None:
        """Why a kind could not be read ("forbidden: list events"), or None when it was."""
        return self.snapshot.unavailable.get(kind)

    def not_installed(self, kind: str) -> bool:
        """The kind's API does not exist in the cluster (not applicable), as opposed to existing
        but not readable (forbidden, not served, discovery refused: not evaluated)."""
        reason = self.snapshot.unavailable.get(kind)
        return reason is not None and not_installed(reason)

    # --- StorageClasses ---------------------------------------------------------------------------

    @cached_property
    def classes(self) -> dict[str, K8sObject]:
        """StorageClasses by name, in name order."""
        return {k8s.name(sc): sc for sc in sorted(self.snapshot.of("StorageClass"), key=k8s.name)}

    @cached_property
    def default(self) -> DefaultClass:
        marked = k8s.default_classes(self.snapshot.of("StorageClass"))
        ignored = []
        for sc_name, sc in self.classes.items():
            for key in k8s.DEFAULT_CLASS_ANNOTATIONS:
                value = k8s.annotations(sc).get(key)
                if value is not None and str(value) not in NOT_DEFAULT_VALUES:
                    ignored.append(IgnoredDefault(sc_name, key, str(value)))
        return DefaultClass(effective=marked[0] if marked else None, others=tuple(marked[1:]), ignored=tuple(ignored))

    def claim_class(self, pvc: K8sObject) -> ClaimClass:
        """The class a claim gets, exactly as Kubernetes reads it: the legacy annotation, then
        spec.storageClassName; unset means the effective default (assigned at creation, and
        retroactively to waiting claims since 1.26)."""
        wanted = k8s.claim_class_name(pvc)
        if wanted is None:
            default = self.default.effective
            if default is None:
                return ClaimClass(ClassSource.NO_DEFAULT, None, None)
            return ClaimClass(ClassSource.DEFAULT, k8s.name(default), default)
        if wanted == "":
            return ClaimClass(ClassSource.EMPTY, "", None)
        return ClaimClass(ClassSource.NAMED, wanted, self.classes.get(wanted))

    def profile(self, sc: K8sObject) -> Profile | None:
        """kfstor's table row for the class's provisioner (None: not in the table, cannot verify)."""
        return storage.profile_of(k8s.provisioner(sc))

    @cached_property
    def _rwx_proven(self) -> dict[str, str]:
        """Class name -> the evidence that it serves ReadWriteMany file systems: a claim of it Bound
        with ReadWriteMany and mounted by active pods on two or more nodes."""
        proven: dict[str, str] = {}
        for pvc in self.snapshot.of("PersistentVolumeClaim"):
            if "ReadWriteMany" not in k8s.access_modes(pvc) or k8s.phase(pvc) != "Bound":
                continue
            if k8s.volume_mode(pvc) != "Filesystem" or "ReadWriteMany" not in k8s.str_list(
                pvc, "status", "accessModes"
            ):
                continue
            cls = self.claim_class(pvc).name
            if not cls or cls in proven:
                continue
            nodes = sorted(self.claim_nodes(k8s.namespace(pvc), k8s.name(pvc)))
            if len(nodes) >= 2:
                proven[cls] = (
                    f"claim {k8s.namespace(pvc)}/{k8s.name(pvc)} is Bound ReadWriteMany and mounted on nodes "
                    f"{', '.join(nodes[:3])}"
                )
        return proven

    def rwx_fs(self, sc: K8sObject) -> storage.RwxVerdict:
        """Can the class serve ReadWriteMany file systems? What the snapshot shows outranks the table."""
        verdict = storage.rwx_capability(sc)
        proof = self._rwx_proven.get(k8s.name(sc))
        if proof is not None and verdict.capable is not True:
            return storage.RwxVerdict(True, f"shown by the cluster: {proof}")
        return verdict

    @cached_property
    def no_rwx_class(self) -> bool:
        """No class serves ReadWriteMany file systems and none might (exactly when rwx_available
        reports KFS-RWX-NONE): classes exist, and every volume class is known unable, or able but
        without its registered CSI driver. Findings that fail only because of it name it as cause."""
        if not self.classes:
            return False
        for sc in self.classes.values():
            if not storage.is_volume_class(sc):
                continue
            verdict = self.rwx_fs(sc)
            if verdict.capable is None or (verdict.capable is True and not self.driver_missing(sc)):
                return False
        return True

    def rwx_rejection(self, pvc: K8sObject) -> K8sObject | None:
        """The provisioner's ProvisioningFailed event when it refused the claim's access mode."""
        failed = self.provisioning_failure(pvc)
        if failed is not None and ACCESS_MODE_REJECTION.search(k8s.dig(failed, "message", default="")):
            return failed
        return None

    @cached_property
    def _zone_pinned(self) -> dict[str, tuple[str, str]]:
        """Class name -> (a volume, its zone) for classes with a PersistentVolume pinned to one zone."""
        pinned: dict[str, tuple[str, str]] = {}
        for pv in self.snapshot.of("PersistentVolume"):
            cls = k8s.dig(pv, "spec", "storageClassName", default="")
            if not cls or cls in pinned:
                continue
            zone = k8s.pv_zone(pv)
            if zone:
                pinned[cls] = (k8s.name(pv), zone)
        return pinned

    def zonal(self, sc: K8sObject) -> Answer:
        """Does each volume of this class live in one zone? A PersistentVolume of the class pinned to
        a zone by its node affinity proves it; otherwise the driver table answers."""
        evidence = self._zone_pinned.get(k8s.name(sc))
        if evidence is not None:
            volume, zone = evidence
            return Answer(True, f"its PersistentVolume {volume} is pinned to zone {zone} (node affinity)")
        return storage.zonal(sc)

    # --- CSI drivers ------------------------------------------------------------------------------

    @cached_property
    def csi_drivers(self) -> dict[str, K8sObject] | None:
        """Registered CSIDrivers by name; None when they could not be read (forbidden), so nothing
        can be called missing. Plain kubectl input without CSIDrivers means none are registered,
        as the report's note says (a live audit of the same cluster sees the same)."""
        if not self.snapshot.available("CSIDriver"):
            return None
        return {k8s.name(d): d for d in self.snapshot.of("CSIDriver")}

    def driver_missing(self, sc: K8sObject) -> str | None:
        """The CSI driver a class needs when the drivers were read and it is not among them."""
        drivers = self.csi_drivers
        return storage.csi_driver_missing(sc, frozenset(drivers) if drivers is not None else None)

    @cached_property
    def unattached_drivers(self) -> frozenset[str]:
        """Registered CSI drivers whose CSIDriver says attachRequired: false."""
        return frozenset(
            name
            for name, d in (self.csi_drivers or {}).items()
            if k8s.dig(d, "spec", "attachRequired", default=True) is False
        )

    # --- pods and events --------------------------------------------------------------------------

    def claim_users(self, namespace: str, claim: str) -> list[K8sObject]:
        """Active pods mounting a claim (empty when pods were not read)."""
        return k8s.claim_users(self.snapshot).get((namespace, claim), [])

    def claim_nodes(self, namespace: str, claim: str) -> set[str]:
        return {k8s.pod_node(p) for p in self.claim_users(namespace, claim)} - {""}

    def events(self, kind: str, namespace: str, name: str) -> list[K8sObject]:
        """An object's events, newest first (cluster-scoped objects: namespace "")."""
        return k8s.object_events(self.snapshot).get((kind, namespace, name), [])

    def meaningful_event(self, kind: str, namespace: str, name: str) -> K8sObject | None:
        """The event that explains an object: its newest Warning, else its newest event. The PV
        controller re-emits the Normal ExternalProvisioning event on every resync while a claim
        waits, so the newest event is usually that one, and a provisioner's Warning
        (ProvisioningFailed) is the one that says what is wrong."""
        found = self.events(kind, namespace, name)
        warnings = [ev for ev in found if k8s.dig(ev, "type", default="") == "Warning"]
        if warnings:
            return warnings[0]
        return found[0] if found else None

    def never_picked_up(self, pvc: K8sObject) -> bool:
        """A claim its external provisioner never worked on: the PV controller's ExternalProvisioning
        events, and none of the provisioner's own (it is not running, or not registered)."""
        events = self.events("PersistentVolumeClaim", k8s.namespace(pvc), k8s.name(pvc))
        reasons = {k8s.dig(ev, "reason", default="") for ev in events}
        return "ExternalProvisioning" in reasons and not reasons & PROVISIONER_ACTIVITY

    def provisioning_failure(self, pvc: K8sObject) -> K8sObject | None:
        """The claim's newest ProvisioningFailed event: the provisioner's own word on why it failed."""
        for ev in self.events("PersistentVolumeClaim", k8s.namespace(pvc), k8s.name(pvc)):
            if k8s.dig(ev, "reason", default="") == "ProvisioningFailed":
                return ev
        return None

    def waits_for_consumer(self, pvc: K8sObject) -> bool:
        """A Pending claim that is waiting as WaitForFirstConsumer claims do: its class binds on
        first consumer, no pod using it is scheduled, the scheduler has chosen no node for it
        (volume.kubernetes.io/selected-node), and no provisioning attempt failed. After a failed
        attempt external-provisioner removes selected-node to reschedule, so a missing node is no
        proof of waiting: the ProvisioningFailed event is what tells the two apart."""
        if k8s.phase(pvc) != "Pending" or not k8s.waits_for_consumer(self.claim_class(pvc).obj):
            return False
        if k8s.annotations(pvc).get(k8s.SELECTED_NODE_ANNOTATION):
            return False
        if any(k8s.pod_node(p) for p in self.claim_users(k8s.namespace(pvc), k8s.name(pvc))):
            return False
        return self.provisioning_failure(pvc) is None

    def no_events_text(self) -> str:
        """What to say when an object has no events: they expired, or they could not be read."""
        why = self.unreadable("Event")
        if why:
            return f"events not readable ({why})"
        return "no events recorded (events expire after an hour; kubectl describe shows new ones)"

    # --- Kubeflow ---------------------------------------------------------------------------------

    @cached_property
    def platform(self) -> Platform:
        rows = []
        for claim, pvc in kubeflow.platform_claims(self.snapshot, self.namespace):
            cls = self.claim_class(pvc) if pvc is not None else None
            volume = k8s.dig(pvc, "spec", "volumeName", default="") if pvc is not None else ""
            pv = self.snapshot.get("PersistentVolume", volume) if volume else None
            rows.append(PlatformClaimFacts(claim, kubeflow.claim_namespace(claim, self.namespace), pvc, cls, pv))
        return Platform(
            namespace=self.namespace,
            installed=bool(rows),
            claims=tuple(rows),
            future_class=self.default.effective,
            planned=self.plan.new if self.plan.from_manifests else (),
            absent=kubeflow.absent_components(self.snapshot, self.namespace),
        )

    # --- the install plan (kfstor.facts.plan) -------------------------------------------------------

    @cached_property
    def plan(self) -> planning.Plan:
        """Every claim the install will create, from the manifests (or, before install without
        them, the built-in expectations), with its class and predicted outcome."""
        return planning.build_plan(self, self.manifests)
