"""Small pure helpers over Kubernetes objects as plain dicts.

Every read is type-defensive: a snapshot may come from a hand-edited or hostile file, so a field
of the wrong type reads as absent instead of crashing a check.
"""

import math
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from kfstor.collect.snapshot import Snapshot
from kfstor.model import K8sObject

T = TypeVar("T")

DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
LEGACY_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
SELECTED_NODE_ANNOTATION = "volume.kubernetes.io/selected-node"
NO_PROVISIONER = "kubernetes.io/no-provisioner"
WFFC = "WaitForFirstConsumer"


def dig(obj: Any, *path: str, default: T) -> T:
    """obj[path0][path1]... when every step is a mapping and the leaf has default's type."""
    current = obj
    for key in path:
        # `type(...) is dict` first: the ABC isinstance check is slow and plain dicts are the norm.
        if type(current) is not dict and not isinstance(current, Mapping):
            return default
        current = current.get(key)
    if current is None:
        return default
    kind = type(default)
    if type(current) is kind or isinstance(current, kind):
        return current
    return default


def _meta_str(obj: K8sObject, key: str) -> str:
    # The hottest reads of every check (name, namespace of 100,000 objects): plain dicts take the
    # direct path, anything else goes through dig's checks.
    meta = obj.get("metadata") if type(obj) is dict else None
    if type(meta) is dict:
        value = meta.get(key)
        return value if type(value) is str else ""
    return dig(obj, "metadata", key, default="")


def name(obj: K8sObject) -> str:
    return _meta_str(obj, "name")


def namespace(obj: K8sObject) -> str:
    return _meta_str(obj, "namespace")


def annotations(obj: K8sObject) -> Mapping[str, Any]:
    return dig(obj, "metadata", "annotations", default={})


def labels(obj: K8sObject) -> Mapping[str, Any]:
    return dig(obj, "metadata", "labels", default={})


def creation_timestamp(obj: K8sObject) -> str:
    # RFC 3339 in UTC ("2024-05-01T10:00:00Z") sorts correctly as text.
    value = dig(obj, "metadata", "creationTimestamp", default="")
    return value if isinstance(value, str) else str(value)


def str_list(obj: Any, *path: str) -> list[str]:
    items: list[Any] = dig(obj, *path, default=[])
    return [item for item in items if type(item) is str or isinstance(item, str)]


def dict_list(obj: Any, *path: str) -> list[Mapping[str, Any]]:
    items: list[Any] = dig(obj, *path, default=[])
    # `type(...) is dict` first: the ABC isinstance check costs a microsecond per item.
    return [item for item in items if type(item) is dict or isinstance(item, Mapping)]


# --- StorageClasses --------------------------------------------------------------------------


def is_default_class(sc: K8sObject) -> bool:
    ann = annotations(sc)
    return any(ann.get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS)


def default_classes(storage_classes: tuple[K8sObject, ...] | list[K8sObject]) -> list[K8sObject]:
    """Default classes in the order Kubernetes prefers them: newest first, ties by name ascending."""
    defaults = [sc for sc in storage_classes if is_default_class(sc)]
    defaults.sort(key=name)
    defaults.sort(key=creation_timestamp, reverse=True)  # stable: equal times keep name order
    return defaults


def provisioner(sc: K8sObject) -> str:
    return dig(sc, "provisioner", default="")


def parameters(sc: K8sObject) -> dict[str, str]:
    raw: dict[str, Any] = dig(sc, "parameters", default={})
    # Parameters are strings; a mapping or list in their place (only a hand-edited file has one)
    # reads as absent rather than as its text, which may be huge or nested too deeply to print.
    return {str(k): v if isinstance(v, str) else str(v) for k, v in raw.items() if not isinstance(v, dict | list)}


def count(text: str) -> int | None:
    """A whole number written in ASCII digits ("3"), as a count in a parameter; None otherwise.
    (str.isdigit() also accepts "³", which int() rejects.) Past 18 digits it reads as 10**18:
    int() refuses strings of thousands of digits, and any such count is out of range anyway."""
    if not (text.isascii() and text.isdigit()):
        return None
    return int(text) if len(text) <= 18 else 10**18


def binding_mode(sc: K8sObject) -> str:
    return dig(sc, "volumeBindingMode", default="Immediate")


def waits_for_consumer(sc: K8sObject | None) -> bool:
    """The class binds WaitForFirstConsumer: its claims stay Pending until a pod using them is scheduled."""
    return sc is not None and binding_mode(sc) == WFFC


def reclaim_policy(sc: K8sObject) -> str:
    return dig(sc, "reclaimPolicy", default="Delete")


def allows_expansion(sc: K8sObject) -> bool:
    return dig(sc, "allowVolumeExpansion", default=False) is True


# --- Claims and volumes ----------------------------------------------------------------------


def claim_class_name(pvc: K8sObject) -> str | None:
    """The class a claim asks for: legacy annotation first, then spec; None means "the default"
    and "" means "no class" (bind to class-less PVs only), exactly as Kubernetes reads it."""
    legacy = annotations(pvc).get(LEGACY_CLASS_ANNOTATION)
    if isinstance(legacy, str):
        return legacy
    spec: dict[str, Any] = dig(pvc, "spec", default={})
    value = spec.get("storageClassName")
    return value if isinstance(value, str) else None


def phase(obj: K8sObject, default: str = "Pending") -> str:
    status = obj.get("status") if type(obj) is dict else None
    if type(status) is dict:  # fast path, read for every claim and volume
        value = status.get("phase")
        return value if type(value) is str else default
    return dig(obj, "status", "phase", default=default)


def access_modes(obj: K8sObject) -> list[str]:
    spec = obj.get("spec") if type(obj) is dict else None
    modes = spec.get("accessModes") if type(spec) is dict else None
    if type(modes) is list:  # fast path, read for every claim
        return [m for m in modes if type(m) is str]
    return str_list(obj, "spec", "accessModes")


def volume_mode(obj: K8sObject) -> str:
    return dig(obj, "spec", "volumeMode", default="Filesystem")


def requested_storage(pvc: K8sObject) -> str:
    return str(dig(pvc, "spec", "resources", "requests", "storage", default="") or "")


MAX_QUANTITY = 2**63 - 1
_QUANTITY = re.compile(r"^\s*([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)\s*([KMGTPE]i?|[mkunµ]|)\s*$")
_FACTORS = {
    "": 1,
    "m": Decimal("0.001"),
    "u": Decimal("0.000001"),
    "µ": Decimal("0.000001"),
    "n": Decimal("1e-9"),
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def quantity_bytes(value: Any) -> int | None:
    """A Kubernetes resource quantity ("20Gi", "1.5G", "500M") in bytes; None when unparseable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # NaN and infinity (YAML's .nan, .inf) are no quantity.
        return int(value) if math.isfinite(value) and abs(value) <= MAX_QUANTITY else None
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value)
    if not match:
        return None
    try:
        number = Decimal(match.group(1)) * Decimal(str(_FACTORS[match.group(2)]))
    except ArithmeticError:  # InvalidOperation, or an exponent beyond Decimal's range ("1e999999999Gi")
        return None
    # Kubernetes holds quantities in 64 bits; a larger one ("1e4000") would only produce
    # thousands of digits in a message.
    return int(number) if number.is_finite() and abs(number) <= MAX_QUANTITY else None


def format_bytes(count: int) -> str:
    for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if count >= size and count % size == 0:
            return f"{count // size}{unit}"
    for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20)):
        if count >= size:
            return f"{count / size:.1f}{unit}"
    return f"{count}B"


# --- Pods and workloads ----------------------------------------------------------------------


def pod_spec(obj: K8sObject) -> Mapping[str, Any]:
    """The pod spec of a Pod, or the template of a Deployment/StatefulSet/ReplicaSet/Job."""
    if obj.get("kind") == "Pod":
        return dig(obj, "spec", default={})
    return dig(obj, "spec", "template", "spec", default={})


def claim_names(obj: K8sObject) -> list[str]:
    """Names of the PersistentVolumeClaims a pod (or workload template) mounts."""
    names = []
    for volume in dict_list(pod_spec(obj), "volumes"):
        claim = dig(volume, "persistentVolumeClaim", "claimName", default="")
        if claim:
            names.append(claim)
    return names


def pod_is_active(pod: K8sObject) -> bool:
    return phase(pod, default="Pending") not in ("Succeeded", "Failed")


def pod_node(pod: K8sObject) -> str:
    return dig(pod, "spec", "nodeName", default="")


def iter_claim_users(pods: tuple[K8sObject, ...]) -> Iterator[tuple[str, str, K8sObject]]:
    """(namespace, claim name, pod) for every active pod's claim mount."""
    for pod in pods:
        if not pod_is_active(pod):
            continue
        for claim in claim_names(pod):
            yield namespace(pod), claim, pod


def claim_users(snap: Snapshot) -> Mapping[tuple[str, str], list[K8sObject]]:
    """Active pods by the (namespace, claim) they mount, built once per snapshot."""

    def build(s: Snapshot) -> dict[tuple[str, str], list[K8sObject]]:
        index: dict[tuple[str, str], list[K8sObject]] = {}
        for ns, claim, pod in iter_claim_users(s.of("Pod")):
            index.setdefault((ns, claim), []).append(pod)
        return index

    return snap.memo("k8s.claim_users", build)


def object_events(snap: Snapshot) -> Mapping[tuple[str, str, str], list[K8sObject]]:
    """Events by (involved kind, namespace, name), newest first, built once per snapshot.
    Cluster-scoped objects (PersistentVolumes, Nodes) are keyed with namespace ""."""
    return snap.memo("k8s.object_events", lambda s: event_index(s.of("Event")))


def _event_time(ev: K8sObject) -> tuple[str, bool, str]:
    """Sort key, newest last: the time, then Warning over Normal (timestamps have one-second
    resolution and a provisioner's Provisioning and ProvisioningFailed share a second: the
    warning is the one that explains), then the name for a stable order."""
    stamp = creation_timestamp(ev)
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        value = ev.get(key)
        if isinstance(value, str) and value:
            stamp = value
            break
    return (stamp, ev.get("type") == "Warning", name(ev))


def describe_event(ev: K8sObject) -> str:
    reason = dig(ev, "reason", default="")
    message = " ".join(dig(ev, "message", default="").split())
    return f"{reason}: {message}" if reason else message


ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
# Events about cluster-scoped objects are stored in "default" (kubectl): key them by no namespace.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "PersistentVolume",
        "Node",
        "StorageClass",
        "CSIDriver",
        "Namespace",
        "VolumeSnapshotClass",
        "VolumeSnapshotContent",
        "VolumeAttachment",
    }
)
SHARED_MODES = ("ReadWriteMany", "ReadOnlyMany")


def event_index(events: tuple[K8sObject, ...]) -> dict[tuple[str, str, str], list[K8sObject]]:
    """Events by (involved kind, namespace, name), newest first: built once, read per object."""
    index: dict[tuple[str, str, str], list[K8sObject]] = {}
    for ev in events:
        kind = dig(ev, "involvedObject", "kind", default="")
        obj_name = dig(ev, "involvedObject", "name", default="")
        if not kind or not obj_name:
            continue
        ns = dig(ev, "involvedObject", "namespace", default="")
        if not ns and kind not in CLUSTER_SCOPED_KINDS:
            ns = namespace(ev)
        index.setdefault((kind, ns, obj_name), []).append(ev)
    for evs in index.values():
        evs.sort(key=_event_time, reverse=True)
    return index


def node_zone(node: K8sObject) -> str:
    node_labels = labels(node)
    for key in ZONE_LABELS:
        value = node_labels.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def pv_zone(pv: K8sObject) -> str:
    """The zone a PersistentVolume's required node affinity pins it to, or ""."""
    terms = dict_list(pv, "spec", "nodeAffinity", "required", "nodeSelectorTerms")
    for term in terms:
        for expr in dict_list(term, "matchExpressions"):
            key = dig(expr, "key", default="")
            values = str_list(expr, "values")
            if (
                dig(expr, "operator", default="") == "In"
                and len(values) == 1
                and (key in ZONE_LABELS or key.endswith("/zone"))
            ):
                return values[0]
    return ""


def granted_access_modes(pvc: K8sObject, pv: K8sObject | None = None) -> list[str]:
    """The access modes a claim's volume actually grants: the bound PV's, else the claim's
    status (set on binding), else what the claim asks for."""
    if pv is not None and access_modes(pv):
        return access_modes(pv)
    status_modes = str_list(pvc, "status", "accessModes")
    if phase(pvc) == "Bound" and status_modes:
        return status_modes
    return access_modes(pvc)


def is_single_node_mode(modes: list[str]) -> bool:
    """True when the modes let only one node mount the volume (no RWX, no ROX)."""
    return bool(modes) and not any(m in SHARED_MODES for m in modes)
