"""kfstor's storage knowledge: one sourced row per provisioner family (shape: kfstor/facts/profile.py).

Every fact here names its source in the row. Where a fact could not be sourced it is None, which
every check reports as "cannot verify". `kfstor drivers` prints this table.
"""

from __future__ import annotations

from kfstor.facts.profile import Case, Param, Profile, Replication, ReplicationKind, Rule, Serves

R = ReplicationKind

PROFILES: tuple[Profile, ...] = (
    Profile(
        family="portworx",
        label="Portworx",
        names=("pxd.portworx.com",),
        in_tree=("kubernetes.io/portworx-volume",),
        serves=Serves.BLOCK,
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
        attach_required=None,
        snapshots=True,
        expansion=True,
        source="docs.portworx.com (StorageClass parameters, sharedv4 volumes); kubevirt CDI storagecapabilities.go",
    ),
    Profile(
        family="ceph-rbd",
        label="Ceph RBD",
        names=("rbd.csi.ceph.com",),
        suffixes=("rbd.csi.ceph.com",),
        serves=Serves.BLOCK,
        rwx_fs=False,
        rwx_block=True,
        replication=Replication(
            R.EXTERNAL, note="the Ceph pool's size (ceph osd pool get <pool> size) sets the copies"
        ),
        zonal=False,
        node_local=False,
        csi=True,
        attach_required=True,
        snapshots=True,
        expansion=True,
        source="ceph/ceph-csi README feature table; internal/rbd/controllerserver.go (multi-node only for block)",
    ),
    Profile(
        family="nfs-subdir",
        label="NFS subdir external provisioner",
        names=("k8s-sigs.io/nfs-subdir-external-provisioner", "cluster.local/nfs-subdir-external-provisioner"),
        suffixes=("nfs-subdir-external-provisioner",),
        serves=Serves.FILE,
        rwx_fs=True,
        rwx_block=False,
        replication=Replication(R.UNKNOWN, note="the NFS server kfstor cannot see holds the only copy"),
        zonal=False,
        node_local=False,
        csi=False,
        attach_required=None,
        snapshots=False,
        expansion=False,
        source="kubernetes-sigs/nfs-subdir-external-provisioner README (PROVISIONER_NAME is configurable)",
    ),
)
