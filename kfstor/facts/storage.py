"""Questions about a StorageClass, answered from kfstor's sourced provisioner table.

Every capability comes from the class's row in kfstor/facts/drivers.py (its names, in-tree aliases
and rules over the class's parameters), never from code that knows a family by name. A
provisioner without a row is unknown: every answer about it is "cannot verify" (None), never a
guess. What a snapshot proves (a claim really served, a volume pinned to a zone) is weighed in
kfstor/facts/view.py, on top of these answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from kfstor.facts import k8s
from kfstor.facts.drivers import PROFILES, find_profile
from kfstor.facts.profile import Answer, Profile, Serves, evaluate_capability, evaluate_serves
from kfstor.model import K8sObject

# In-tree plugin names that CSI migration hands to a driver (csi-translation-lib), from the table.
IN_TREE_TO_CSI: dict[str, str] = {alias: p.names[0] for p in PROFILES for alias in p.in_tree}
# Plugins Kubernetes removed: classes naming them provision nothing. Name -> what happened.
REMOVED_IN_TREE: dict[str, str] = {name: f"{p.label}: {p.removed}" for p in PROFILES if p.removed for name in p.names}
NOT_VOLUMES = (Serves.BUCKET, Serves.HELPER)


@lru_cache(maxsize=4096)
def profile_of(provisioner: str) -> Profile | None:
    """The table row for a provisioner name, or None: kfstor knows nothing about it."""
    return find_profile(provisioner)


def csi_name(provisioner: str) -> str:
    """The CSI driver that serves a provisioner name (in-tree names translated)."""
    return IN_TREE_TO_CSI.get(provisioner, provisioner)


def label(provisioner: str) -> str:
    profile = profile_of(provisioner)
    return profile.label if profile is not None else provisioner or "no provisioner"


def serves(sc: K8sObject) -> Serves:
    profile = profile_of(k8s.provisioner(sc))
    if profile is None:
        return Serves.UNKNOWN
    return evaluate_serves(profile.serves, k8s.parameters(sc))


def is_volume_class(sc: K8sObject) -> bool:
    """False for classes that never back PersistentVolumeClaims: bucket provisioners (ObjectBucketClaims)
    and helper classes of other tools (Stork's snapshot class)."""
    return serves(sc) not in NOT_VOLUMES


def not_a_volume_text(sc: K8sObject) -> str:
    prov = k8s.provisioner(sc)
    what = "creates object buckets, not volumes" if serves(sc) is Serves.BUCKET else "is a helper class, not volumes"
    return f"{label(prov)} ({prov}) {what}"


def is_portworx(sc: K8sObject) -> bool:
    profile = profile_of(k8s.provisioner(sc))
    return profile is not None and profile.family == "portworx"


def non_csi_label(provisioner: str) -> str | None:
    """The name of a known provisioner that registers no CSIDriver object, or None."""
    profile = profile_of(provisioner)
    if profile is None or profile.csi or profile.removed or provisioner == k8s.NO_PROVISIONER:
        return None
    return profile.label


def expects_csidriver(provisioner: str) -> bool:
    """True when a class's provisioner is (or migrates to) a CSI driver whose deployment registers a
    CSIDriver object named after it. Known rows say so; an unknown name is a CSI driver unless it has
    a "/" (a CSI driver's name is a DNS subdomain, so such a name is an external provisioner)."""
    if not provisioner or provisioner in REMOVED_IN_TREE or provisioner == k8s.NO_PROVISIONER:
        return False
    profile = profile_of(provisioner)
    if profile is not None:
        return profile.csi
    return "/" not in provisioner


def csi_driver_missing(sc: K8sObject, drivers: frozenset[str] | None) -> str | None:
    """The CSI driver a class needs when CSIDrivers were read and it is not among them, else None.

    `drivers` is None when the CSIDriver list is unknown (not readable): nothing is missing then.
    """
    prov = k8s.provisioner(sc)
    if drivers is None or not expects_csidriver(prov):
        return None
    driver = csi_name(prov)
    return None if driver in drivers else driver


@dataclass(frozen=True, slots=True)
class RwxVerdict:
    capable: bool | None  # None: cannot tell from the snapshot
    reason: str


def _capability(sc: K8sObject, block: bool) -> RwxVerdict:
    prov = k8s.provisioner(sc)
    if prov in REMOVED_IN_TREE:
        return RwxVerdict(False, f"{REMOVED_IN_TREE[prov]}: the plugin no longer exists")
    profile = profile_of(prov)
    kind = "ReadWriteMany Block" if block else "ReadWriteMany"
    if profile is None:
        return RwxVerdict(
            None, f"{prov or 'no provisioner'} is not in kfstor's driver table: test with a {kind} probe claim"
        )
    params = k8s.parameters(sc)
    what = evaluate_serves(profile.serves, params)
    if what in NOT_VOLUMES:
        return RwxVerdict(False, not_a_volume_text(sc))
    if what is Serves.NONE:
        return RwxVerdict(False, f"{profile.label} provisions no volumes")
    cap = profile.rwx_block if block else profile.rwx_fs
    if block:
        fixed = {
            True: f"{profile.label} shares raw block volumes",
            False: f"{profile.label} cannot share a raw block volume across nodes",
            None: f"{profile.label}: raw block sharing not sourced",
        }
    elif what is Serves.FILE:
        fixed = {
            True: f"{profile.label} (network file system)",
            False: f"{profile.label} serves ReadWriteOnce only",
            None: f"{profile.label}: ReadWriteMany not sourced",
        }
    else:
        fixed = {
            True: f"{profile.label}",
            False: f"{profile.label} serves ReadWriteOnce only",
            None: f"{profile.label}: ReadWriteMany not sourced",
        }
    answer = evaluate_capability(cap, params, "")
    reason = answer.why or fixed[answer.value]
    if not block and answer.value is False and what is not Serves.FILE:
        shared = evaluate_capability(profile.rwx_block, params, "")
        if shared.value is True and not answer.why:
            reason = f"{profile.label} shares volumes across nodes only as raw block (volumeMode: Block)"
    return RwxVerdict(answer.value, reason)


def rwx_capability(sc: K8sObject) -> RwxVerdict:
    """Can this class serve ReadWriteMany *filesystem* volumes? Block-only RWX does not count."""
    return _capability(sc, block=False)


def rwx_block_capability(sc: K8sObject) -> RwxVerdict:
    """Can this class serve ReadWriteMany *raw block* volumes (volumeMode: Block)?"""
    return _capability(sc, block=True)


def shared_filesystem(sc: K8sObject) -> str | None:
    """Why a class's volumes are shares of a network file system (bad for databases), or None. A
    ReadWriteOnce claim decides: drivers that make file volumes only for ReadWriteMany claims (vSphere,
    Longhorn's share-manager) give a database block storage."""
    if serves(sc) is not Serves.FILE:
        return None
    prov = k8s.provisioner(sc)
    return f"{label(prov)} (network file system)"


def kind_unknown(sc: K8sObject) -> str | None:
    """Why it is unknown whether a class gives block devices or file shares, or None when the
    table says (or the class is static: its volumes decide)."""
    if serves(sc) is not Serves.UNKNOWN:
        return None
    prov = k8s.provisioner(sc)
    if profile_of(prov) is None:
        return f"{prov or 'no provisioner'} is not in kfstor's driver table"
    return f"what {label(prov)} serves depends on parameters this class does not set"


def zonal(sc: K8sObject) -> Answer:
    """Does each volume of this class live in one zone? None: the table cannot say."""
    prov = k8s.provisioner(sc)
    profile = profile_of(prov)
    if profile is None:
        return Answer(None, f"{prov or 'no provisioner'} is not in kfstor's driver table")
    fixed = {
        True: f"{profile.label} volumes live in one zone",
        False: f"{profile.label} volumes are not tied to one zone",
        None: f"{profile.label}: zone topology not sourced",
    }
    answer = evaluate_capability(profile.zonal, k8s.parameters(sc), "")
    return Answer(answer.value, answer.why or fixed[answer.value])


def node_local(sc: K8sObject) -> bool | None:
    profile = profile_of(k8s.provisioner(sc))
    return profile.node_local if profile is not None else None


def attach_required(sc: K8sObject) -> bool | None:
    """The driver's attachRequired as it ships (None: not sourced, or not a CSI driver)."""
    profile = profile_of(k8s.provisioner(sc))
    return profile.attach_required if profile is not None else None


def snapshots(sc: K8sObject) -> bool | None:
    profile = profile_of(k8s.provisioner(sc))
    return profile.snapshots if profile is not None else None
