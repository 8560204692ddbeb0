"""The shape of kfstor's storage knowledge: one provisioner profile per driver family.

A profile states what a provisioner family serves and can do, as data with a source. Capabilities
that depend on the StorageClass are written as rules over its parameters, never as code in a
check. The rows themselves live in kfstor/facts/drivers.py; kfstor/facts/storage.py answers
questions about a class by reading them. Unknown is `None` and means "cannot verify": kfstor never
turns an unknown into a yes or a no.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

# A three-valued fact: True yes, False no, None unknown (cannot verify).
Tri = bool | None


class Serves(enum.Enum):
    """What a provisioner creates."""

    BLOCK = "block"  # a disk or LUN per volume, formatted with a local file system
    FILE = "file"  # a share of a network file system (NFS, SMB, CephFS, Lustre, ...)
    BUCKET = "bucket"  # object buckets (ObjectBucketClaim, COSI), never PersistentVolumes
    HELPER = "helper"  # a class that exists for another tool (Stork's snapshot class), not for claims
    NONE = "none"  # provisions nothing (kubernetes.io/no-provisioner: static volumes only)
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Param:
    """A condition on a StorageClass's parameters.

    True when any of `keys` (compared case-insensitively) is set to one of `values` (compared
    case-insensitively; a value ending in "*" matches by prefix). With `values=()` the key only
    has to be set to a non-empty value. `absent=True` inverts it: true when none of the keys is set.
    """

    keys: tuple[str, ...]
    values: tuple[str, ...] = ()
    absent: bool = False


@dataclass(frozen=True, slots=True)
class Case:
    """One branch of a rule: when `when` holds, the capability is `value`, for the reason `why`."""

    when: Param
    value: Tri
    why: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A capability that depends on the class's parameters: the first case that holds decides,
    else `otherwise` with `otherwise_why`."""

    cases: tuple[Case, ...]
    otherwise: Tri
    otherwise_why: str


# A capability is a fixed fact or a rule over parameters.
Capability = Tri | Rule


@dataclass(frozen=True, slots=True)
class ServesRule:
    """What a multi-backend driver serves depends on a parameter (Trident's backendType, Dell's
    protocol): the first case whose condition holds decides, else `otherwise`."""

    cases: tuple[tuple[Param, Serves], ...]
    otherwise: Serves


class ReplicationKind(enum.Enum):
    PARAMETER = "parameter"  # a class parameter holds the replica count
    INFRASTRUCTURE = "infrastructure"  # the backend keeps copies by itself (cloud disks, arrays)
    EXTERNAL = "external"  # replicated, but the count lives outside the class (a Ceph pool's size)
    NONE = "none"  # one copy on one node (node-local storage)
    UNKNOWN = "unknown"  # depends on a server kfstor cannot see (an NFS export), or not sourced


@dataclass(frozen=True, slots=True)
class Replication:
    """How a family keeps copies of a volume.

    PARAMETER: `keys` are the parameter's spellings, `default` the count when unset, `maximum` the
    largest count the driver accepts (None: no documented limit). INFRASTRUCTURE and EXTERNAL:
    `note` says what protects the data, or where the count can be read; for EXTERNAL, `keys` may name
    the parameter that says where (a Ceph pool), whose value replaces "<pool>" in the note. `overrides` lets a
    parameter change the kind (GCE `replication-type: regional-pd`, Azure `skuName: *_ZRS`): the
    first matching case's note replaces `note`. `read` (EXTERNAL with keys) is the command that
    prints the count, "<pool>" replaced likewise; `toolbox` says where it runs when the driver is
    deployed by an operator (Rook's `<namespace>.` prefix): a Deployment in the namespace the class
    names in `clusterID`.
    """

    kind: ReplicationKind
    keys: tuple[str, ...] = ()
    default: int | None = None
    maximum: int | None = None
    note: str = ""
    overrides: tuple[Case, ...] = ()
    read: str = ""
    toolbox: str = ""


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything kfstor relies on about one provisioner family, with the source of those facts.

    names: provisioner names as classes write them (the CSI driver name first).
    suffixes: names also matched as "<prefix>.<suffix>" or "<prefix>/<suffix>" (Rook and ODF
        prefix ceph-csi with the operator namespace; nfs-subdir's name is "<anything>/nfs-subdir-
        external-provisioner"; Trident's "<protocol>.csi.trident.netapp.io" forms).
    in_tree: in-tree plugin names that CSI migration hands to this family's driver (names[0]).
    removed: non-empty for plugins Kubernetes removed: what happened and what replaces them.
    serves: what one volume is (fixed, or a ServesRule over parameters).
    rwx_fs / rwx_block: can a ReadWriteMany Filesystem / Block claim be served.
    replication, zonal (each volume lives in one zone), node_local (data on one node's disks).
    csi: registers a CSIDriver object (False for external provisioners and in-tree plugins).
    attach_required: the CSIDriver's attachRequired as the driver ships it (None: not sourced).
    snapshots / expansion: CSI snapshots and volume expansion supported.
    notes: short remarks messages may quote (a prerequisite the class cannot show).
    source: where these facts come from (driver documentation or code), never empty.
    """

    family: str
    label: str
    names: tuple[str, ...]
    serves: Serves | ServesRule
    rwx_fs: Capability
    rwx_block: Capability
    replication: Replication
    zonal: Capability
    node_local: bool
    csi: bool
    attach_required: Tri
    snapshots: Tri
    expansion: Tri
    source: str
    suffixes: tuple[str, ...] = ()
    in_tree: tuple[str, ...] = ()
    removed: str = ""
    notes: tuple[str, ...] = ()


def param_holds(cond: Param, params: Mapping[str, str]) -> bool:
    lowered = {k.lower(): v.strip().lower() for k, v in params.items()}
    present = [lowered[k.lower()] for k in cond.keys if lowered.get(k.lower(), "")]
    if cond.absent:
        return not present
    if not cond.values:
        return bool(present)
    for value in present:
        for wanted in cond.values:
            wanted = wanted.lower()
            if (wanted.endswith("*") and value.startswith(wanted[:-1])) or value == wanted:
                return True
    return False


@dataclass(frozen=True, slots=True)
class Answer:
    """A capability read for one class: the value (None: cannot verify) and why."""

    value: Tri
    why: str


def evaluate_capability(cap: Capability, params: Mapping[str, str], fixed_why: str) -> Answer:
    if not isinstance(cap, Rule):
        return Answer(cap, fixed_why)
    for case in cap.cases:
        if param_holds(case.when, params):
            return Answer(case.value, case.why)
    return Answer(cap.otherwise, cap.otherwise_why)


def evaluate_serves(serves: Serves | ServesRule, params: Mapping[str, str]) -> Serves:
    if isinstance(serves, Serves):
        return serves
    for cond, value in serves.cases:
        if param_holds(cond, params):
            return value
    return serves.otherwise
