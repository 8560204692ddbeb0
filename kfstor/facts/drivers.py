"""kfstor's storage knowledge: one sourced row per provisioner family (shape: kfstor/facts/profile.py).

Every fact here names its source in the row. Where a fact could not be sourced it is None, which
every check reports as "cannot verify". `kfstor drivers` prints this table.

Conventions the rows follow:
- `serves` is what one volume is; BLOCK also stands for node-local directories (hostpath,
  local-path): what matters to the checks is that it is not a shared network file system.
- In `Replication.overrides`, `Case.value` says whether that case keeps more than one copy of
  the data (True) or a single one (False); its `why` replaces the row's note.
- `attach_required` is the CSIDriver's spec.attachRequired as the driver's own manifests ship it;
  a driver whose manifests create no CSIDriver object gets Kubernetes' default (True) and
  `csi=False`, so no CSIDriver object is expected for it.
"""

from __future__ import annotations

from kfstor.facts.profile import (
    Case,
    Param,
    Profile,
    Replication,
    ReplicationKind,
    Rule,
    Serves,
    ServesRule,
)

R = ReplicationKind

# The CSI external-provisioner passes the class's fstype under this key; several drivers also
# read a bare `fsType` (keys compare case-insensitively).
FSTYPE = ("csi.storage.k8s.io/fstype", "fsType")
AZURE_SKU = ("skuName", "storageAccountType")

# Trident backend drivers by what they serve (NetApp/trident config/config.go; docs.netapp.com/us-en/trident).
TRIDENT_ONTAP_NAS = ("ontap-nas", "ontap-nas-economy", "ontap-nas-flexgroup")
TRIDENT_CLOUD_FILE = ("azure-netapp-files", "gcp-cvs", "google-cloud-netapp-volumes")
TRIDENT_BLOCK = ("ontap-san", "ontap-san-economy", "solidfire-san", "google-cloud-netapp-volumes-san")
TRIDENT_BACKEND = Param(("backendType",), TRIDENT_ONTAP_NAS + TRIDENT_CLOUD_FILE)
TRIDENT_BLOCK_BACKEND = Param(("backendType",), TRIDENT_BLOCK)

# Dell drivers switch to NFS file systems with the fstype (PowerFlex, PowerStore, PowerMax) or the
# protocol (Unity) parameter (kubevirt CDI storagecapabilities.go; dell/csi-* samples/storageclass).
DELL_NFS_FSTYPE = Param(FSTYPE, ("nfs",))
DELL_NFS_PROTOCOL = Param(("protocol",), ("nfs",))


def _dell_array(
    family: str, label: str, name: str, nfs: Param, nfs_why: str, note: str, source: str, notes: tuple[str, ...] = ()
) -> Profile:
    """A Dell unified array (PowerFlex, PowerStore, Unity, PowerMax): NFS file systems when `nfs`
    holds, else block volumes that are RWX only as raw block; copies kept by the array."""
    short = nfs_why.split(" NFS file system")[0]
    return Profile(
        family=family,
        label=label,
        names=(name,),
        serves=ServesRule(cases=((nfs, Serves.FILE),), otherwise=Serves.BLOCK),
        rwx_fs=Rule(
            cases=(Case(nfs, True, nfs_why),),
            otherwise=False,
            otherwise_why=f"{short} block volumes are RWX only as volumeMode Block",
        ),
        rwx_block=Rule(
            cases=(Case(nfs, False, f"{short} NFS serves file systems only"),),
            otherwise=True,
            otherwise_why=f"{short} raw block volume (volumeMode Block)",
        ),
        replication=Replication(R.INFRASTRUCTURE, note=note),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        source=source,
        notes=notes,
    )


def _removed(family: str, label: str, name: str, removed: str, source: str) -> Profile:
    """A removed in-tree plugin: a class naming it provisions nothing any more."""
    return Profile(
        family=family,
        label=label,
        names=(name,),
        serves=Serves.NONE,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="the plugin was removed: it provisions nothing"),
        zonal=None,
        node_local=False,
        csi=False,
        attach_required=None,
        snapshots=False,
        expansion=False,
        removed=removed,
        source=source,
    )


PROFILES: tuple[Profile, ...] = (
    # --- AWS ---------------------------------------------------------------------------------
    Profile(
        family="aws-ebs",
        label="AWS EBS",
        names=("ebs.csi.aws.com",),
        in_tree=("kubernetes.io/aws-ebs",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=Rule(
            cases=(Case(Param(("type",), ("io2",)), True, "AWS EBS io2 Multi-Attach (volumeMode Block)"),),
            otherwise=False,
            otherwise_why="AWS EBS Multi-Attach is supported only for io2 volumes (default type gp3)",
        ),
        replication=Replication(
            R.INFRASTRUCTURE,
            note="EBS replicates a volume within its Availability Zone; a zone outage takes it offline",
        ),
        zonal=True,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        source=(
            "kubernetes-sigs/aws-ebs-csi-driver docs/parameters.md, docs/multi-attach.md, "
            "deploy/kubernetes/base/csidriver.yaml, pkg/driver/controller.go; AWS storage services "
            "whitepaper (EBS durability); kubernetes/csi-translation-lib plugins/aws_ebs.go"
        ),
    ),
    Profile(
        family="aws-efs",
        label="AWS EFS",
        names=("efs.csi.aws.com",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(
            R.INFRASTRUCTURE,
            note="Regional EFS stores data across several Availability Zones; One Zone EFS within one zone",
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=False,
        expansion=False,
        notes=("EFS grows elastically: the claim's size is not enforced",),
        source=(
            "kubernetes-sigs/aws-efs-csi-driver deploy/kubernetes/base/csidriver.yaml, pkg/driver/controller.go "
            "(CREATE_DELETE_VOLUME only), pkg/driver/node.go; AWS EFS user guide (availability and durability)"
        ),
    ),
    Profile(
        family="aws-fsx-lustre",
        label="AWS FSx for Lustre",
        names=("fsx.csi.aws.com",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(
            R.INFRASTRUCTURE,
            note="persistent FSx for Lustre replicates data within its Availability Zone",
            overrides=(
                Case(
                    Param(("deploymentType",), ("SCRATCH_1", "SCRATCH_2")),
                    False,
                    "FSx for Lustre scratch file system: data isn't replicated",
                ),
                Case(
                    Param(("deploymentType",), absent=True),
                    False,
                    "FSx for Lustre without deploymentType is a scratch file system: data isn't replicated",
                ),
            ),
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=False,
        expansion=True,
        source=(
            "kubernetes-sigs/aws-fsx-csi-driver deploy/kubernetes/base/csidriver.yaml, pkg/driver/controller.go, "
            "examples/kubernetes/dynamic_provisioning/README.md (deploymentType, default SCRATCH); "
            "AWS FSx for Lustre guide (deployment options)"
        ),
    ),
    Profile(
        family="aws-mountpoint-s3",
        label="Mountpoint for Amazon S3",
        names=("s3.csi.aws.com",),
        serves=Serves.NONE,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="provisions nothing: it mounts existing S3 buckets"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=False,
        expansion=False,
        notes=("static provisioning only: a class naming it never provisions a volume",),
        source=(
            "awslabs/mountpoint-s3-csi-driver docs/CONFIGURATION.md (only static provisioning), "
            "deploy/kubernetes/base/csidriver.yaml, pkg/driver/node/node.go"
        ),
    ),
    # --- Azure -------------------------------------------------------------------------------
    Profile(
        family="azure-disk",
        label="Azure Disk",
        names=("disk.csi.azure.com",),
        in_tree=("kubernetes.io/azure-disk",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=Rule(
            cases=(
                Case(
                    Param(("maxShares",), absent=True), False, "Azure Disk without maxShares > 1 is not a shared disk"
                ),
                Case(Param(("maxShares",), ("0", "1")), False, "Azure Disk without maxShares > 1 is not a shared disk"),
            ),
            otherwise=True,
            otherwise_why="Azure shared disk (maxShares > 1), volumeMode Block",
        ),
        replication=Replication(
            R.INFRASTRUCTURE,
            note="LRS disk: three copies in one datacenter of the region",
            overrides=(
                Case(
                    Param(AZURE_SKU, ("Premium_ZRS", "StandardSSD_ZRS")),
                    True,
                    "ZRS disk: copies in three availability zones",
                ),
            ),
        ),
        zonal=Rule(
            cases=(
                Case(Param(AZURE_SKU, ("Premium_ZRS", "StandardSSD_ZRS")), False, "Azure ZRS disk spans three zones"),
            ),
            otherwise=True,
            otherwise_why="Azure LRS disk lives in one zone",
        ),
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        source=(
            "kubernetes-sigs/azuredisk-csi-driver docs/driver-parameters.md, "
            "charts/latest/azuredisk-csi-driver/templates/csi-azuredisk-driver.yaml, "
            "pkg/azureutils/azure_disk_utils.go (IsValidVolumeCapabilities); Microsoft docs "
            "'Redundancy options for managed disks'; csi-translation-lib plugins/azure_disk.go"
        ),
    ),
    Profile(
        family="azure-file",
        label="Azure Files",
        names=("file.csi.azure.com",),
        in_tree=("kubernetes.io/azure-file",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(
            R.INFRASTRUCTURE,
            note="storage account redundancy (skuName, default Standard_LRS): LRS keeps three copies in one datacenter",
            overrides=(
                Case(
                    Param(
                        AZURE_SKU, ("Standard_ZRS", "Premium_ZRS", "StandardV2_ZRS", "Standard_RAGZRS", "Standard_GZRS")
                    ),
                    True,
                    "zone-redundant storage account: copies in three availability zones",
                ),
            ),
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        notes=("protocol smb (default) or nfs",),
        source=(
            "kubernetes-sigs/azurefile-csi-driver docs/driver-parameters.md, charts/latest values.yaml "
            "(controller.attachRequired: false), pkg/azurefile/azurefile.go; Azure Storage redundancy docs; "
            "csi-translation-lib plugins/azure_file.go"
        ),
    ),
    Profile(
        family="azure-blob",
        label="Azure Blob (blobfuse / NFSv3)",
        names=("blob.csi.azure.com",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(
            R.INFRASTRUCTURE,
            note="storage account redundancy (skuName, default Standard_LRS): LRS keeps three copies in one datacenter",
            overrides=(
                Case(
                    Param(AZURE_SKU, ("Standard_ZRS", "Premium_ZRS")),
                    True,
                    "zone-redundant storage account: copies in three availability zones",
                ),
            ),
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=False,
        expansion=True,
        notes=("an object store mounted through blobfuse or NFSv3: not a POSIX file system for databases",),
        source=(
            "kubernetes-sigs/blob-csi-driver docs/driver-parameters.md (protocol fuse/fuse2/nfs, skuName), "
            "charts/latest/blob-csi-driver/templates/csi-blob-driver.yaml, pkg/blob/blob.go (snapshot capability "
            "commented out)"
        ),
    ),
    # --- Google Cloud --------------------------------------------------------------------------
    Profile(
        family="gce-pd",
        label="GCE Persistent Disk / Hyperdisk",
        names=("pd.csi.storage.gke.io",),
        in_tree=("kubernetes.io/gce-pd",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=Rule(
            cases=(
                Case(
                    Param(("type",), ("hyperdisk-balanced", "hyperdisk-balanced-high-availability")),
                    True,
                    "GCE Hyperdisk Balanced multi-writer (volumeMode Block)",
                ),
            ),
            otherwise=None,
            otherwise_why="GCE accepts multi-writer disks only for some disk types; not sourced for this one",
        ),
        replication=Replication(
            R.INFRASTRUCTURE,
            note="zonal disk: Compute Engine stores every byte in three or more places within the zone",
            overrides=(
                Case(
                    Param(("replication-type",), ("regional-pd",)),
                    True,
                    "regional persistent disk: synchronous copies in two zones",
                ),
                Case(
                    Param(("type",), ("hyperdisk-balanced-high-availability",)),
                    True,
                    "Hyperdisk Balanced High Availability: synchronous copies in two zones",
                ),
            ),
        ),
        zonal=Rule(
            cases=(
                Case(Param(("replication-type",), ("regional-pd",)), False, "regional persistent disk spans two zones"),
                Case(
                    Param(("type",), ("hyperdisk-balanced-high-availability",)),
                    False,
                    "Hyperdisk Balanced High Availability spans two zones",
                ),
            ),
            otherwise=True,
            otherwise_why="zonal persistent disk (replication-type none)",
        ),
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        source=(
            "kubernetes-sigs/gcp-compute-persistent-disk-csi-driver README.md (type, replication-type), "
            "pkg/parameters/types.go (IsRegional), pkg/gce-pd-csi-driver/utils.go (no multi-writer with mount), "
            "deploy/kubernetes/base/controller/v1_csidriver.yaml; kubevirt CDI storagecapabilities.go (hyperdisk); "
            "Google Cloud docs on regional disks and disk durability; csi-translation-lib plugins/gce_pd.go"
        ),
    ),
    Profile(
        family="gcp-filestore",
        label="Google Cloud Filestore",
        names=("filestore.csi.storage.gke.io",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(
            R.UNKNOWN,
            note="a Google-managed Filestore instance holds the data; its tier parameter sets the service level",
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        notes=("each claim becomes its own instance (1 TiB minimum; 100 GiB for basic HDD on GKE 1.33+)",),
        source=(
            "kubernetes-sigs/gcp-filestore-csi-driver README.md (tier), deploy/kubernetes/base/controller/"
            "csi_driver.yaml, pkg/csi_driver controller capabilities; GKE Filestore CSI driver docs (minimum sizes)"
        ),
    ),
    Profile(
        family="gcs-fuse",
        label="Cloud Storage FUSE",
        names=("gcsfuse.csi.storage.gke.io",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.INFRASTRUCTURE, note="a Cloud Storage bucket holds the data"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=False,
        expansion=False,
        notes=("an object store mounted through FUSE: not a POSIX file system for databases",),
        source=(
            "GoogleCloudPlatform/gcs-fuse-csi-driver deploy/base/setup/csi_driver.yaml, pkg/csi_driver/"
            "gcs_fuse_driver.go (capabilities); kubernetes-csi docs drivers.md"
        ),
    ),
    # --- NetApp Trident (ONTAP, FSx for NetApp ONTAP, Azure NetApp Files, Google Cloud NetApp Volumes)
    Profile(
        family="trident",
        label="NetApp Trident",
        names=("csi.trident.netapp.io",),
        serves=ServesRule(
            cases=((TRIDENT_BACKEND, Serves.FILE), (TRIDENT_BLOCK_BACKEND, Serves.BLOCK)),
            otherwise=Serves.UNKNOWN,
        ),
        rwx_fs=Rule(
            cases=(
                Case(
                    Param(("backendType",), TRIDENT_ONTAP_NAS),
                    True,
                    "Trident ONTAP NAS backend (NFS/SMB file system)",
                ),
                Case(
                    Param(("backendType",), TRIDENT_CLOUD_FILE),
                    True,
                    "Trident cloud NetApp file service (Azure NetApp Files / Google Cloud NetApp Volumes, NFS/SMB)",
                ),
                Case(
                    TRIDENT_BLOCK_BACKEND,
                    False,
                    "Trident SAN backend serves block volumes (ReadWriteMany only as volumeMode Block)",
                ),
            ),
            otherwise=None,
            otherwise_why="Trident class without a known backendType: the backend Trident picks decides",
        ),
        rwx_block=Rule(
            cases=(
                Case(TRIDENT_BLOCK_BACKEND, True, "Trident SAN backend, volumeMode Block"),
                Case(TRIDENT_BACKEND, False, "Trident file backends serve file systems, not raw block"),
            ),
            otherwise=None,
            otherwise_why="Trident class without a known backendType: the backend Trident picks decides",
        ),
        replication=Replication(
            R.INFRASTRUCTURE,
            note="the ONTAP system or cloud NetApp service keeps the data off the nodes, under its own protection",
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        notes=("zonal only when the Trident backend declares supportedTopologies",),
        source=(
            "NetApp/trident config/config.go (backend driver names), cli/k8s_client/yaml_factory.go (CSIDriver "
            "attachRequired: true); docs.netapp.com/us-en/trident (ontap-nas, ontap-san, anf, CSI topology); "
            "kubevirt CDI storagecapabilities.go; Microsoft AKS + Azure NetApp Files guide"
        ),
    ),
    # --- VMware vSphere --------------------------------------------------------------------------
    Profile(
        family="vsphere",
        label="vSphere CSI (CNS block and vSAN file volumes)",
        names=("csi.vsphere.vmware.com",),
        in_tree=("kubernetes.io/vsphere-volume",),
        serves=Serves.BLOCK,
        rwx_fs=Rule(
            cases=(
                Case(
                    Param(FSTYPE, absent=True),
                    True,
                    "vSphere CSI makes a vSAN file volume for a ReadWriteMany claim (needs vSAN File Services)",
                ),
                Case(
                    Param(FSTYPE, ("nfs4", "nfs", "ext4")),
                    True,
                    "vSphere CSI makes a vSAN file volume for a ReadWriteMany claim (needs vSAN File Services)",
                ),
            ),
            otherwise=False,
            otherwise_why="vSphere CSI accepts only an nfs4, nfs, ext4 or unset fstype for ReadWriteMany volumes",
        ),
        rwx_block=False,
        replication=Replication(
            R.UNKNOWN,
            note="the datastore and its storage policy (storagepolicyname, e.g. vSAN failures to tolerate) decide",
        ),
        zonal=True,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        notes=(
            "ReadWriteMany needs vSAN File Services enabled, which the class cannot show",
            "snapshots, expansion and topology apply to block volumes",
        ),
        source=(
            "kubernetes-sigs/vsphere-csi-driver pkg/csi/service/common/util.go (IsFileVolumeRequest, RWX fstype "
            "check, no RWX raw block), example/vanilla-k8s-RWM-filesystem-volumes/example-sc.yaml (fstype optional), "
            "manifests/vanilla/vsphere-csi-driver.yaml; kubernetes-csi docs drivers.md; csi-translation-lib "
            "plugins/vsphere_volume.go"
        ),
    ),
    # --- Ceph (upstream ceph-csi, Rook `<namespace>.` and OpenShift Data Foundation prefixes) ------
    Profile(
        family="ceph-rbd",
        label="Ceph RBD",
        names=("rbd.csi.ceph.com", "rook-ceph.rbd.csi.ceph.com", "openshift-storage.rbd.csi.ceph.com"),
        suffixes=("rbd.csi.ceph.com",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=True,
        replication=Replication(
            R.EXTERNAL,
            keys=("pool",),
            note="the Ceph pool's size (ceph osd pool get <pool> size) sets the copies",
            read="ceph osd pool get <pool> size",
            toolbox="deploy/rook-ceph-tools",
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        source=(
            "ceph/ceph-csi README feature table, deploy/rbd/kubernetes/csidriver.yaml, internal/rbd/"
            "controllerserver.go (multi-node only for block); rook/rook pkg/operator/ceph/csi/config.go; "
            "kubevirt CDI storagecapabilities.go (ODF names); "
            "rook/rook Documentation/Troubleshooting/ceph-toolbox.md (deploy/rook-ceph-tools in the cluster's "
            "namespace), deploy/examples/csi/rbd/storageclass.yaml (clusterID is that namespace)"
        ),
    ),
    Profile(
        family="cephfs",
        label="CephFS",
        names=("cephfs.csi.ceph.com", "rook-ceph.cephfs.csi.ceph.com", "openshift-storage.cephfs.csi.ceph.com"),
        suffixes=("cephfs.csi.ceph.com",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(
            R.EXTERNAL,
            keys=("pool",),
            note="the CephFS data pool's size (ceph osd pool get <pool> size) sets the copies",
            read="ceph osd pool get <pool> size",
            toolbox="deploy/rook-ceph-tools",
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=None,
        snapshots=True,
        expansion=True,
        notes=("ceph-csi ships attachRequired: false; Rook has shipped true (CSI_CEPHFS_ATTACH_REQUIRED)",),
        source=(
            "ceph/ceph-csi README feature table, deploy/cephfs/kubernetes/csidriver.yaml, internal/cephfs/driver.go; "
            "rook/rook pkg/operator/ceph/csi/config.go; kubevirt CDI storagecapabilities.go; "
            "rook/rook Documentation/Troubleshooting/ceph-toolbox.md (deploy/rook-ceph-tools in the cluster's "
            "namespace), deploy/examples/csi/cephfs/storageclass.yaml (clusterID is that namespace)"
        ),
    ),
    Profile(
        family="ceph-nfs",
        label="Ceph NFS (ceph-csi)",
        names=("nfs.csi.ceph.com", "rook-ceph.nfs.csi.ceph.com"),
        suffixes=("nfs.csi.ceph.com",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.EXTERNAL, note="the exported CephFS data pool's size sets the copies"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        notes=("alpha in ceph-csi (provisioning, snapshots and expansion)",),
        source=(
            "ceph/ceph-csi README feature table (NFS rows), deploy/nfs/kubernetes/csidriver.yaml, "
            "examples/nfs/storageclass.yaml; rook/rook Documentation/Storage-Configuration/NFS/nfs-csi-driver.md"
        ),
    ),
    Profile(
        family="ceph-bucket",
        label="Rook Ceph object bucket provisioner",
        names=("rook-ceph.ceph.rook.io/bucket", "openshift-storage.ceph.rook.io/bucket"),
        suffixes=("ceph.rook.io/bucket",),
        serves=Serves.BUCKET,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.EXTERNAL, note="the object store's data pool sets the copies"),
        zonal=False,
        node_local=False,
        csi=False,
        attach_required=None,
        snapshots=False,
        expansion=False,
        notes=("serves ObjectBucketClaims, never PersistentVolumeClaims",),
        source=(
            "rook/rook pkg/operator/ceph/object/objectstore.go (bucketProvisionerName), deploy/examples/"
            "storageclass-bucket-delete.yaml; kubevirt CDI storagecapabilities.go (UnsupportedProvisioners)"
        ),
    ),
    Profile(
        family="noobaa-bucket",
        label="NooBaa object bucket provisioner",
        names=("openshift-storage.noobaa.io/obc", "noobaa.noobaa.io/obc"),
        suffixes=("noobaa.io/obc",),
        serves=Serves.BUCKET,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="NooBaa's backing stores hold the data"),
        zonal=False,
        node_local=False,
        csi=False,
        attach_required=None,
        snapshots=False,
        expansion=False,
        notes=("serves ObjectBucketClaims, never PersistentVolumeClaims",),
        source=(
            "noobaa/noobaa-operator deploy/obc/storage_class.yaml, doc/obc-provisioner.md; kubevirt CDI "
            "storagecapabilities.go (ProvisionerNoobaa)"
        ),
    ),
    # --- Longhorn ------------------------------------------------------------------------------
    Profile(
        family="longhorn",
        label="Longhorn",
        names=("driver.longhorn.io",),
        serves=Serves.BLOCK,
        rwx_fs=True,
        rwx_block=Rule(
            cases=(
                Case(Param(("migratable",), ("true",)), True, 'Longhorn migratable: "true" volume (volumeMode Block)'),
            ),
            otherwise=False,
            otherwise_why='Longhorn shares raw block volumes only with migratable: "true"',
        ),
        replication=Replication(
            R.PARAMETER,
            keys=("numberOfReplicas",),
            default=3,
            maximum=20,
            overrides=(
                Case(
                    Param(("dataLocality",), ("strict-local",)),
                    False,
                    "Longhorn dataLocality strict-local keeps the only replica on the workload's node",
                ),
            ),
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        notes=("ReadWriteMany goes through Longhorn's share-manager (NFSv4): nodes need an NFSv4 client",),
        source=(
            "longhorn/longhorn examples/storageclass.yaml, examples/rwx/, chart/questions.yaml (default replica "
            "count 3); longhorn/longhorn-manager types/setting.go (replica count 1-20), csi/deployment.go "
            "(CSIDriver without attachRequired), csi/node_server.go (RWX block only when migratable), "
            "csi/controller_server.go"
        ),
    ),
    # --- Portworx ------------------------------------------------------------------------------
    Profile(
        family="portworx",
        label="Portworx",
        names=("pxd.portworx.com",),
        in_tree=("kubernetes.io/portworx-volume",),
        # A sharedv4 class exports every volume over NFS, ReadWriteOnce ones included.
        serves=ServesRule(cases=((Param(("sharedv4",), ("true",)), Serves.FILE),), otherwise=Serves.BLOCK),
        rwx_fs=Rule(
            cases=(
                Case(Param(("sharedv4",), ("true",)), True, 'Portworx with sharedv4: "true" (NFS-exported volume)'),
            ),
            otherwise=False,
            otherwise_why='Portworx without sharedv4: "true" serves ReadWriteOnce file systems only',
        ),
        rwx_block=True,
        replication=Replication(R.PARAMETER, keys=("repl",), default=1, maximum=3),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        source=(
            "docs.portworx.com (StorageClass parameters, sharedv4 volumes); libopenstorage/operator "
            "drivers/storage/portworx/component/csi.go (CSIDriver attachRequired: false); kubevirt CDI "
            "storagecapabilities.go; csi-translation-lib plugins/portworx.go"
        ),
    ),
    Profile(
        family="stork-snapshot",
        label="Stork snapshot restore class",
        names=("stork-snapshot",),
        serves=Serves.HELPER,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="a Stork helper class, not storage of its own"),
        zonal=False,
        node_local=False,
        csi=False,
        attach_required=None,
        snapshots=False,
        expansion=False,
        notes=("Stork installs stork-snapshot-sc to restore snapshots into new claims; not a CSI driver",),
        source=(
            "libopenstorage/stork pkg/snapshot/snapshot.go (snapshotProvisionerName), specs/stork-daemonset.yaml "
            "(stork-snapshot-sc); kubevirt CDI storagecapabilities.go (ProvisionerStorkSnapshot)"
        ),
    ),
    # --- OpenEBS -------------------------------------------------------------------------------
    Profile(
        family="openebs-mayastor",
        label="OpenEBS Replicated PV Mayastor",
        names=("io.openebs.csi-mayastor",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=None,
        replication=Replication(R.PARAMETER, keys=("repl",), default=1),
        zonal=False,
        node_local=False,
        csi=False,
        attach_required=True,
        snapshots=True,
        expansion=True,
        notes=(
            "the chart creates no CSIDriver object (Kubernetes then requires attach; it runs csi-attacher)",
            "native RWX block is experimental (openebs/openebs OEP 4059); older releases take single-node writers only",
        ),
        source=(
            "openebs/mayastor-control-plane control-plane/csi-driver/src/context.rs (repl, default 1), "
            "src/bin/controller/controller.rs (access modes, capabilities); openebs/mayastor-extensions "
            "chart/values.yaml, chart/templates/mayastor/csi/csi-controller-deployment.yaml; openebs.io docs "
            "(Replicated PV Mayastor storage class parameters)"
        ),
    ),
    Profile(
        family="openebs-hostpath",
        label="OpenEBS LocalPV hostpath",
        names=("openebs.io/local",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.NONE, note="one copy on one node's disk"),
        zonal=False,
        node_local=True,
        csi=False,
        attach_required=None,
        snapshots=False,
        expansion=False,
        source=(
            "openebs/dynamic-localpv-provisioner cmd/provisioner-localpv/app/start.go (provisioner name), "
            "app/provisioner.go (only ReadWriteOnce)"
        ),
    ),
    Profile(
        family="openebs-lvm",
        label="OpenEBS LocalPV LVM",
        names=("local.csi.openebs.io",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.NONE, note="one copy in one node's LVM volume group"),
        zonal=False,
        node_local=True,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        notes=('shared: "yes" lets pods on the same node share a volume, never pods on other nodes',),
        source=(
            "openebs/lvm-localpv deploy/helm/charts/templates/csidriver.yaml, pkg/driver/controller.go "
            "(single-node writer, capabilities), README.md"
        ),
    ),
    Profile(
        family="openebs-zfs",
        label="OpenEBS LocalPV ZFS",
        names=("zfs.csi.openebs.io",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.NONE, note="one copy in one node's ZFS pool (pool-level mirrors are not visible)"),
        zonal=False,
        node_local=True,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        source=(
            "openebs/zfs-localpv deploy/helm/charts/templates/csidriver.yaml, pkg/driver/controller.go "
            "(single-node writer, capabilities), README.md"
        ),
    ),
    Profile(
        family="openebs-cstor",
        label="OpenEBS cStor",
        names=("cstor.csi.openebs.io",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.PARAMETER, keys=("replicaCount",), default=3),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        source=(
            "openebs/cstor-csi pkg/driver/controller.go (replicaCount, default 3 set by cstor-operators), "
            "pkg/driver/controller_utils.go (single-node writer), deploy/csi-operator.yaml (CSIDriver)"
        ),
    ),
    Profile(
        family="openebs-jiva",
        label="OpenEBS Jiva",
        names=("jiva.csi.openebs.io",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(
            R.EXTERNAL,
            note="replicationFactor of the JivaVolumePolicy named by the class's policy parameter (chart default 3)",
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=False,
        expansion=True,
        source=(
            "openebs/jiva-operator deploy/helm/charts/values.yaml (csiDriver.attachRequired false, "
            "defaultPolicy.replicas 3), templates/default-storageclass.yaml, templates/default-policy.yaml, "
            "pkg/driver/driver.go (single-node writer)"
        ),
    ),
    Profile(
        family="openebs-nfs",
        label="OpenEBS dynamic NFS provisioner",
        names=("openebs.io/nfsrwx",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(
            R.UNKNOWN,
            note="an NFS server pod exports a volume of the BackendStorageClass (annotation cas.openebs.io/config)",
        ),
        zonal=False,
        node_local=False,
        csi=False,
        attach_required=None,
        snapshots=None,
        expansion=None,
        source="openebs/dynamic-nfs-provisioner docs/intro.md, deploy/kubectl/openebs-nfs-provisioner.yaml",
    ),
    # --- LINSTOR / Piraeus, TopoLVM --------------------------------------------------------------
    Profile(
        family="linstor",
        label="LINSTOR / Piraeus",
        names=("linstor.csi.linbit.com",),
        serves=Serves.BLOCK,
        rwx_fs=None,
        rwx_block=True,
        replication=Replication(
            R.PARAMETER,
            keys=(
                "placementCount",
                "autoPlace",
                "linstor.csi.linbit.com/placementCount",
                "linstor.csi.linbit.com/autoPlace",
            ),
            default=1,
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        notes=("ReadWriteMany file systems only when the driver's NFS export is enabled, which the class cannot show",),
        source=(
            "piraeusdatastore/linstor-csi pkg/volume/parameter.go (placementCount/autoPlace, default 1), "
            "pkg/driver/driver.go (validateCapabilities: RWX file systems need the NFS exporter, block takes all "
            "modes), pkg/linstor/const.go; piraeusdatastore/piraeus-operator pkg/resources/cluster/csi-controller/"
            "csi-driver.yaml"
        ),
    ),
    Profile(
        family="topolvm",
        label="TopoLVM",
        names=("topolvm.io", "topolvm.cybozu.com"),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.NONE, note="one copy in one node's LVM volume group"),
        zonal=False,
        node_local=True,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        source=(
            "topolvm/topolvm internal/driver/controller.go (capabilities), CSIDriver manifest (attachRequired "
            "false), docs/deprecated/helm/MIGRATION.md (topolvm.cybozu.com to topolvm.io); kubernetes-csi docs "
            "drivers.md; kubevirt CDI storagecapabilities.go"
        ),
    ),
    # --- Node-local provisioners of small distributions -------------------------------------------
    Profile(
        family="local-path",
        label="local-path provisioner (k3s default)",
        names=("rancher.io/local-path",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.NONE, note="one copy in a directory on one node"),
        zonal=False,
        node_local=True,
        csi=False,
        attach_required=None,
        snapshots=False,
        expansion=False,
        notes=(
            "a sharedFileSystemPath set in the provisioner's ConfigMap serves all access modes on a shared mount; "
            "the class cannot show it",
        ),
        source=(
            "rancher/local-path-provisioner provisioner.go (nodePath mode: ReadWriteOnce/ReadWriteOncePod only), "
            "README.md (sharedFileSystemPath); k3s-io/k3s manifests/local-storage.yaml"
        ),
    ),
    Profile(
        family="microk8s-hostpath",
        label="MicroK8s hostpath storage",
        names=("microk8s.io/hostpath",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.NONE, note="one copy in a directory on one node"),
        zonal=False,
        node_local=True,
        csi=False,
        attach_required=None,
        snapshots=False,
        expansion=False,
        source=(
            "canonical/microk8s tests/templates/registry-sc.yaml (provisioner name); MicroK8s hostpath-storage "
            "addon (class microk8s-hostpath, storage on the host's disk)"
        ),
    ),
    Profile(
        family="minikube-hostpath",
        label="minikube hostpath",
        names=("k8s.io/minikube-hostpath",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.NONE, note="one copy in a directory on one node"),
        zonal=False,
        node_local=True,
        csi=False,
        attach_required=None,
        snapshots=False,
        expansion=False,
        source=(
            "kubernetes/minikube pkg/storage/storage_provisioner.go, deploy/addons/storageclass/storageclass.yaml; "
            "kubernetes/minikube issue 12165 (storage provisioner broken for multi-node)"
        ),
    ),
    Profile(
        family="docker-desktop-hostpath",
        label="Docker Desktop hostpath",
        names=("docker.io/hostpath",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.NONE, note="one copy on the single Docker Desktop node"),
        zonal=False,
        node_local=True,
        csi=False,
        attach_required=None,
        snapshots=False,
        expansion=False,
        source=(
            "Docker Desktop's default StorageClass hostpath (provisioner docker.io/hostpath) as users publish it; "
            "Docker Desktop's provisioner is closed source"
        ),
    ),
    Profile(
        family="no-provisioner",
        label="static local volumes (no provisioner)",
        names=("kubernetes.io/no-provisioner",),
        serves=Serves.NONE,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(R.NONE, note="pre-created local volumes: one copy on one node"),
        zonal=False,
        node_local=True,
        csi=False,
        attach_required=None,
        snapshots=False,
        expansion=False,
        notes=("claims bind only to pre-created PersistentVolumes",),
        source=(
            "kubernetes/component-helpers storage/volume (NotSupportedProvisioner); Kubernetes docs, local "
            "volumes (no dynamic provisioning)"
        ),
    ),
    # --- NFS and SMB servers -----------------------------------------------------------------------
    Profile(
        family="nfs-csi",
        label="NFS CSI driver",
        names=("nfs.csi.k8s.io",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="the NFS server (which kfstor cannot see) keeps the copies"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        source=(
            "kubernetes-csi/csi-driver-nfs charts/latest/csi-driver-nfs/templates/csi-nfs-driverinfo.yaml, "
            "pkg/nfs/nfs.go (capabilities); kubernetes-csi docs drivers.md"
        ),
    ),
    Profile(
        family="nfs-subdir",
        label="NFS subdir external provisioner",
        names=("k8s-sigs.io/nfs-subdir-external-provisioner", "cluster.local/nfs-subdir-external-provisioner"),
        suffixes=("nfs-subdir-external-provisioner",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="the NFS server (which kfstor cannot see) keeps the copies"),
        zonal=False,
        node_local=False,
        csi=False,
        attach_required=None,
        snapshots=False,
        expansion=False,
        source="kubernetes-sigs/nfs-subdir-external-provisioner README (PROVISIONER_NAME is configurable)",
    ),
    Profile(
        family="smb-csi",
        label="SMB CSI driver",
        names=("smb.csi.k8s.io",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="the SMB server kfstor cannot see holds the data"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=False,
        expansion=True,
        source=(
            "kubernetes-csi/csi-driver-smb charts/latest/csi-driver-smb/templates/csi-smb-driver.yaml, "
            "pkg/smb/smb.go (capabilities); kubernetes-csi docs drivers.md"
        ),
    ),
    Profile(
        family="democratic-csi-nfs",
        label="democratic-csi (NFS drivers)",
        names=("org.democratic-csi.nfs",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="the ZFS/TrueNAS server behind the share holds the data"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=None,
        snapshots=True,
        expansion=True,
        notes=("democratic-csi's CSI name is chosen at install (--csi-name); other names are not recognised",),
        source=(
            "democratic-csi/democratic-csi docs/Nomad/examples (org.democratic-csi.nfs), examples/freenas-nfs.yaml, "
            "README.md (resizing, snapshots); kubernetes-csi docs drivers.md (org.democratic-csi.[X])"
        ),
    ),
    Profile(
        family="democratic-csi-iscsi",
        label="democratic-csi (iSCSI drivers)",
        names=("org.democratic-csi.iscsi",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=None,
        replication=Replication(R.UNKNOWN, note="the ZFS/TrueNAS server behind the LUN holds the data"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=None,
        snapshots=True,
        expansion=True,
        notes=("democratic-csi's CSI name is chosen at install (--csi-name); other names are not recognised",),
        source=(
            "democratic-csi/democratic-csi docs/Nomad/examples (org.democratic-csi.iscsi), examples/freenas-iscsi.yaml,"
            " README.md (resizing, snapshots); kubernetes-csi docs drivers.md (org.democratic-csi.[X])"
        ),
    ),
    # --- Other clouds ------------------------------------------------------------------------------
    Profile(
        family="digitalocean",
        label="DigitalOcean Block Storage",
        names=("dobs.csi.digitalocean.com",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(
            R.UNKNOWN, note="a network volume off the node; the provider's copy count is not sourced"
        ),
        zonal=True,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        source=(
            "digitalocean/csi-digitalocean deploy/kubernetes/releases/csi-digitalocean-dev/driver.yaml, "
            "driver/controller.go (single-node access, capabilities), region topology"
        ),
    ),
    Profile(
        family="linode",
        label="Linode Block Storage",
        names=("linodebs.csi.linode.com",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(
            R.UNKNOWN, note="a network volume off the node; the provider's copy count is not sourced"
        ),
        zonal=True,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=False,
        expansion=True,
        source=(
            "linode/linode-blockstorage-csi-driver deploy/kubernetes/base/csi-driver-instance.yaml, "
            "internal/driver/capabilities.go"
        ),
    ),
    Profile(
        family="hetzner",
        label="Hetzner Cloud Volumes",
        names=("csi.hetzner.cloud",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(
            R.UNKNOWN, note="a network volume off the node; the provider's copy count is not sourced"
        ),
        zonal=True,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=False,
        expansion=True,
        source="hetznercloud/csi-driver chart/templates/core/csidriver.yaml, internal/driver/controller.go",
    ),
    Profile(
        family="cinder",
        label="OpenStack Cinder",
        names=("cinder.csi.openstack.org",),
        in_tree=("kubernetes.io/cinder",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=None,
        replication=Replication(R.UNKNOWN, note="the Cinder backend behind the volume type decides the copies"),
        zonal=True,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        notes=('multi-attach needs a Cinder volume type with multiattach="<is> True", which the class cannot show',),
        source=(
            "kubernetes/cloud-provider-openstack manifests/cinder-csi-plugin/csi-cinder-driver.yaml, "
            "pkg/csi/cinder/driver.go, docs/cinder-csi-plugin/features.md (topology, multi-attach); "
            "csi-translation-lib plugins/openstack_cinder.go"
        ),
    ),
    Profile(
        family="manila",
        label="OpenStack Manila",
        names=("manila.csi.openstack.org", "nfs.manila.csi.openstack.org"),
        suffixes=("manila.csi.openstack.org",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="the Manila share backend decides the copies"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        source=(
            "kubernetes/cloud-provider-openstack manifests/manila-csi-plugin/csidriver.yaml, charts/manila-csi-plugin/"
            "templates/csidriver.yaml (<protocol>.manila.csi.openstack.org), pkg/csi/manila/driver.go"
        ),
    ),
    Profile(
        family="ibm-vpc-block",
        label="IBM Cloud VPC Block Storage",
        names=("vpc.block.csi.ibm.io",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=False,
        replication=Replication(
            R.UNKNOWN, note="a network volume off the node; the provider's copy count is not sourced"
        ),
        zonal=True,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        source=(
            "kubernetes-sigs/ibm-vpc-block-csi-driver deploy/kubernetes/driver/kubernetes/manifests/csidriver.yaml, "
            "pkg/ibmcsidriver/ibm_csi_driver.go; kubevirt CDI storagecapabilities.go (RWO only)"
        ),
    ),
    Profile(
        family="ibm-vpc-file",
        label="IBM Cloud VPC File Storage",
        names=("vpc.file.csi.ibm.io",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="an IBM-managed file share; its copy count is not sourced"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        source=(
            "IBM/ibm-vpc-file-csi-driver deploy/kubernetes/manifests/csidriver.yaml, pkg/ibmcsidriver/"
            "ibm_csi_driver.go; kubevirt CDI storagecapabilities.go (profiles rfs, dp2)"
        ),
    ),
    Profile(
        family="ibm-cos",
        label="IBM Cloud Object Storage (s3fs / rclone)",
        names=("cos.s3.csi.ibm.io",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="an IBM Cloud Object Storage bucket holds the data"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=False,
        expansion=False,
        notes=("an object store mounted through FUSE: not a POSIX file system for databases",),
        source="IBM/ibm-object-csi-driver deploy/ibmCloud/cos-s3-csidriver.yaml, deploy/ibmCloud/*-sc.yaml",
    ),
    Profile(
        family="oci-block",
        label="Oracle OCI Block Volume",
        names=("blockvolume.csi.oraclecloud.com",),
        suffixes=("blockvolume.csi.oraclecloud.com",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=True,
        replication=Replication(
            R.UNKNOWN, note="a network volume off the node; the provider's copy count is not sourced"
        ),
        zonal=True,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        source=(
            "oracle/oci-cloud-controller-manager pkg/csi/driver/bv_controller.go (block multi-node writer, "
            "capabilities), manifests/container-storage-interface/oci-csi-node-driver.yaml (optional customHandle "
            "prefix; CSIDriver without attachRequired, so true); kubernetes-csi docs drivers.md (Topology)"
        ),
    ),
    Profile(
        family="oci-fss",
        label="Oracle OCI File Storage",
        names=("fss.csi.oraclecloud.com",),
        suffixes=("fss.csi.oraclecloud.com",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="an OCI-managed file system; its copy count is not sourced"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=False,
        expansion=False,
        source=(
            "oracle/oci-cloud-controller-manager manifests/container-storage-interface/oci-csi-node-driver.yaml, "
            "pkg/csi/driver/fss_controller.go (CREATE_DELETE_VOLUME only)"
        ),
    ),
    Profile(
        family="alibaba-disk",
        label="Alibaba Cloud Disk",
        names=("diskplugin.csi.alibabacloud.com",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=None,
        replication=Replication(
            R.UNKNOWN, note="a network disk off the node; the provider's copy count is not sourced"
        ),
        zonal=True,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        notes=("multi-attach depends on the disk category, which is not sourced here",),
        source=(
            "kubernetes-sigs/alibaba-cloud-csi-driver deploy/charts/alibaba-cloud-csi-driver/templates/csi-driver.yaml,"
            " pkg/disk/controllerserver.go; kubernetes-csi docs drivers.md (Topology)"
        ),
    ),
    Profile(
        family="alibaba-nas",
        label="Alibaba Cloud NAS",
        names=("nasplugin.csi.alibabacloud.com",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="an Alibaba-managed NAS file system; its copy count is not sourced"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=False,
        expansion=True,
        source=(
            "kubernetes-sigs/alibaba-cloud-csi-driver deploy/charts/alibaba-cloud-csi-driver/templates/csi-driver.yaml,"
            " pkg/nas/controllerserver.go"
        ),
    ),
    Profile(
        family="alibaba-oss",
        label="Alibaba Cloud OSS (ossfs)",
        names=("ossplugin.csi.alibabacloud.com",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="an OSS bucket holds the data"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=False,
        expansion=False,
        notes=("an object store mounted through FUSE: not a POSIX file system for databases",),
        source=(
            "kubernetes-sigs/alibaba-cloud-csi-driver deploy/charts/alibaba-cloud-csi-driver/templates/csi-driver.yaml,"
            " pkg/oss/controllerserver.go"
        ),
    ),
    # --- Storage arrays and hyperconverged platforms -----------------------------------------------
    Profile(
        family="nutanix",
        label="Nutanix (Volumes and Files)",
        names=("csi.nutanix.com",),
        serves=ServesRule(
            cases=(
                (Param(("storageType",), ("NutanixFiles",)), Serves.FILE),
                (Param(("storageType",), ("NutanixVolumes",)), Serves.BLOCK),
            ),
            otherwise=Serves.UNKNOWN,
        ),
        rwx_fs=Rule(
            cases=(
                Case(Param(("storageType",), ("NutanixFiles",)), True, "Nutanix Files (NFS share)"),
                Case(Param(("storageType",), ("NutanixVolumes",)), False, "Nutanix Volumes serve block volumes"),
            ),
            otherwise=None,
            otherwise_why="Nutanix class without storageType NutanixVolumes or NutanixFiles",
        ),
        rwx_block=None,
        replication=Replication(
            R.INFRASTRUCTURE, note="the Nutanix cluster keeps the data off the nodes, under its own replication factor"
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        source=(
            "nutanix/csi-plugin deploy/csi-driver.yaml, example/ABS/sc.yaml, example/AFS/sc.yaml (storageType), "
            "README.md; kubernetes-csi docs drivers.md (Volumes single pod, Files multiple pods)"
        ),
    ),
    Profile(
        family="pure-pso",
        label="Pure Service Orchestrator (legacy)",
        names=("pure-csi",),
        serves=ServesRule(
            cases=(
                (Param(("backend",), ("file",)), Serves.FILE),
                (Param(("backend",), ("block",)), Serves.BLOCK),
            ),
            otherwise=Serves.UNKNOWN,
        ),
        rwx_fs=Rule(
            cases=(
                Case(Param(("backend",), ("file",)), True, "PSO backend: file (FlashBlade NFS)"),
                Case(
                    Param(("backend",), ("block",)),
                    False,
                    "PSO backend: block (FlashArray) is RWX only as volumeMode Block",
                ),
            ),
            otherwise=None,
            otherwise_why="PSO class without backend: block or file",
        ),
        rwx_block=Rule(
            cases=(
                Case(Param(("backend",), ("block",)), True, "PSO FlashArray raw block volume (volumeMode Block)"),
                Case(Param(("backend",), ("file",)), False, "PSO FlashBlade serves file systems only"),
            ),
            otherwise=None,
            otherwise_why="PSO class without backend: block or file",
        ),
        replication=Replication(R.INFRASTRUCTURE, note="the FlashArray or FlashBlade keeps the data off the nodes"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        notes=("PSO is superseded by Portworx with backend: pure_block / pure_file",),
        source=(
            "purestorage/helm-charts docs/csi-read-write-many.md, docs/csi-volume-expansion.md, "
            "pure-csi/templates/node.yaml (CSIDriver pure-csi), pure-csi/templates/storageclass.yaml; "
            "purestorage/pso-csi README.md"
        ),
    ),
    _dell_array(
        "dell-powerflex",
        "Dell PowerFlex",
        "csi-vxflexos.dellemc.com",
        DELL_NFS_FSTYPE,
        "Dell PowerFlex NFS file system (fstype nfs)",
        "the PowerFlex system keeps the data off the nodes",
        (
            "dell/helm-charts charts/csi-vxflexos/templates/csidriver.yaml; dell/csi-powerflex controller "
            "capabilities; kubevirt CDI storagecapabilities.go (fstype nfs)"
        ),
    ),
    _dell_array(
        "dell-powerstore",
        "Dell PowerStore",
        "csi-powerstore.dellemc.com",
        DELL_NFS_FSTYPE,
        "Dell PowerStore NFS file system (fstype nfs)",
        "the PowerStore array keeps the data off the nodes",
        (
            "dell/helm-charts charts/csi-powerstore/templates/csidriver.yaml (no attachRequired: default true); "
            "dell/csi-powerstore controller capabilities; kubevirt CDI storagecapabilities.go (fstype nfs)"
        ),
    ),
    Profile(
        family="dell-powerscale",
        label="Dell PowerScale (Isilon)",
        names=("csi-isilon.dellemc.com",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.INFRASTRUCTURE, note="the PowerScale cluster keeps the data off the nodes"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        source=(
            "dell/helm-charts charts/csi-isilon/templates/csidriver.yaml; dell/csi-powerscale controller "
            "capabilities; kubevirt CDI storagecapabilities.go"
        ),
    ),
    _dell_array(
        "dell-unity",
        "Dell Unity XT",
        "csi-unity.dellemc.com",
        DELL_NFS_PROTOCOL,
        "Dell Unity NFS file system (protocol NFS)",
        "the Unity array keeps the data off the nodes",
        (
            "dell/helm-charts charts/csi-unity/templates/csidriver.yaml; dell/csi-unity controller capabilities; "
            "kubevirt CDI storagecapabilities.go (protocol nfs)"
        ),
    ),
    _dell_array(
        "dell-powermax",
        "Dell PowerMax",
        "csi-powermax.dellemc.com",
        DELL_NFS_FSTYPE,
        "Dell PowerMax NFS file system (fstype nfs)",
        "the PowerMax array keeps the data off the nodes",
        (
            "dell/helm-charts charts/csi-powermax/templates/csidriver.yaml; dell/csi-powermax controller "
            "capabilities; kubevirt CDI storagecapabilities.go (fstype nfs)"
        ),
        notes=("the Helm chart can prefix the driver name with its namespace (customDriverName)",),
    ),
    Profile(
        family="hpe",
        label="HPE CSI Driver (Alletra, Nimble, Primera, 3PAR)",
        names=("csi.hpe.com",),
        serves=ServesRule(
            cases=(
                (Param(("accessProtocol",), ("nfs",)), Serves.FILE),
                (Param(("nfsResources",), ("true",)), Serves.FILE),
            ),
            otherwise=Serves.BLOCK,
        ),
        rwx_fs=Rule(
            cases=(
                Case(
                    Param(("nfsResources",), ("true",)),
                    True,
                    'HPE nfsResources: "true" (NFS server in front of the volume)',
                ),
                Case(Param(("accessProtocol",), ("nfs",)), True, "HPE file volume (accessProtocol nfs)"),
            ),
            otherwise=False,
            otherwise_why='HPE block volumes need nfsResources: "true" for ReadWriteMany file systems',
        ),
        rwx_block=True,
        replication=Replication(R.INFRASTRUCTURE, note="the HPE array keeps the data off the nodes"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        source=(
            "hpe-storage/csi-driver pkg/driver/controller_server.go (multi-node access needs nfsResources or "
            "accessProtocol nfs), pkg/driver/constants.go; hpe-storage/co-deployments helm/charts/hpe-csi-driver/"
            "templates/csi-driver-crd.yaml (no attachRequired: default true); kubevirt CDI storagecapabilities.go"
        ),
    ),
    # --- Distributed file systems --------------------------------------------------------------------
    Profile(
        family="quobyte",
        label="Quobyte",
        names=("csi.quobyte.com", "quobyte-csi"),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="the Quobyte volume configuration sets the copies"),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        notes=("the CSI name is configurable (csiProvisionerName, default csi.quobyte.com)",),
        source=(
            "quobyte/quobyte-csi quobyte-csi-driver/values.yaml (csiProvisionerName), templates/_csi_driver_object.tpl,"
            " driver/controller.go (capabilities); kubernetes-csi docs drivers.md (quobyte-csi)"
        ),
    ),
    Profile(
        family="juicefs",
        label="JuiceFS",
        names=("csi.juicefs.com",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(
            R.UNKNOWN, note="the object store and metadata engine configured in the volume's secret hold the data"
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=True,
        expansion=True,
        source="juicedata/juicefs-csi-driver deploy/k8s.yaml (CSIDriver), pkg/driver/controller.go (capabilities)",
    ),
    Profile(
        family="seaweedfs",
        label="SeaweedFS CSI",
        names=("seaweedfs-csi-driver",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(
            R.UNKNOWN, note='SeaweedFS placement code (class parameter replication, e.g. "011", or the filer default)'
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=False,
        expansion=True,
        source=(
            "seaweedfs/seaweedfs-csi-driver deploy/helm/seaweedfs-csi-driver/values.yaml (driverName, "
            "csiAttacher.enabled true), templates/csidriver.yaml, pkg/driver/driver.go, README.md (replication)"
        ),
    ),
    Profile(
        family="glusterfs-csi",
        label="GlusterFS CSI",
        names=("org.gluster.glusterfs",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="the Gluster volume's layout (replica count) sets the copies"),
        zonal=False,
        node_local=False,
        csi=False,
        attach_required=True,
        snapshots=True,
        expansion=None,
        notes=("its manifests create no CSIDriver object; the project is unmaintained",),
        source=(
            "gluster/gluster-csi-driver README.md, examples/kubernetes/glusterfs/csi-deployment.yaml, "
            "snapshot-class.yaml; kubernetes-csi docs drivers.md"
        ),
    ),
    Profile(
        family="kadalu",
        label="Kadalu (GlusterFS)",
        names=("kadalu", "org.kadalu.gluster"),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(
            R.UNKNOWN, note="the Kadalu storage pool's type (Replica1, Replica2, Replica3, ...) sets the copies"
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=False,
        snapshots=False,
        expansion=True,
        notes=("Kadalu registered as org.kadalu.gluster until August 2020, as kadalu since",),
        source=(
            "kadalu/kadalu csi/identityserver.py (DRIVER_NAME, renamed in commit 56d8860), "
            "templates/csi-driver-object-v1.yaml.j2, doc/storage-classes.adoc, csi/controllerserver.py"
        ),
    ),
    # --- In-tree plugins Kubernetes removed --------------------------------------------------------
    _removed(
        "glusterfs-intree",
        "GlusterFS (in-tree)",
        "kubernetes.io/glusterfs",
        "removed in Kubernetes 1.26; use a GlusterFS CSI driver such as kadalu",
        "kubernetes/kubernetes PR 112015 (removal in 1.26); kubernetes/api core/v1 types.go",
    ),
    _removed(
        "rbd-intree",
        "Ceph RBD (in-tree)",
        "kubernetes.io/rbd",
        "removed in Kubernetes 1.31 with its CSI migration; use ceph-csi rbd.csi.ceph.com",
        "kubernetes/kubernetes PR 124546; kubernetes/csi-translation-lib commit 6844d9f",
    ),
    _removed(
        "cephfs-intree",
        "CephFS (in-tree)",
        "kubernetes.io/cephfs",
        "removed in Kubernetes 1.31; use ceph-csi cephfs.csi.ceph.com",
        "kubernetes/kubernetes PR 124544 (removal in 1.31)",
    ),
    _removed(
        "flocker-intree",
        "Flocker (in-tree)",
        "kubernetes.io/flocker",
        "removed in Kubernetes 1.25; no replacement",
        "kubernetes/kubernetes PR 115035 (Flocker, Quobyte, StorageOS removed in 1.25; PRs 111618-111620)",
    ),
    _removed(
        "quobyte-intree",
        "Quobyte (in-tree)",
        "kubernetes.io/quobyte",
        "removed in Kubernetes 1.25; use the Quobyte CSI driver csi.quobyte.com",
        "kubernetes/kubernetes PR 115035 (Flocker, Quobyte, StorageOS removed in 1.25; PRs 111618-111620)",
    ),
    _removed(
        "photon-pd-intree",
        "Photon PD (in-tree)",
        "kubernetes.io/photon-pd",
        "non-functional since Kubernetes 1.16 (cloud provider removed); no replacement",
        "kubernetes/kubernetes PR 102186 (pod warning: photonPersistentDisk non-functional in v1.16+)",
    ),
    _removed(
        "scaleio-intree",
        "ScaleIO (in-tree)",
        "kubernetes.io/scaleio",
        "removed in Kubernetes 1.22; use Dell PowerFlex CSI csi-vxflexos.dellemc.com",
        "kubernetes/kubernetes PRs 101685 and 102186 (ScaleIO removed in 1.22)",
    ),
    _removed(
        "storageos-intree",
        "StorageOS (in-tree)",
        "kubernetes.io/storageos",
        "removed in Kubernetes 1.25; no in-tree replacement",
        "kubernetes/kubernetes PRs 111620 and 115035 (StorageOS removed in 1.25)",
    ),
)


def find_profile(provisioner: str) -> Profile | None:
    """The row for a provisioner name as a StorageClass writes it, or None when kfstor has none.

    Exact names win, then in-tree aliases (CSI migration hands them to the row's driver), then
    suffixes as "<prefix>.<suffix>" or "<prefix>/<suffix>" (Rook's and ODF's namespace prefixes,
    nfs-subdir's configurable "<name>/nfs-subdir-external-provisioner"). The longest matching suffix
    wins, so a more specific row is never shadowed by a shorter one.
    """
    name = provisioner.strip()
    if not name:
        return None
    for profile in PROFILES:
        if name in profile.names:
            return profile
    for profile in PROFILES:
        if name in profile.in_tree:
            return profile
    best: Profile | None = None
    best_len = 0
    for profile in PROFILES:
        for suffix in profile.suffixes:
            if len(suffix) > best_len and (name.endswith("." + suffix) or name.endswith("/" + suffix)):
                best, best_len = profile, len(suffix)
    return best
