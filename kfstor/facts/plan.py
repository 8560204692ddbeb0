"""The install plan: every claim an install will create, the class it gets and whether it will bind.

From the manifests a user is about to apply (kfstor.collect.manifests) the plan lists:

- each PersistentVolumeClaim of the manifests;
- each StatefulSet's volumeClaimTemplates, one claim per replica (`<template>-<set>-<ordinal>`);
- the claims components create later from their configuration: every notebook's workspace and
  data volumes from the Jupyter web app's spawner configuration (`spawner_ui_config.yaml`, name
  templates such as `{notebook-name}-workspace`), and Katib's suggestion volumes from
  `katib-config` (an algorithm's `persistentVolumeClaimSpec`, claim `<experiment>-<algorithm>`);
- a claim a workload of the manifests mounts that neither the manifests nor the cluster hold.

Without manifests, before Kubeflow is installed, the plan is the built-in expectation of a
default install (kubeflow.PRE_INSTALL), labelled as such.

Each claim gets its class exactly as the DefaultStorageClass admission plugin assigns it (the
facts view's claim_class: the legacy annotation, then storageClassName; unset means the
effective default, newest honoured default with ties by name; no default leaves it unset), what
it stores (recognized from the images of the containers that mount it, then from Kubeflow's
built-in claim names), and a predicted outcome: binds, waits for its first consumer, stays
Pending (with the reason), or unknown. The prediction asks the same facts the checks ask (the
class, its CSI driver, access and volume modes it can serve, static volumes, binding mode) and
adds ResourceQuota and CSIStorageCapacity against the sum of the planned requests per namespace
and class.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kfstor.collect.manifests import (
    KATIB_KEY,
    KATIB_LEGACY_KEY,
    SPAWNER_KEY,
    ManifestObject,
    Manifests,
)
from kfstor.collect.snapshot import InputError, _documents
from kfstor.facts import k8s, kubeflow, storage
from kfstor.facts.profile import Serves
from kfstor.model import K8sObject, Ref, Status

if TYPE_CHECKING:
    from kfstor.facts.view import ClaimClass, Facts

# A StatefulSet asking for more replicas than this is planned for this many (and a note says so):
# a hostile file must not make the plan grow without bound.
MAX_REPLICAS = 1000
# And all StatefulSets together for at most this many claims.
MAX_TEMPLATE_CLAIMS = 20000
PROFILE_NAMESPACE = "{profile-namespace}"  # where user claims go when the manifests define no Profile
CLASS_KEY = ".storageclass.storage.k8s.io/"
MAX_PLACEMENT_STEPS = 20000
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod", "Notebook")
# Katib's defaults for a suggestion volume (kubeflow/katib pkg/controller.v1beta1/consts).
KATIB_DEFAULT_SIZE = "1Gi"
KATIB_DEFAULT_MODES = ("ReadWriteOnce",)


class Outcome(enum.Enum):
    """What happens to a planned claim once it is created."""

    BINDS = "binds"
    WAITS = "waits"  # WaitForFirstConsumer: provisioned when its pod is scheduled
    PENDING = "pending"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def status(self) -> Status:
        """How a gate counts it: a claim that will stay Pending fails, one kfstor cannot predict warns."""
        return _STATUSES[self]


_LABELS = {
    Outcome.BINDS: "binds",
    Outcome.WAITS: "waits for first consumer",
    Outcome.PENDING: "stays Pending",
    Outcome.UNKNOWN: "unknown",
}
_STATUSES = {
    Outcome.BINDS: Status.PASS,
    Outcome.WAITS: Status.PASS,
    Outcome.PENDING: Status.FAIL,
    Outcome.UNKNOWN: Status.WARN,
}


class Problem(enum.Enum):
    """Why a planned claim will not bind (or cannot be predicted): one per distinct problem, so a
    check can give each its own code. NONE for a claim that binds or waits."""

    NONE = ""
    DANGLING = "dangling"  # a workload mounts it and nothing creates it
    INVALID = "invalid"  # the API server rejects it (no size, a bad quantity, no access mode)
    NO_DEFAULT = "no-default"
    NO_STATIC_VOLUME = "no-static-volume"  # storageClassName "" or no-provisioner, no Available volume
    CLASS_MISSING = "class-missing"
    REMOVED_PLUGIN = "removed-plugin"
    DRIVER_MISSING = "driver-missing"
    ACCESS_MODE = "access-mode"  # RWX (or block RWX) the class cannot serve
    ACCESS_UNKNOWN = "access-unknown"  # RWX kfstor cannot predict for the class
    BLOCK_ON_FILE = "block-on-file"
    QUOTA = "quota"
    CAPACITY = "capacity"
    EXISTING = "existing"  # it exists and is not Bound: the installed-claim findings say why


# What a claim stores, recognized from an image name (its last path segment, without tag or
# digest): (token, label, database or object store).
STORES: tuple[tuple[str, str, bool], ...] = (
    ("mysql", "MySQL", True),
    ("mariadb", "MariaDB", True),
    ("postgres", "PostgreSQL", True),
    ("minio", "MinIO object store", True),
    ("seaweedfs", "SeaweedFS object store", True),
    ("mongo", "MongoDB", True),
    ("etcd", "etcd", True),
    ("redis", "Redis", False),
)
STORE_LABELS = {token: (label, database) for token, label, database in STORES}
# Kubeflow's own claim names and what they hold, for claims no recognizable image mounts.
KNOWN_STORES = {
    "mysql-pv-claim": "mysql",
    "katib-mysql": "mysql",
    "metadata-mysql": "mysql",
    "minio-pvc": "minio",
    "seaweedfs-pvc": "seaweedfs",
    "metadata-postgres": "postgres",
    "postgres-pvc": "postgres",
    "katib-postgres": "postgres",
    "model-catalog-postgres": "postgres",
}
KNOWN_ROLES = {c.name: c for c in (*kubeflow.REQUIRED_CORE, kubeflow.MINIO, kubeflow.SEAWEEDFS, *kubeflow.OPTIONAL)}


@dataclass(frozen=True, slots=True)
class PlannedClaim:
    """One claim the install will create, as the manifests describe it.

    `name` and `namespace` may be templates (`{notebook-name}-workspace`, `{profile-namespace}`);
    `storage_class` is what the claim asks for (None: unset, so the default; "": no class).
    """

    namespace: str
    name: str
    size: str  # the request as written ("20Gi"); "" when the claim asks for none
    access_modes: tuple[str, ...]
    volume_mode: str
    storage_class: str | None
    workload: str  # "Deployment/kubeflow/mysql", "every notebook's pod", "" when none mounts it
    stores: str  # "mysql", "postgres", "minio", "seaweedfs", "notebook workspace", ... "" unknown
    role: str  # for messages: "Pipelines MySQL (KFP and ML Metadata)", "PostgreSQL database", ...
    database: bool  # a database or object store: its storage is judged like Kubeflow's databases
    source: str  # the manifest object it came from, and the input: "ConfigMap/kubeflow/x (render.yaml)"
    created_by: str  # "the manifests", "the StatefulSet controller", "the Jupyter web app, per notebook", ...
    template: bool = False  # the name (or namespace) stands for many claims
    exists_required: bool = True  # False for a mounted claim nothing creates (it stays missing)

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}"

    def as_claim(self) -> dict[str, Any]:
        """The claim as the API server would receive it, for the helpers that read claims."""
        spec: dict[str, Any] = {"accessModes": list(self.access_modes), "volumeMode": self.volume_mode}
        if self.size:
            spec["resources"] = {"requests": {"storage": self.size}}
        if self.storage_class is not None:
            spec["storageClassName"] = self.storage_class
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": self.name, "namespace": self.namespace, "annotations": {PLANNED_ANNOTATION: "true"}},
            "spec": spec,
            "status": {"phase": "Pending"},
        }


PLANNED_ANNOTATION = "kfstor.io/planned"  # marks as_claim() dicts, which exist in no cluster


@dataclass(frozen=True, slots=True)
class PlanEntry:
    """A planned claim, the class it gets, its predicted outcome and why; `existing` is the
    cluster's claim of that name when it already exists (kubectl apply leaves it as it is)."""

    claim: PlannedClaim
    cls: ClaimClass
    outcome: Outcome
    reason: str
    existing: K8sObject | None = None
    class_obj: K8sObject | None = None  # the class judged: the cluster's, or one the manifests create
    problem: Problem = Problem.NONE

    @property
    def storage_class(self) -> K8sObject | None:
        return self.class_obj

    @property
    def class_name(self) -> str | None:
        return self.cls.name

    @property
    def class_text(self) -> str:
        """The class as reports show it: its name, "(no default)" or "(none)" for ""."""
        if self.cls.name is None:
            return "(no default)"
        return self.cls.name or '"" (static volumes only)'

    @property
    def new(self) -> bool:
        """The install creates it (it is not in the cluster yet)."""
        return self.existing is None

    @property
    def ref(self) -> Ref:
        """The claim as findings name it (a template keeps its placeholders)."""
        return Ref("PersistentVolumeClaim", self.claim.name, self.claim.namespace)

    @property
    def label(self) -> str:
        """ "planned claim kubeflow/mysql-pv-claim (Pipelines MySQL ..., 20Gi ReadWriteOnce)", for messages."""
        c = self.claim
        if not c.exists_required:
            return f"missing claim {c.where} (mounted by {c.workload}; no manifest creates it)"
        what = "planned claim template" if c.template else "planned claim"
        size = c.size or "no size"
        return f"{what} {c.where} ({c.role}, {size} {'/'.join(c.access_modes) or 'no access mode'})"


@dataclass(frozen=True, slots=True)
class Plan:
    """The plan of one audit. `source` is "manifests", "built-in" (no manifests given, Kubeflow
    not installed: today's expectations of a default install) or "none" (Kubeflow installed and
    no manifests given: nothing to plan)."""

    source: str
    entries: tuple[PlanEntry, ...] = ()
    inputs: str = ""  # the manifests read
    objects: int = 0  # objects read from them
    secrets: int = 0  # Secrets among them, not kept
    notes: tuple[str, ...] = ()
    quotas: tuple[K8sObject, ...] = ()  # ResourceQuotas the manifests create (Profiles' included)
    classes: Mapping[str, K8sObject] | None = None  # StorageClasses the manifests create, by name

    @property
    def new_classes(self) -> Mapping[str, K8sObject]:
        return self.classes or {}

    @property
    def from_manifests(self) -> bool:
        return self.source == "manifests"

    @property
    def new(self) -> tuple[PlanEntry, ...]:
        """The entries the install creates (not in the cluster yet)."""
        return tuple(e for e in self.entries if e.existing is None)

    @property
    def label(self) -> str:
        """What the plan rests on, for every report."""
        if self.source == "manifests":
            secrets = f", {self.secrets} Secret{'s' if self.secrets != 1 else ''} not kept" if self.secrets else ""
            return f"planned from the manifests {self.inputs} ({self.objects} objects{secrets})"
        if self.source == "built-in":
            names = ", ".join(f"{e.claim.name} {e.claim.size}" for e in self.entries)
            return (
                f"built-in expectations of a default Kubeflow install ({names}); no --manifests given, "
                "so renamed, resized or added claims are not seen: pass --manifests to plan from the manifests"
            )
        return "nothing planned"

    def counts(self) -> dict[str, int]:
        counts = {o.value: 0 for o in Outcome}
        for entry in self.entries:
            counts[entry.outcome.value] += 1
        return counts

    @property
    def status(self) -> Status:
        """The worst predicted outcome of a plan from manifests, as a status the gate counts (PASS
        when nothing is planned). The built-in plan does not count: its predicted failures are the
        checks' own pre-install findings (no default class, quota, capacity, driver), and a guess
        at a default install must not fail a gate a check does not fail."""
        worst = Status.PASS
        if not self.from_manifests:
            return worst
        for entry in self.entries:
            if entry.outcome.status.rank > worst.rank:
                worst = entry.outcome.status
        return worst

    def summary(self) -> str:
        """ "2 stay Pending, 1 unknown" (the outcomes that need attention), or ""."""
        if not self.from_manifests:
            return ""
        counts = self.counts()
        pending, unknown = counts[Outcome.PENDING.value], counts[Outcome.UNKNOWN.value]
        parts = []
        if pending:
            parts.append(f"{pending} {'claim stays' if pending == 1 else 'claims stay'} Pending")
        if unknown:
            parts.append(f"{unknown} unknown")
        return ", ".join(parts)


# ---------------------------------------------------------------------------------------------
# Reading claims out of the manifests


def _images_of(obj: K8sObject, volume: str | None) -> list[str]:
    """Images of the containers that mount `volume` (all containers when none or volume is None)."""
    spec = k8s.pod_spec(obj)
    if obj.get("kind") == "CronJob":
        spec = k8s.dig(obj, "spec", "jobTemplate", "spec", "template", "spec", default={})
    containers = k8s.dict_list(spec, "containers") + k8s.dict_list(spec, "initContainers")
    mounting = [
        c
        for c in containers
        if volume is not None
        and any(k8s.dig(m, "name", default="") == volume for m in k8s.dict_list(c, "volumeMounts"))
    ]
    chosen = mounting or containers
    return [k8s.dig(c, "image", default="") for c in chosen if k8s.dig(c, "image", default="")]


def recognize(images: Iterable[str]) -> str:
    """What a workload stores, from its images: "mysql", "postgres", ... or ""."""
    for image in images:
        base = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0].lower()
        for token, _label, _database in STORES:
            if token in base:
                return token
    return ""


def _role(name: str, stores: str, workload: str) -> tuple[str, bool]:
    """(what the claim holds, for messages; whether it is a database or object store)."""
    known = KNOWN_ROLES.get(name)
    if known is not None and (not stores or KNOWN_STORES.get(name) == stores):
        return known.role, known.database
    if stores in STORE_LABELS:
        label, database = STORE_LABELS[stores]
        suffix = "" if "object store" in label else " database"
        return f"{label}{suffix}", database
    if workload:
        return f"data of {workload}", False
    return "data (no workload of the manifests mounts it)", False


def _pod_volumes(obj: K8sObject) -> list[Mapping[str, Any]]:
    if obj.get("kind") == "CronJob":
        return k8s.dict_list(obj, "spec", "jobTemplate", "spec", "template", "spec", "volumes")
    return k8s.dict_list(k8s.pod_spec(obj), "volumes")


def _mounts(manifests: Manifests) -> dict[tuple[str, str], list[tuple[ManifestObject, str]]]:
    """(namespace, claim name) -> [(workload, pod volume name)] for every workload of the manifests."""
    index: dict[tuple[str, str], list[tuple[ManifestObject, str]]] = {}
    for kind in WORKLOAD_KINDS:
        for item in manifests.of(kind):
            ns = item.namespace or "default"
            for volume in _pod_volumes(item.obj):
                claim = k8s.dig(volume, "persistentVolumeClaim", "claimName", default="")
                if claim:
                    index.setdefault((ns, claim), []).append((item, k8s.dig(volume, "name", default="")))
    return index


def _workload_text(item: ManifestObject) -> str:
    return item.ref


def _size(spec: Any) -> str:
    requests: Mapping[str, Any] = k8s.dig(spec, "resources", "requests", default={})
    value = requests.get("storage")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value)


def _modes(spec: Any, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    modes = tuple(k8s.str_list(spec, "accessModes")) if isinstance(spec, Mapping) else ()
    return modes or default


def _requested_class(meta: Any, spec: Any) -> str | None:
    """The class a claim asks for, read as Kubernetes reads it (legacy annotation first)."""
    return k8s.claim_class_name({"metadata": meta if isinstance(meta, Mapping) else {}, "spec": spec})


def _claim(
    namespace: str,
    name: str,
    meta: Any,
    spec: Any,
    *,
    workload: str,
    images: list[str],
    source: str,
    created_by: str,
    template: bool = False,
    stores: str = "",
    role: str = "",
    database: bool | None = None,
    default_modes: tuple[str, ...] = (),
    default_size: str = "",
) -> PlannedClaim:
    found = stores or recognize(images) or KNOWN_STORES.get(name, "")
    derived_role, derived_database = _role(name, found, workload)
    return PlannedClaim(
        namespace=namespace,
        name=name,
        size=_size(spec) or default_size,
        access_modes=_modes(spec, default_modes),
        volume_mode=k8s.dig(spec, "volumeMode", default="Filesystem") if isinstance(spec, Mapping) else "Filesystem",
        storage_class=_requested_class(meta, spec if isinstance(spec, Mapping) else {}),
        workload=workload,
        stores=found,
        role=role or derived_role,
        database=derived_database if database is None else database,
        source=source,
        created_by=created_by,
        template=template,
    )


def _workload_of(users: list[tuple[ManifestObject, str]]) -> tuple[str, list[str]]:
    if not users:
        return "", []
    item = users[0][0]
    images = [image for user, vol in users for image in _images_of(user.obj, vol)]
    more = f" (and {len(users) - 1} more)" if len(users) > 1 else ""
    return _workload_text(item) + more, images


def _claims_from_pvcs(
    manifests: Manifests, mounts: Mapping[tuple[str, str], list[tuple[ManifestObject, str]]]
) -> list[PlannedClaim]:
    claims = []
    for item in manifests.of("PersistentVolumeClaim"):
        ns = item.namespace or "default"
        workload, images = _workload_of(mounts.get((ns, item.name), []))
        claims.append(
            _claim(
                ns,
                item.name,
                item.obj.get("metadata"),
                item.obj.get("spec"),
                workload=workload,
                images=images,
                source=f"{item.ref} ({item.origin})",
                created_by="the manifests",
            )
        )
    return claims


def _replicas(sts: K8sObject) -> int:
    value = k8s.dig(sts, "spec", "replicas", default=1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 1
    return value


def _claims_from_statefulsets(manifests: Manifests, notes: list[str]) -> list[PlannedClaim]:
    claims: list[PlannedClaim] = []
    for item in manifests.of("StatefulSet"):
        templates = k8s.dict_list(item.obj, "spec", "volumeClaimTemplates")
        if not templates:
            continue
        ns = item.namespace or "default"
        replicas = _replicas(item.obj)
        if replicas > MAX_REPLICAS:
            notes.append(f"{item.ref} asks for {replicas} replicas: the plan lists the first {MAX_REPLICAS}")
            replicas = MAX_REPLICAS
        for template in templates:
            meta = template.get("metadata")
            tname = k8s.dig(template, "metadata", "name", default="")
            if not tname:
                notes.append(f"{item.ref} has a volumeClaimTemplate without a name: not planned")
                continue
            images = _images_of(item.obj, tname)
            if len(claims) + replicas > MAX_TEMPLATE_CLAIMS:
                notes.append(
                    f"StatefulSet claim templates ask for more than {MAX_TEMPLATE_CLAIMS} claims: "
                    f"{item.ref} and the StatefulSets after it are not planned"
                )
                return claims
            for ordinal in range(replicas):
                claims.append(
                    _claim(
                        ns,
                        f"{tname}-{item.name}-{ordinal}",
                        meta,
                        template.get("spec"),
                        workload=item.ref,
                        images=images,
                        source=f"{item.ref} volumeClaimTemplate {tname} ({item.origin})",
                        created_by="the StatefulSet controller",
                    )
                )
    return claims


def _profile_namespaces(manifests: Manifests) -> list[str]:
    names = sorted({item.name for item in manifests.of("Profile") if item.name})
    return names or [PROFILE_NAMESPACE]


def _parse(text: str, label: str, notes: list[str]) -> Any:
    """The first document of a configuration text (same guards as every file), or None with a note."""
    try:
        for doc in _documents(text, label):
            return doc
    except InputError as exc:
        notes.append(f"{exc}; its claims are not planned")
    return None


def _legacy_value(field: Any) -> Any:
    return field.get("value") if isinstance(field, Mapping) else None


def _spawner_volume(value: Any) -> tuple[Any, Any] | None:
    """(metadata, spec) of a spawner volume that creates a claim, or None (existing source, none).

    The Jupyter web app 1.5+ writes {mount, newPvc: {metadata, spec}}; up to 1.4 it wrote fields
    with a value each ({type: {value: New}, name, size, accessModes, class})."""
    if not isinstance(value, Mapping):
        return None
    new_pvc = value.get("newPvc")
    if isinstance(new_pvc, Mapping):
        return new_pvc.get("metadata"), new_pvc.get("spec")
    if str(_legacy_value(value.get("type")) or "").lower() == "new":
        spec: dict[str, Any] = {}
        size = _legacy_value(value.get("size"))
        if isinstance(size, str | int) and not isinstance(size, bool):
            spec["resources"] = {"requests": {"storage": str(size)}}
        modes = _legacy_value(value.get("accessModes"))
        if isinstance(modes, str):
            spec["accessModes"] = [modes]
        cls = _legacy_value(value.get("class"))
        if cls == "{empty}":  # the web app's spellings (crud-web-apps utils.get_storage_class)
            spec["storageClassName"] = ""
        elif isinstance(cls, str) and cls and cls != "{none}":
            spec["storageClassName"] = cls
        return {"name": _legacy_value(value.get("name"))}, spec
    return None


def _claims_from_spawner(
    item: ManifestObject, text: str, namespaces: list[str], notes: list[str]
) -> list[PlannedClaim]:
    label = f"{item.ref} key {SPAWNER_KEY}"
    config = _parse(text, label, notes)
    defaults: Mapping[str, Any] = k8s.dig(config, "spawnerFormDefaults", default={})
    volumes: list[tuple[str, Any]] = []
    workspace: Mapping[str, Any] = k8s.dig(defaults, "workspaceVolume", default={})
    if isinstance(workspace, Mapping):
        volumes.append(("notebook workspace", workspace.get("value")))
    for data in k8s.dict_list(defaults, "dataVolumes", "value"):
        volumes.append(("notebook data volume", data))
    claims = []
    for what, value in volumes:
        found = _spawner_volume(value)
        if found is None:
            continue
        meta, spec = found
        name = k8s.dig(meta, "name", default="") if isinstance(meta, Mapping) else ""
        if not name:
            notes.append(f"{label}: a {what} without a claim name: not planned")
            continue
        for ns in namespaces:
            claims.append(
                _claim(
                    ns,
                    name,
                    meta,
                    spec,
                    workload="each notebook's pod",
                    images=[],
                    source=f"{label} ({item.origin})",
                    created_by="the Jupyter web app, one per notebook",
                    template="{" in name or ns == PROFILE_NAMESPACE,
                    stores=what,
                    role=f"{what} (default of the notebook form)",
                    database=False,
                    default_modes=("ReadWriteOnce",),
                )
            )
    return claims


def _katib_suggestions(item: ManifestObject, data: Mapping[str, str], notes: list[str]) -> list[tuple[str, Any]]:
    """(algorithm, persistentVolumeClaimSpec) for each suggestion that configures a volume."""
    found: list[tuple[str, Any]] = []
    if KATIB_KEY in data:
        config = _parse(data[KATIB_KEY], f"{item.ref} key {KATIB_KEY}", notes)
        for suggestion in k8s.dict_list(config, "runtime", "suggestions"):
            spec = suggestion.get("persistentVolumeClaimSpec")
            algorithm = k8s.dig(suggestion, "algorithmName", default="")
            if isinstance(spec, Mapping) and algorithm:
                found.append((algorithm, spec))
    elif KATIB_LEGACY_KEY in data:
        try:
            legacy = json.loads(data[KATIB_LEGACY_KEY])
        except (json.JSONDecodeError, RecursionError):
            notes.append(f"{item.ref} key {KATIB_LEGACY_KEY} is not JSON; its claims are not planned")
            legacy = {}
        if isinstance(legacy, Mapping):
            for algorithm, settings in legacy.items():
                spec = settings.get("persistentVolumeClaimSpec") if isinstance(settings, Mapping) else None
                if isinstance(spec, Mapping):
                    found.append((str(algorithm), spec))
    return found


def _claims_from_katib(
    item: ManifestObject, data: Mapping[str, str], namespaces: list[str], notes: list[str]
) -> list[PlannedClaim]:
    claims = []
    for algorithm, spec in _katib_suggestions(item, data, notes):
        for ns in namespaces:
            claims.append(
                _claim(
                    ns,
                    f"{{experiment-name}}-{algorithm}",
                    {},
                    spec,
                    workload=f"the {algorithm} suggestion's pod (its trials' pods mount it too)",
                    images=[],
                    source=f"{item.ref} suggestion {algorithm} ({item.origin})",
                    created_by=f"Katib, one per {algorithm} experiment with resumePolicy FromVolume",
                    template=True,
                    stores="katib suggestion",
                    role=f"Katib {algorithm} suggestion state (shared with its trials)",
                    database=False,
                    default_modes=KATIB_DEFAULT_MODES,
                    default_size=KATIB_DEFAULT_SIZE,
                )
            )
    return claims


def _dangling(
    manifests: Manifests,
    mounts: Mapping[tuple[str, str], list[tuple[ManifestObject, str]]],
    planned: set[tuple[str, str]],
    facts: Facts,
) -> list[PlannedClaim]:
    """Claims a workload of the manifests mounts that neither the manifests nor the cluster hold."""
    claims = []
    for (ns, name), users in sorted(mounts.items()):
        if (ns, name) in planned or facts.get("PersistentVolumeClaim", name, ns) is not None:
            continue
        workload, images = _workload_of(users)
        if users[0][0].kind == "Notebook":
            continue  # a notebook's claims are made by the web app before the notebook: not ours to demand
        claim = _claim(
            ns,
            name,
            {},
            {},
            workload=workload,
            images=images,
            source=f"{users[0][0].ref} ({users[0][0].origin})",
            created_by="nothing: no manifest creates it",
        )
        claims.append(replace(claim, exists_required=False))
    return claims


def planned_claims(manifests: Manifests, facts: Facts) -> tuple[list[PlannedClaim], list[str]]:
    """Every claim the manifests will create, in a stable order, and notes on what was not planned."""
    notes: list[str] = []
    mounts = _mounts(manifests)
    claims = _claims_from_pvcs(manifests, mounts)
    claims += _claims_from_statefulsets(manifests, notes)
    namespaces = _profile_namespaces(manifests)
    for item in manifests.of("ConfigMap"):
        data = item.obj.get("data") or {}
        if SPAWNER_KEY in data:
            claims += _claims_from_spawner(item, data[SPAWNER_KEY], namespaces, notes)
        if KATIB_KEY in data or KATIB_LEGACY_KEY in data:
            claims += _claims_from_katib(item, data, namespaces, notes)
    claims += _dangling(manifests, mounts, {(c.namespace, c.name) for c in claims}, facts)
    # One entry per claim: a later source of the same claim (a StatefulSet template named like a
    # PersistentVolumeClaim of the manifests) is the same object for the API server.
    unique: dict[tuple[str, str], PlannedClaim] = {}
    for claim in claims:
        unique.setdefault((claim.namespace, claim.name), claim)
    return list(unique.values()), notes


def builtin_claims(namespace: str) -> list[PlannedClaim]:
    """Today's expectations of a default install (kubeflow.PRE_INSTALL), when no manifests are given."""
    return [
        PlannedClaim(
            namespace=kubeflow.claim_namespace(c, namespace),
            name=c.name,
            size=c.size,
            access_modes=("ReadWriteOnce",),
            volume_mode="Filesystem",
            storage_class=None,
            workload=f"Deployment/{kubeflow.claim_namespace(c, namespace)}/{c.workload}",
            stores=KNOWN_STORES.get(c.name, ""),
            role=c.role,
            database=c.database,
            source="built-in expectation (default install of Kubeflow 1.11+)",
            created_by="the manifests",
        )
        for c in kubeflow.PRE_INSTALL
    ]


def planned_quotas(manifests: Manifests, facts: Facts) -> list[K8sObject]:
    """ResourceQuotas the manifests create that the cluster does not have yet: their own, and each
    Profile's resourceQuotaSpec (the profile controller names it kf-resource-quota)."""
    quotas: list[K8sObject] = []
    for item in manifests.of("ResourceQuota"):
        if facts.get("ResourceQuota", item.name, item.namespace or "default") is None:
            quotas.append(item.obj)
    for item in manifests.of("Profile"):
        spec: Mapping[str, Any] = k8s.dig(item.obj, "spec", "resourceQuotaSpec", default={})
        if spec and facts.get("ResourceQuota", "kf-resource-quota", item.name) is None:
            quotas.append(
                {
                    "apiVersion": "v1",
                    "kind": "ResourceQuota",
                    "metadata": {"name": "kf-resource-quota", "namespace": item.name},
                    "spec": dict(spec),
                }
            )
    return quotas


# ---------------------------------------------------------------------------------------------
# Predicting each claim's outcome


def _static_volume(facts: Facts, claim: PlannedClaim, class_name: str) -> str | None:
    """An Available PersistentVolume of the class that can take the claim (size, modes, volume mode)."""
    wanted = k8s.quantity_bytes(claim.size) or 0
    for pv in facts.of("PersistentVolume"):
        if k8s.phase(pv, default="") != "Available":
            continue
        if (
            k8s.dig(pv, "spec", "storageClassName", default="") != class_name
            or k8s.volume_mode(pv) != claim.volume_mode
        ):
            continue
        if not set(claim.access_modes) <= set(k8s.access_modes(pv)):
            continue
        if (k8s.quantity_bytes(k8s.dig(pv, "spec", "capacity", "storage", default="")) or 0) >= wanted:
            return k8s.name(pv)
    return None


def _existing(facts: Facts, pvc: K8sObject) -> tuple[Outcome, str, Problem]:
    phase = k8s.phase(pvc)
    if phase == "Bound":
        volume = k8s.dig(pvc, "spec", "volumeName", default="")
        return (
            Outcome.BINDS,
            f"exists in the cluster and is Bound{f' to {volume}' if volume else ''}; apply leaves it",
            Problem.NONE,
        )
    if facts.waits_for_consumer(pvc):
        return Outcome.WAITS, "exists in the cluster and waits for its first consumer", Problem.NONE
    return (
        Outcome.PENDING,
        f"exists in the cluster and is {phase} (kubeflow_claims and claim_health say why)",
        Problem.EXISTING,
    )


def predict(
    facts: Facts, claim: PlannedClaim, cls: ClaimClass, class_obj: K8sObject | None
) -> tuple[Outcome, str, Problem]:
    """The outcome of creating the claim now, from the class it gets (`class_obj`: the cluster's
    class, or the one the manifests create) and what the cluster can serve."""
    from kfstor.facts.view import ClassSource

    if not claim.exists_required:
        return (
            Outcome.PENDING,
            (
                f"{claim.workload} mounts it but neither the manifests nor the cluster create it: "
                "the pod stays Pending until the claim exists"
            ),
            Problem.DANGLING,
        )
    if not claim.size:
        return (
            Outcome.PENDING,
            "it requests no storage size: the API server rejects it (spec.resources.requests.storage)",
            Problem.INVALID,
        )
    if k8s.quantity_bytes(claim.size) is None:
        return (
            Outcome.PENDING,
            f"its size {claim.size!r} is not a Kubernetes quantity: the API server rejects it",
            Problem.INVALID,
        )
    if not claim.access_modes:
        return (
            Outcome.PENDING,
            "it asks for no access mode: the API server rejects it (spec.accessModes)",
            Problem.INVALID,
        )
    if cls.source is ClassSource.NO_DEFAULT:
        return (
            Outcome.PENDING,
            (
                "it names no StorageClass and the cluster has no default class: mark one class default "
                "(Kubernetes 1.26+ then assigns it to the waiting claim)"
            ),
            Problem.NO_DEFAULT,
        )
    if cls.source is ClassSource.EMPTY:
        volume = _static_volume(facts, claim, "")
        if volume:
            return (
                Outcome.BINDS,
                f'storageClassName "" binds it to the Available PersistentVolume {volume}',
                Problem.NONE,
            )
        return (
            Outcome.PENDING,
            (
                'it asks for storageClassName "" (static volumes only) and no Available PersistentVolume without '
                "a class matches it: create one by hand"
            ),
            Problem.NO_STATIC_VOLUME,
        )
    sc = class_obj
    name = cls.name or ""
    if sc is None:
        return (
            Outcome.PENDING,
            f"its StorageClass {name} does not exist: create it or change the claim's class",
            Problem.CLASS_MISSING,
        )
    created = "" if cls.obj is not None else " (created by the manifests)"
    prov = k8s.provisioner(sc)
    if prov in storage.REMOVED_IN_TREE:
        return (
            Outcome.PENDING,
            f"StorageClass {name}{created} uses {prov}, a removed in-tree plugin ({storage.REMOVED_IN_TREE[prov]})",
            Problem.REMOVED_PLUGIN,
        )
    wffc = k8s.waits_for_consumer(sc)
    if prov == k8s.NO_PROVISIONER:
        volume = _static_volume(facts, claim, name)
        if volume is None:
            return (
                Outcome.PENDING,
                (
                    f"StorageClass {name}{created} uses {prov} and no Available PersistentVolume of it matches "
                    f"({claim.size}, {', '.join(claim.access_modes)}): create one by hand"
                ),
                Problem.NO_STATIC_VOLUME,
            )
        if wffc:
            return (
                Outcome.WAITS,
                f"binds to the static PersistentVolume {volume} once its pod is scheduled",
                Problem.NONE,
            )
        return Outcome.BINDS, f"binds to the static PersistentVolume {volume}", Problem.NONE
    missing = facts.driver_missing(sc)
    if missing:
        return (
            Outcome.PENDING,
            (
                f"StorageClass {name}{created} needs the CSI driver {missing}, which is not registered: nothing "
                "provisions the volume; install the driver"
            ),
            Problem.DRIVER_MISSING,
        )
    block = claim.volume_mode == "Block"
    if any(mode in k8s.SHARED_MODES for mode in claim.access_modes):
        verdict = storage.rwx_block_capability(sc) if block else facts.rwx_fs(sc)
        kind = "raw block" if block else "filesystem"
        modes = "/".join(m for m in claim.access_modes if m in k8s.SHARED_MODES)
        if verdict.capable is False:
            return (
                Outcome.PENDING,
                (
                    f"it asks for {modes} {kind} volumes, which StorageClass {name}{created} cannot serve "
                    f"({verdict.reason}): use a class that can"
                ),
                Problem.ACCESS_MODE,
            )
        if verdict.capable is None:
            return (
                Outcome.UNKNOWN,
                (
                    f"it asks for {modes} {kind} volumes and kfstor cannot tell whether StorageClass {name}{created} "
                    f"serves them ({verdict.reason})"
                ),
                Problem.ACCESS_UNKNOWN,
            )
    elif block and storage.serves(sc) is Serves.FILE:
        return (
            Outcome.PENDING,
            f"it asks for a raw block volume and StorageClass {name}{created} is a file system",
            Problem.BLOCK_ON_FILE,
        )
    if wffc:
        consumer = claim.workload if "pod" in claim.workload else f"{claim.workload}'s pod"
        consumer = consumer if claim.workload else "a pod that uses it"
        return (
            Outcome.WAITS,
            (
                f"StorageClass {name}{created} ({prov}) binds WaitForFirstConsumer: "
                f"provisioned when {consumer} is scheduled"
            ),
            Problem.NONE,
        )
    return Outcome.BINDS, f"StorageClass {name}{created} ({prov}) provisions it when the claim is created", Problem.NONE


# ---------------------------------------------------------------------------------------------
# Quota and published capacity against the sum of the planned requests


def fits(sizes: Sequence[int], free: Sequence[tuple[int, int]]) -> bool:
    """Can every size go into some segment (free capacity, largest volume) without overfilling it?
    Backtracking over the sizes, largest first, bounded to MAX_PLACEMENT_STEPS (then: no)."""
    remaining = [cap for cap, _ in free]
    largest = [mx for _, mx in free]
    order = sorted(sizes, reverse=True)
    steps = 0

    def go(i: int) -> bool:
        nonlocal steps
        if i == len(order):
            return True
        tried: set[tuple[int, int]] = set()
        for s in range(len(remaining)):
            steps += 1
            if steps > MAX_PLACEMENT_STEPS:
                return False
            size = order[i]
            if remaining[s] < size or largest[s] < size or (remaining[s], largest[s]) in tried:
                continue
            tried.add((remaining[s], largest[s]))
            remaining[s] -= size
            if go(i + 1):
                return True
            remaining[s] += size
        return False

    return go(0)


def _bytes(entry: PlanEntry) -> int:
    return k8s.quantity_bytes(entry.claim.size) or 0


def _quota_limits(facts: Facts, quota: K8sObject, entries: list[PlanEntry]) -> list[tuple[str, list[PlanEntry]]]:
    """(why, the entries it rejects) for each limit of the quota the new entries would exceed."""
    hard: Mapping[str, Any] = k8s.dig(quota, "spec", "hard", default={})
    used: Mapping[str, Any] = k8s.dig(quota, "status", "used", default={})
    ns = k8s.namespace(quota)
    present = [p for p in facts.of("PersistentVolumeClaim") if k8s.namespace(p) == ns] if hard else []
    over = []
    for key in sorted(k for k in hard if isinstance(k, str)):
        cls, resource = None, key
        if CLASS_KEY in key:
            cls, _, resource = key.partition(CLASS_KEY)
        if resource not in ("requests.storage", "persistentvolumeclaims"):
            continue
        limit = k8s.quantity_bytes(hard[key])
        if limit is None:
            continue
        scoped = [e for e in entries if cls is None or e.class_name == cls]
        if not scoped:
            continue
        mine = [p for p in present if cls is None or facts.claim_class(p).name == cls]
        current = k8s.quantity_bytes(used.get(key))
        if resource == "requests.storage":
            if current is None:
                current = sum(k8s.quantity_bytes(k8s.requested_storage(p)) or 0 for p in mine)
            adding = sum(_bytes(e) for e in scoped)
            shown = (k8s.format_bytes(current), k8s.format_bytes(adding), k8s.format_bytes(limit))
            text = f"{key}: {shown[0]} used + {shown[1]} planned of {shown[2]}"
        else:
            current = len(mine) if current is None else current
            adding = len(scoped)
            text = f"{key}: {current} used + {adding} planned of {limit}"
        if current + adding > limit:
            over.append((f"ResourceQuota {ns}/{k8s.name(quota)} ({text})", scoped))
    return over


def _capacity_segments(facts: Facts, class_name: str) -> list[tuple[int, int]]:
    segments = []
    for obj in facts.of("CSIStorageCapacity"):
        if k8s.dig(obj, "storageClassName", default="") != class_name or not isinstance(
            obj.get("nodeTopology"), Mapping
        ):
            continue
        cap = k8s.quantity_bytes(obj.get("capacity"))
        if cap is None:
            continue
        largest = k8s.quantity_bytes(obj.get("maximumVolumeSize"))
        segments.append((cap, min(cap, largest) if largest is not None else cap))
    return segments


def _limit_outcomes(facts: Facts, entries: list[PlanEntry], quotas: Sequence[K8sObject]) -> list[PlanEntry]:
    """Entries the quota or the published capacity cannot take become Pending, with the reason.

    The quota charges every claim that is created (even one that stays Pending for another
    reason); the capacity only the ones that would otherwise be provisioned. A template counts
    once: the first notebook, the first experiment."""
    new = [e for e in entries if e.new and e.claim.exists_required and e.claim.size and "{" not in e.claim.namespace]
    blocked: dict[int, tuple[str, Problem]] = {}
    by_ns: dict[str, list[PlanEntry]] = {}
    for entry in new:
        by_ns.setdefault(entry.claim.namespace, []).append(entry)
    all_quotas = [*facts.of("ResourceQuota"), *quotas]
    for quota in all_quotas:
        scoped = by_ns.get(k8s.namespace(quota), [])
        for why, rejected in _quota_limits(facts, quota, scoped) if scoped else []:
            for entry in rejected:
                blocked.setdefault(
                    id(entry),
                    (f"creating the planned claims exceeds {why}: claims past the limit are rejected", Problem.QUOTA),
                )
    provisioned = [e for e in new if e.outcome in (Outcome.BINDS, Outcome.WAITS) and id(e) not in blocked]
    by_class: dict[str, list[PlanEntry]] = {}
    for entry in provisioned:
        if entry.class_name:
            by_class.setdefault(entry.class_name, []).append(entry)
    for class_name, mine in sorted(by_class.items()):
        segments = _capacity_segments(facts, class_name)
        if not segments:
            continue
        biggest = max(mx for _, mx in segments)
        free = k8s.format_bytes(sum(cap for cap, _ in segments))
        published = f"{free} free in {len(segments)} topology segment(s), largest volume {k8s.format_bytes(biggest)}"
        for entry in mine:
            if _bytes(entry) > biggest:
                blocked[id(entry)] = (
                    f"StorageClass {class_name} publishes no segment that holds {entry.claim.size} ({published})",
                    Problem.CAPACITY,
                )
        rest = [e for e in mine if id(e) not in blocked]
        if rest and not fits([_bytes(e) for e in rest], segments):
            total = k8s.format_bytes(sum(_bytes(e) for e in rest))
            for entry in rest:
                blocked[id(entry)] = (
                    f"StorageClass {class_name} publishes too little capacity for the planned {total} ({published})",
                    Problem.CAPACITY,
                )
    return [
        replace(e, outcome=Outcome.PENDING, reason=blocked[id(e)][0], problem=blocked[id(e)][1])
        if id(e) in blocked and e.outcome is not Outcome.PENDING
        else e
        for e in entries
    ]


# ---------------------------------------------------------------------------------------------
# The plan


def _entry(facts: Facts, claim: PlannedClaim, manifest_classes: Mapping[str, K8sObject]) -> PlanEntry:
    cls = facts.claim_class(claim.as_claim())
    existing = None if claim.template else facts.get("PersistentVolumeClaim", claim.name, claim.namespace)
    if existing is not None:
        outcome, reason, problem = _existing(facts, existing)
        existing_class = facts.claim_class(existing)
        return PlanEntry(claim, existing_class, outcome, reason, existing, existing_class.obj, problem)
    class_obj = cls.obj if cls.obj is not None else manifest_classes.get(cls.name or "")
    outcome, reason, problem = predict(facts, claim, cls, class_obj)
    return PlanEntry(claim, cls, outcome, reason, None, class_obj, problem)


def build_plan(facts: Facts, manifests: Manifests | None) -> Plan:
    if manifests is None:
        if kubeflow.platform_claims(facts.snapshot, facts.namespace):
            return Plan("none")  # installed: the installed claims are judged, nothing is planned
        claims, notes, quotas = builtin_claims(facts.namespace), [], []  # type: list[PlannedClaim], list[str], list[K8sObject]
    else:
        claims, notes = planned_claims(manifests, facts)
        quotas = planned_quotas(manifests, facts)
    manifest_classes = (
        {item.name: item.obj for item in manifests.of("StorageClass") if item.name not in facts.classes}
        if manifests
        else {}
    )
    entries = [_entry(facts, claim, manifest_classes) for claim in claims]
    entries = _limit_outcomes(facts, entries, quotas)
    if manifests is None:
        return Plan("built-in", tuple(entries), quotas=())
    return Plan(
        "manifests",
        tuple(entries),
        inputs=manifests.description,
        objects=manifests.total,
        secrets=manifests.secrets,
        notes=tuple(notes),
        quotas=tuple(quotas),
        classes=manifest_classes,
    )
