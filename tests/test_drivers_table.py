"""The storage knowledge table (kfstor/facts/drivers.py) is consistent and covers the drivers
production clusters run."""

from __future__ import annotations

import pytest

from kfstor.facts.drivers import PROFILES, find_profile
from kfstor.facts.profile import (
    Capability,
    Profile,
    ReplicationKind,
    Rule,
    Serves,
    ServesRule,
    Tri,
    evaluate_capability,
    evaluate_serves,
)


def possible(cap: Capability) -> set[Tri]:
    """Every value a capability can take for some class."""
    if isinstance(cap, Rule):
        return {case.value for case in cap.cases} | {cap.otherwise}
    return {cap}


def possible_serves(serves: Serves | ServesRule) -> set[Serves]:
    if isinstance(serves, ServesRule):
        return {value for _, value in serves.cases} | {serves.otherwise}
    return {serves}


def by_family(family: str) -> Profile:
    (profile,) = [p for p in PROFILES if p.family == family]
    return profile


def test_every_row_names_its_source() -> None:
    assert [p.family for p in PROFILES if not p.source.strip()] == []


def test_families_are_unique() -> None:
    families = [p.family for p in PROFILES]
    assert sorted({f for f in families if families.count(f) > 1}) == []


def test_names_are_unique_across_rows() -> None:
    seen: dict[str, str] = {}
    clashes = []
    for profile in PROFILES:
        assert profile.names, f"{profile.family} has no provisioner name"
        for name in profile.names + profile.in_tree:
            if name in seen:
                clashes.append((name, seen[name], profile.family))
            seen[name] = profile.family
    assert clashes == []


def test_suffixes_are_unique_across_rows() -> None:
    suffixes = [s for p in PROFILES for s in p.suffixes]
    assert sorted({s for s in suffixes if suffixes.count(s) > 1}) == []


def test_every_in_tree_name_is_in_exactly_one_row_and_resolves_to_it() -> None:
    expected = {
        "kubernetes.io/aws-ebs": "aws-ebs",
        "kubernetes.io/gce-pd": "gce-pd",
        "kubernetes.io/azure-disk": "azure-disk",
        "kubernetes.io/azure-file": "azure-file",
        "kubernetes.io/cinder": "cinder",
        "kubernetes.io/vsphere-volume": "vsphere",
        "kubernetes.io/portworx-volume": "portworx",
    }
    rows = {name: [p.family for p in PROFILES if name in p.in_tree] for p in PROFILES for name in p.in_tree}
    assert rows == {name: [family] for name, family in expected.items()}
    for name, family in expected.items():
        profile = find_profile(name)
        assert profile is not None and profile.family == family
        assert profile.csi is True, f"{name} migrates to a CSI driver"


def test_nothing_node_local_serves_rwx_file_systems() -> None:
    offenders = [p.family for p in PROFILES if p.node_local and True in possible(p.rwx_fs)]
    assert offenders == []


def test_nothing_node_local_is_a_shared_file_system() -> None:
    offenders = [p.family for p in PROFILES if p.node_local and Serves.FILE in possible_serves(p.serves)]
    assert offenders == []


REMOVED = {
    "kubernetes.io/glusterfs": "1.26",
    "kubernetes.io/rbd": "1.31",
    "kubernetes.io/cephfs": "1.31",
    "kubernetes.io/flocker": "1.25",
    "kubernetes.io/quobyte": "1.25",
    "kubernetes.io/photon-pd": "1.16",
    "kubernetes.io/scaleio": "1.22",
    "kubernetes.io/storageos": "1.25",
}


def test_removed_plugins_provision_nothing_and_name_the_release() -> None:
    removed = {name: p for p in PROFILES if p.removed for name in p.names}
    assert sorted(removed) == sorted(REMOVED)
    for name, profile in removed.items():
        assert f"Kubernetes {REMOVED[name]}" in profile.removed, (name, profile.removed)
        assert profile.serves is Serves.NONE, name
        assert profile.csi is False, name
        assert possible(profile.rwx_fs) == {False} and possible(profile.rwx_block) == {False}, name
        assert profile.in_tree == (), name


def test_bucket_and_helper_rows_serve_no_volumes() -> None:
    rows = [p for p in PROFILES if possible_serves(p.serves) & {Serves.BUCKET, Serves.HELPER}]
    assert sorted(p.family for p in rows) == ["ceph-bucket", "noobaa-bucket", "stork-snapshot"]
    for profile in rows:
        assert isinstance(profile.serves, Serves), profile.family
        assert possible(profile.rwx_fs) == {False}, profile.family
        assert possible(profile.rwx_block) == {False}, profile.family
        assert profile.node_local is False, profile.family
    assert by_family("stork-snapshot").serves is Serves.HELPER


# Per-zone block disks: the only rows that may be zonal.
ZONAL_FAMILIES = {
    "aws-ebs",
    "azure-disk",
    "gce-pd",
    "vsphere",
    "cinder",
    "digitalocean",
    "linode",
    "hetzner",
    "ibm-vpc-block",
    "oci-block",
    "alibaba-disk",
}


def test_only_per_zone_block_disks_are_zonal() -> None:
    zonal = {p.family for p in PROFILES if True in possible(p.zonal)}
    assert zonal == ZONAL_FAMILIES
    for family in zonal:
        profile = by_family(family)
        assert possible_serves(profile.serves) == {Serves.BLOCK}, family
        assert not profile.node_local and profile.csi, family


def test_regional_disks_are_not_zonal() -> None:
    pd = by_family("gce-pd")
    assert evaluate_capability(pd.zonal, {}, "").value is True
    assert evaluate_capability(pd.zonal, {"replication-type": "regional-pd"}, "").value is False
    assert evaluate_capability(pd.zonal, {"type": "hyperdisk-balanced-high-availability"}, "").value is False
    disk = by_family("azure-disk")
    assert evaluate_capability(disk.zonal, {"skuName": "Premium_LRS"}, "").value is True
    assert evaluate_capability(disk.zonal, {"skuname": "premium_zrs"}, "").value is False


def test_rules_explain_every_branch() -> None:
    for profile in PROFILES:
        for cap in (profile.rwx_fs, profile.rwx_block, profile.zonal):
            if isinstance(cap, Rule):
                assert cap.otherwise_why.strip(), profile.family
                assert all(case.why.strip() and case.when.keys for case in cap.cases), profile.family


def test_replication_rows_say_how_to_read_them() -> None:
    for profile in PROFILES:
        rep = profile.replication
        if rep.kind is ReplicationKind.PARAMETER:
            assert rep.keys and rep.default is not None, profile.family
        elif rep.kind is ReplicationKind.EXTERNAL:
            # keys may name the parameter that says where the count lives (a Ceph pool)
            assert rep.note.strip() and ("<pool>" in rep.note) == bool(rep.keys), profile.family
            # the command that reads the count needs the parameter that names where it lives
            assert not rep.read or (rep.keys and "<pool>" in rep.read), profile.family
        else:
            assert rep.keys == () and rep.note.strip(), profile.family
    counts = {
        p.family: (p.replication.keys, p.replication.default)
        for p in PROFILES
        if p.replication.kind is ReplicationKind.PARAMETER
    }
    assert counts["openebs-mayastor"] == (("repl",), 1)
    assert counts["longhorn"] == (("numberOfReplicas",), 3)
    assert counts["portworx"] == (("repl",), 1)
    assert counts["linstor"][0][:2] == ("placementCount", "autoPlace") and counts["linstor"][1] == 1
    assert by_family("ceph-rbd").replication.kind is ReplicationKind.EXTERNAL
    assert by_family("ceph-rbd").replication.keys == ("pool",)
    assert by_family("ceph-rbd").replication.read == "ceph osd pool get <pool> size"
    assert by_family("cephfs").replication.toolbox == "deploy/rook-ceph-tools"


# Provisioner names as classes write them, and the row each must resolve to (exact name, in-tree
# alias or suffix): the families production clusters run.
COVERAGE = {
    # AWS
    "ebs.csi.aws.com": "aws-ebs",
    "kubernetes.io/aws-ebs": "aws-ebs",
    "efs.csi.aws.com": "aws-efs",
    "fsx.csi.aws.com": "aws-fsx-lustre",
    "s3.csi.aws.com": "aws-mountpoint-s3",
    # Azure
    "disk.csi.azure.com": "azure-disk",
    "kubernetes.io/azure-disk": "azure-disk",
    "file.csi.azure.com": "azure-file",
    "kubernetes.io/azure-file": "azure-file",
    "blob.csi.azure.com": "azure-blob",
    # Google
    "pd.csi.storage.gke.io": "gce-pd",
    "kubernetes.io/gce-pd": "gce-pd",
    "filestore.csi.storage.gke.io": "gcp-filestore",
    "gcsfuse.csi.storage.gke.io": "gcs-fuse",
    # NetApp Trident: ONTAP, FSx for NetApp ONTAP, Azure NetApp Files, Google Cloud NetApp Volumes
    "csi.trident.netapp.io": "trident",
    # vSphere
    "csi.vsphere.vmware.com": "vsphere",
    "kubernetes.io/vsphere-volume": "vsphere",
    # Ceph, Rook, OpenShift Data Foundation
    "rbd.csi.ceph.com": "ceph-rbd",
    "rook-ceph.rbd.csi.ceph.com": "ceph-rbd",
    "openshift-storage.rbd.csi.ceph.com": "ceph-rbd",
    "my-rook.rbd.csi.ceph.com": "ceph-rbd",
    "cephfs.csi.ceph.com": "cephfs",
    "rook-ceph.cephfs.csi.ceph.com": "cephfs",
    "openshift-storage.cephfs.csi.ceph.com": "cephfs",
    "nfs.csi.ceph.com": "ceph-nfs",
    "rook-ceph.nfs.csi.ceph.com": "ceph-nfs",
    "openshift-storage.nfs.csi.ceph.com": "ceph-nfs",
    # Longhorn, Portworx, Stork
    "driver.longhorn.io": "longhorn",
    "pxd.portworx.com": "portworx",
    "kubernetes.io/portworx-volume": "portworx",
    "stork-snapshot": "stork-snapshot",
    # OpenEBS
    "io.openebs.csi-mayastor": "openebs-mayastor",
    "openebs.io/local": "openebs-hostpath",
    "local.csi.openebs.io": "openebs-lvm",
    "zfs.csi.openebs.io": "openebs-zfs",
    "cstor.csi.openebs.io": "openebs-cstor",
    "jiva.csi.openebs.io": "openebs-jiva",
    "openebs.io/nfsrwx": "openebs-nfs",
    # LINSTOR, TopoLVM, small distributions
    "linstor.csi.linbit.com": "linstor",
    "topolvm.io": "topolvm",
    "topolvm.cybozu.com": "topolvm",
    "rancher.io/local-path": "local-path",
    "microk8s.io/hostpath": "microk8s-hostpath",
    "k8s.io/minikube-hostpath": "minikube-hostpath",
    "docker.io/hostpath": "docker-desktop-hostpath",
    "kubernetes.io/no-provisioner": "no-provisioner",
    # NFS, SMB, democratic-csi
    "nfs.csi.k8s.io": "nfs-csi",
    "k8s-sigs.io/nfs-subdir-external-provisioner": "nfs-subdir",
    "cluster.local/nfs-subdir-external-provisioner": "nfs-subdir",
    "storage.example.com/nfs-subdir-external-provisioner": "nfs-subdir",
    "smb.csi.k8s.io": "smb-csi",
    "org.democratic-csi.nfs": "democratic-csi-nfs",
    "org.democratic-csi.iscsi": "democratic-csi-iscsi",
    # Other clouds
    "dobs.csi.digitalocean.com": "digitalocean",
    "linodebs.csi.linode.com": "linode",
    "csi.hetzner.cloud": "hetzner",
    "cinder.csi.openstack.org": "cinder",
    "kubernetes.io/cinder": "cinder",
    "manila.csi.openstack.org": "manila",
    "nfs.manila.csi.openstack.org": "manila",
    "vpc.block.csi.ibm.io": "ibm-vpc-block",
    "vpc.file.csi.ibm.io": "ibm-vpc-file",
    "cos.s3.csi.ibm.io": "ibm-cos",
    "blockvolume.csi.oraclecloud.com": "oci-block",
    "fss.csi.oraclecloud.com": "oci-fss",
    "diskplugin.csi.alibabacloud.com": "alibaba-disk",
    "nasplugin.csi.alibabacloud.com": "alibaba-nas",
    "ossplugin.csi.alibabacloud.com": "alibaba-oss",
    # Arrays and hyperconverged platforms
    "csi.nutanix.com": "nutanix",
    "pure-csi": "pure-pso",
    "csi-vxflexos.dellemc.com": "dell-powerflex",
    "csi-powerstore.dellemc.com": "dell-powerstore",
    "csi-isilon.dellemc.com": "dell-powerscale",
    "csi-unity.dellemc.com": "dell-unity",
    "csi-powermax.dellemc.com": "dell-powermax",
    "csi.hpe.com": "hpe",
    # Distributed file systems
    "csi.quobyte.com": "quobyte",
    "quobyte-csi": "quobyte",
    "csi.juicefs.com": "juicefs",
    "seaweedfs-csi-driver": "seaweedfs",
    "org.gluster.glusterfs": "glusterfs-csi",
    "kadalu": "kadalu",
    "org.kadalu.gluster": "kadalu",
    # Removed in-tree plugins
    "kubernetes.io/glusterfs": "glusterfs-intree",
    "kubernetes.io/rbd": "rbd-intree",
    "kubernetes.io/cephfs": "cephfs-intree",
    "kubernetes.io/flocker": "flocker-intree",
    "kubernetes.io/quobyte": "quobyte-intree",
    "kubernetes.io/photon-pd": "photon-pd-intree",
    "kubernetes.io/scaleio": "scaleio-intree",
    "kubernetes.io/storageos": "storageos-intree",
    # Bucket provisioners
    "rook-ceph.ceph.rook.io/bucket": "ceph-bucket",
    "openshift-storage.ceph.rook.io/bucket": "ceph-bucket",
    "my-store.ceph.rook.io/bucket": "ceph-bucket",
    "openshift-storage.noobaa.io/obc": "noobaa-bucket",
    "noobaa.noobaa.io/obc": "noobaa-bucket",
}


@pytest.mark.parametrize("provisioner", sorted(COVERAGE))
def test_coverage(provisioner: str) -> None:
    profile = find_profile(provisioner)
    assert profile is not None, f"{provisioner} has no row"
    assert profile.family == COVERAGE[provisioner]


def test_every_row_is_covered() -> None:
    assert sorted({p.family for p in PROFILES} - set(COVERAGE.values())) == []


@pytest.mark.parametrize(
    "provisioner",
    [
        "",
        "example.com/unknown",
        "xrbd.csi.ceph.com",  # a suffix matches only after "." or "/"
        "rbd.csi.ceph.com.evil",
        "nfs-subdir-external-provisioner",  # the bare suffix is not a name of the row
        "ceph.rook.io/bucket",
    ],
)
def test_find_profile_unknown(provisioner: str) -> None:
    assert find_profile(provisioner) is None


def test_find_profile_prefers_exact_names_over_suffixes() -> None:
    # Names that are also another row's "<prefix>.<suffix>" form resolve to their own row.
    assert find_profile("nfs.csi.ceph.com") is by_family("ceph-nfs")
    assert find_profile("cephfs.csi.ceph.com") is by_family("cephfs")
    assert find_profile("nfs.csi.k8s.io") is by_family("nfs-csi")
    assert find_profile(" pxd.portworx.com ") is by_family("portworx")


@pytest.mark.parametrize(
    ("backend", "serves", "rwx_fs", "rwx_block"),
    [
        ("ontap-nas", Serves.FILE, True, False),
        ("ontap-nas-economy", Serves.FILE, True, False),
        ("ontap-nas-flexgroup", Serves.FILE, True, False),
        ("azure-netapp-files", Serves.FILE, True, False),
        ("gcp-cvs", Serves.FILE, True, False),
        ("google-cloud-netapp-volumes", Serves.FILE, True, False),
        ("ontap-san", Serves.BLOCK, False, True),
        ("ontap-san-economy", Serves.BLOCK, False, True),
        ("solidfire-san", Serves.BLOCK, False, True),
        ("google-cloud-netapp-volumes-san", Serves.BLOCK, False, True),
        (None, Serves.UNKNOWN, None, None),
    ],
)
def test_trident_backends(backend: str | None, serves: Serves, rwx_fs: Tri, rwx_block: Tri) -> None:
    trident = by_family("trident")
    params = {} if backend is None else {"backendType": backend}
    assert evaluate_serves(trident.serves, params) is serves
    assert evaluate_capability(trident.rwx_fs, params, "").value is rwx_fs
    assert evaluate_capability(trident.rwx_block, params, "").value is rwx_block


@pytest.mark.parametrize(
    ("params", "rwx_fs"),
    [
        ({}, True),  # the fstype is optional: a ReadWriteMany claim gets a vSAN file volume
        ({"csi.storage.k8s.io/fstype": "nfs4"}, True),
        ({"csi.storage.k8s.io/fstype": "ext4"}, True),
        ({"csi.storage.k8s.io/fstype": "xfs"}, False),
    ],
)
def test_vsphere_rwx_comes_from_the_claim(params: dict[str, str], rwx_fs: bool) -> None:
    vsphere = by_family("vsphere")
    assert evaluate_serves(vsphere.serves, params) is Serves.BLOCK
    assert evaluate_capability(vsphere.rwx_fs, params, "").value is rwx_fs
