"""What kfstor knows about storage provisioners: CSI names, in-tree migration, capabilities.

Facts come from csi-translation-lib, the Kubernetes CSI drivers list, KubeVirt CDI's capability
map and vendor docs (the sourced rows are in kfstor/facts/drivers.py). A check asks questions here instead
of keeping its own provisioner lists, so every check agrees on what a class can do.
"""

from __future__ import annotations

from dataclasses import dataclass

from kfstor.facts import k8s
from kfstor.model import K8sObject

# In-tree plugin names redirected to a CSI driver by CSI migration (csi-translation-lib).
IN_TREE_TO_CSI: dict[str, str] = {
    "kubernetes.io/aws-ebs": "ebs.csi.aws.com",
    "kubernetes.io/gce-pd": "pd.csi.storage.gke.io",
    "kubernetes.io/azure-disk": "disk.csi.azure.com",
    "kubernetes.io/azure-file": "file.csi.azure.com",
    "kubernetes.io/cinder": "cinder.csi.openstack.org",
    "kubernetes.io/vsphere-volume": "csi.vsphere.vmware.com",
    "kubernetes.io/portworx-volume": "pxd.portworx.com",
}

# In-tree plugins removed from Kubernetes with no CSI migration: classes naming them are dead.
REMOVED_IN_TREE: dict[str, str] = {
    "kubernetes.io/glusterfs": "GlusterFS (removed in 1.26; use a GlusterFS CSI driver such as kadalu)",
    "kubernetes.io/rbd": "Ceph RBD (removed in 1.31; use ceph-csi rbd.csi.ceph.com)",
    "kubernetes.io/cephfs": "CephFS (removed in 1.31; use ceph-csi cephfs.csi.ceph.com)",
    "kubernetes.io/flocker": "Flocker (removed)",
    "kubernetes.io/quobyte": "Quobyte (removed)",
    "kubernetes.io/photon-pd": "Photon PD (removed)",
    "kubernetes.io/scaleio": "ScaleIO (removed; use PowerFlex CSI csi-vxflexos.dellemc.com)",
    "kubernetes.io/storageos": "StorageOS (removed)",
}

# Dynamic provisioners that are not CSI drivers, so no CSIDriver object is expected for them.
NON_CSI_PROVISIONERS: dict[str, str] = {
    "rancher.io/local-path": "Rancher local-path provisioner",
    "k8s-sigs.io/nfs-subdir-external-provisioner": "NFS subdir external provisioner",
    "cluster.local/nfs-subdir-external-provisioner": "NFS subdir external provisioner",
    "openebs.io/local": "OpenEBS LocalPV hostpath/device",
    "openebs.io/nfsrwx": "OpenEBS dynamic NFS provisioner",
    "microk8s.io/hostpath": "MicroK8s hostpath provisioner",
    "k8s.io/minikube-hostpath": "minikube hostpath provisioner",
    "docker.io/hostpath": "Docker Desktop hostpath provisioner",
}

PORTWORX = ("pxd.portworx.com", "kubernetes.io/portworx-volume")


@dataclass(frozen=True, slots=True)
class Backend:
    """What a provisioner is, as far as storage readiness is concerned."""

    family: str  # short id: "portworx", "ceph-rbd", "nfs", "unknown", ...
    label: str  # human name for messages
    shared_fs: bool = False  # a network file system (NFS-like): shareable, poor for databases
    node_local: bool = False  # data lives on one node: lost with it
    rwx_fs: bool | None = False  # serves ReadWriteMany filesystem volumes; None: depends/unknown
    replicated: bool | None = None  # survives a node loss by itself; None: depends on parameters


_BACKENDS: dict[str, Backend] = {
    "pxd.portworx.com": Backend("portworx", "Portworx", rwx_fs=None, replicated=None),
    "rbd.csi.ceph.com": Backend("ceph-rbd", "Ceph RBD", replicated=True),
    "cephfs.csi.ceph.com": Backend("cephfs", "CephFS", shared_fs=True, rwx_fs=True, replicated=True),
    "nfs.csi.ceph.com": Backend("ceph-nfs", "Ceph NFS", shared_fs=True, rwx_fs=True, replicated=True),
    "nfs.csi.k8s.io": Backend("nfs", "NFS CSI driver", shared_fs=True, rwx_fs=True, replicated=None),
    "k8s-sigs.io/nfs-subdir-external-provisioner": Backend(
        "nfs", "NFS subdir provisioner", shared_fs=True, rwx_fs=True, replicated=None
    ),
    "cluster.local/nfs-subdir-external-provisioner": Backend(
        "nfs", "NFS subdir provisioner", shared_fs=True, rwx_fs=True, replicated=None
    ),
    "openebs.io/nfsrwx": Backend("nfs", "OpenEBS dynamic NFS", shared_fs=True, rwx_fs=True, replicated=None),
    "org.gluster.glusterfs": Backend("glusterfs", "GlusterFS", shared_fs=True, rwx_fs=True, replicated=True),
    "org.kadalu.gluster": Backend("glusterfs", "GlusterFS (kadalu)", shared_fs=True, rwx_fs=True, replicated=True),
    "driver.longhorn.io": Backend("longhorn", "Longhorn", rwx_fs=True, replicated=None),
    "openebs.io/local": Backend("openebs-local", "OpenEBS LocalPV", node_local=True, replicated=False),
    "local.csi.openebs.io": Backend("openebs-local", "OpenEBS LocalPV LVM", node_local=True, replicated=False),
    "zfs.csi.openebs.io": Backend("openebs-local", "OpenEBS LocalPV ZFS", node_local=True, replicated=False),
    "io.openebs.csi-mayastor": Backend("mayastor", "OpenEBS Mayastor", replicated=None),
    "cstor.csi.openebs.io": Backend("cstor", "OpenEBS cStor", replicated=True),
    "ebs.csi.aws.com": Backend("aws-ebs", "AWS EBS", replicated=True),
    "efs.csi.aws.com": Backend("efs", "AWS EFS", shared_fs=True, rwx_fs=True, replicated=True),
    "pd.csi.storage.gke.io": Backend("gce-pd", "GCE Persistent Disk", replicated=True),
    "filestore.csi.storage.gke.io": Backend("filestore", "GCP Filestore", shared_fs=True, rwx_fs=True, replicated=True),
    "disk.csi.azure.com": Backend("azure-disk", "Azure Disk", replicated=True),
    "file.csi.azure.com": Backend("azure-file", "Azure Files", shared_fs=True, rwx_fs=True, replicated=True),
    "csi.vsphere.vmware.com": Backend("vsphere", "vSphere CSI", rwx_fs=None, replicated=True),
    "cinder.csi.openstack.org": Backend("cinder", "OpenStack Cinder", replicated=True),
    "manila.csi.openstack.org": Backend("manila", "OpenStack Manila", shared_fs=True, rwx_fs=True, replicated=True),
    "rancher.io/local-path": Backend("local-path", "local-path", node_local=True, replicated=False),
    "microk8s.io/hostpath": Backend("local-path", "MicroK8s hostpath", node_local=True, replicated=False),
    "k8s.io/minikube-hostpath": Backend("local-path", "minikube hostpath", node_local=True, replicated=False),
    "docker.io/hostpath": Backend("local-path", "Docker Desktop hostpath", node_local=True, replicated=False),
    "topolvm.io": Backend("topolvm", "TopoLVM", node_local=True, replicated=False),
    "topolvm.cybozu.com": Backend("topolvm", "TopoLVM", node_local=True, replicated=False),
    k8s.NO_PROVISIONER: Backend("no-provisioner", "static local volumes", node_local=True, replicated=False),
    "csi.trident.netapp.io": Backend("trident", "NetApp Trident", rwx_fs=None, replicated=True),
    "csi-isilon.dellemc.com": Backend("powerscale", "Dell PowerScale", shared_fs=True, rwx_fs=True, replicated=True),
    "csi-powerstore.dellemc.com": Backend("powerstore", "Dell PowerStore", rwx_fs=None, replicated=True),
    "csi-powermax.dellemc.com": Backend("powermax", "Dell PowerMax", rwx_fs=None, replicated=True),
    "csi-vxflexos.dellemc.com": Backend("powerflex", "Dell PowerFlex", rwx_fs=None, replicated=True),
    "csi-unity.dellemc.com": Backend("unity", "Dell Unity", rwx_fs=None, replicated=True),
}

UNKNOWN = Backend("unknown", "unknown provisioner", rwx_fs=None, replicated=None)


def csi_name(provisioner: str) -> str:
    """The CSI driver that serves a provisioner name (in-tree names translated)."""
    return IN_TREE_TO_CSI.get(provisioner, provisioner)


def backend(provisioner: str) -> Backend:
    driver = csi_name(provisioner)
    if driver in _BACKENDS:
        return _BACKENDS[driver]
    # Rook and OpenShift prefix ceph-csi names with the operator namespace.
    for suffix in ("rbd.csi.ceph.com", "cephfs.csi.ceph.com", "nfs.csi.ceph.com"):
        if driver.endswith("." + suffix):
            return _BACKENDS[suffix]
    if driver.endswith(NFS_SUBDIR_SUFFIX):
        return _BACKENDS["k8s-sigs.io/nfs-subdir-external-provisioner"]
    return UNKNOWN


def is_portworx(sc: K8sObject) -> bool:
    return k8s.provisioner(sc) in PORTWORX


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def shared_filesystem(sc: K8sObject) -> str | None:
    """Why a class is a shared network file system (bad for databases), or None."""
    prov = k8s.provisioner(sc)
    params = k8s.parameters(sc)
    info = backend(prov)
    if is_portworx(sc):
        if is_true(params.get("sharedv4")) or is_true(params.get("shared")):
            return "Portworx sharedv4 (NFS-exported) volume"
        return None
    if info.family == "vsphere":
        return "vSphere file volume (NFS)" if "nfs" in _fstype(params) else None
    if info.family == "trident":
        backend_type = params.get("backendType", "")
        return f"NetApp {backend_type} (NAS)" if "nas" in backend_type else None
    return f"{info.label} (network file system)" if info.shared_fs else None


def _fstype(params: dict[str, str]) -> str:
    return (params.get("csi.storage.k8s.io/fstype") or params.get("fstype") or params.get("fsType") or "").lower()


@dataclass(frozen=True, slots=True)
class RwxVerdict:
    capable: bool | None  # None: cannot tell from the snapshot
    reason: str


def rwx_capability(sc: K8sObject) -> RwxVerdict:
    """Can this class serve ReadWriteMany *filesystem* volumes? Block-only RWX does not count."""
    prov = k8s.provisioner(sc)
    params = k8s.parameters(sc)
    if prov in REMOVED_IN_TREE:
        return RwxVerdict(False, f"{REMOVED_IN_TREE[prov]}: the plugin no longer exists")
    info = backend(prov)
    if is_portworx(sc):
        if is_true(params.get("sharedv4")):
            return RwxVerdict(True, 'Portworx with sharedv4: "true"')
        return RwxVerdict(False, 'Portworx without sharedv4: "true" serves ReadWriteOnce only')
    if info.family == "vsphere":
        if "nfs" in _fstype(params):
            return RwxVerdict(True, "vSphere file volume (nfs fstype)")
        return RwxVerdict(False, "vSphere block volumes are ReadWriteOnce; RWX needs csi.storage.k8s.io/fstype: nfs4")
    if info.family == "trident":
        backend_type = params.get("backendType", "")
        if "nas" in backend_type:
            return RwxVerdict(True, f"Trident {backend_type} backend")
        if backend_type:
            return RwxVerdict(False, f"Trident {backend_type} is block storage (RWX only as raw block)")
        return RwxVerdict(None, "Trident class without backendType: depends on the backend chosen")
    if info.family in ("powerstore", "powermax", "powerflex", "unity"):
        if "nfs" in _fstype(params) or params.get("protocol", "").lower() == "nfs":
            return RwxVerdict(True, f"{info.label} NFS")
        return RwxVerdict(False, f"{info.label} block volumes serve RWX only as raw block")
    if info.family == "longhorn":
        return RwxVerdict(True, "Longhorn RWX through its share-manager (NFSv4 client needed on nodes)")
    if info.rwx_fs is True:
        return RwxVerdict(True, info.label)
    if info is UNKNOWN:
        return RwxVerdict(None, f"unknown provisioner {prov}: test with a ReadWriteMany probe claim")
    if rwx_block_capability(sc).capable:
        return RwxVerdict(False, f"{info.label} shares volumes across nodes only as raw block (volumeMode: Block)")
    return RwxVerdict(False, f"{info.label} serves ReadWriteOnce only")


NFS_SUBDIR_SUFFIX = "/nfs-subdir-external-provisioner"


def non_csi_label(provisioner: str) -> str | None:
    """The name of a known dynamic provisioner that is not a CSI driver, or None. The NFS subdir
    provisioner's name is configurable ("<anything>/nfs-subdir-external-provisioner")."""
    if provisioner in NON_CSI_PROVISIONERS:
        return NON_CSI_PROVISIONERS[provisioner]
    if provisioner.endswith(NFS_SUBDIR_SUFFIX):
        return "NFS subdir external provisioner"
    return None


def expects_csidriver(provisioner: str) -> bool:
    """True when a class's provisioner is (or migrates to) a CSI driver, so a CSIDriver object
    named after it should exist. Non-CSI external provisioners, no-provisioner and removed
    in-tree plugins register none."""
    if provisioner in REMOVED_IN_TREE or provisioner == k8s.NO_PROVISIONER or not provisioner:
        return False
    # A CSI driver's name is a DNS subdomain: a name with "/" is an external provisioner.
    return non_csi_label(provisioner) is None and "/" not in csi_name(provisioner)


def csi_driver_missing(sc: K8sObject, drivers: frozenset[str] | None) -> str | None:
    """The CSI driver a class needs when CSIDrivers were read and it is not among them, else None.

    `drivers` is None when the CSIDriver list is unknown (not collected): nothing is missing then.
    """
    prov = k8s.provisioner(sc)
    if drivers is None or not expects_csidriver(prov):
        return None
    driver = csi_name(prov)
    return None if driver in drivers else driver


def rwx_block_capability(sc: K8sObject) -> RwxVerdict:
    """Can this class serve ReadWriteMany *raw block* volumes (volumeMode: Block)?

    Block backends share a raw device across nodes (the application coordinates writes);
    file systems (NFS, CephFS, EFS, ...) cannot serve Block volumes at all.
    """
    prov = k8s.provisioner(sc)
    params = k8s.parameters(sc)
    if prov in REMOVED_IN_TREE:
        return RwxVerdict(False, f"{REMOVED_IN_TREE[prov]}: the plugin no longer exists")
    info = backend(prov)
    family = info.family
    if is_portworx(sc):
        return RwxVerdict(True, "Portworx raw block volumes")
    if family == "ceph-rbd":
        return RwxVerdict(True, "Ceph RBD raw block volumes")
    if family == "aws-ebs":
        volume_type = params.get("type", "gp3").lower()
        if volume_type == "io2":
            return RwxVerdict(True, "AWS EBS io2 Multi-Attach")
        return RwxVerdict(False, f"AWS EBS {volume_type} cannot be multi-attached (only io2 can)")
    if family == "gce-pd":
        volume_type = params.get("type", "").lower()
        if volume_type.startswith("hyperdisk-balanced"):
            return RwxVerdict(True, f"GCE {volume_type} multi-writer")
        return RwxVerdict(False, f"GCE PD {volume_type or 'disks'} cannot be attached read-write to several nodes")
    if family == "azure-disk":
        shares = params.get("maxShares", params.get("maxshares", ""))
        if (k8s.count(shares) or 0) > 1:
            return RwxVerdict(True, f"Azure shared disk (maxShares {shares})")
        return RwxVerdict(False, "Azure Disk without maxShares > 1 cannot be shared")
    if family == "trident":
        backend_type = params.get("backendType", "")
        if "san" in backend_type:
            return RwxVerdict(True, f"Trident {backend_type} raw block")
        if backend_type:
            return RwxVerdict(False, f"Trident {backend_type} is file storage (no raw block)")
        return RwxVerdict(None, "Trident class without backendType: depends on the backend chosen")
    if family in ("powerstore", "powermax", "powerflex", "unity"):
        return RwxVerdict(True, f"{info.label} raw block")
    if family == "mayastor":
        if is_true(params.get("rwxBlock")):
            return RwxVerdict(True, 'OpenEBS Mayastor with rwxBlock: "true"')
        return RwxVerdict(False, 'OpenEBS Mayastor serves RWX block only with rwxBlock: "true"')
    if family == "longhorn":
        if is_true(params.get("migratable")):
            return RwxVerdict(True, 'Longhorn with migratable: "true"')
        return RwxVerdict(False, 'Longhorn serves RWX block only with migratable: "true"')
    if info is UNKNOWN:
        return RwxVerdict(None, f"unknown provisioner {prov}: test with a ReadWriteMany Block probe claim")
    if info.shared_fs:
        return RwxVerdict(False, f"{info.label} is a file system: it cannot serve raw block volumes")
    return RwxVerdict(False, f"{info.label} cannot share a raw block volume across nodes")


def zonal_block(sc: K8sObject) -> str | None:
    """Why a class provisions zonal block volumes (each disk lives in one zone), or None.

    Regional/zone-redundant variants (GCE regional PD, Azure *_ZRS) and backends that span
    zones by themselves (Portworx, Ceph, file systems) are not zonal."""
    prov = k8s.provisioner(sc)
    params = {k.lower(): v.lower() for k, v in k8s.parameters(sc).items()}
    family = backend(prov).family
    if family == "aws-ebs":
        return "AWS EBS volumes live in one availability zone"
    if family == "gce-pd":
        if "regional" in params.get("replication-type", ""):
            return None
        return "GCE persistent disks live in one zone (use replication-type: regional-pd for two)"
    if family == "azure-disk":
        sku = params.get("skuname") or params.get("storageaccounttype") or ""
        if sku.endswith("_zrs"):
            return None
        return "Azure Disks (non-ZRS) live in one availability zone"
    if family == "cinder":
        return "OpenStack Cinder volumes live in one availability zone"
    if family == "vsphere":
        if "nfs" in _fstype(params):
            return None
        return "vSphere block volumes live on one zone's datastores"
    return None
