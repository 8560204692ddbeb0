"""At least one StorageClass can serve ReadWriteMany filesystem volumes.

Notebooks share datasets through ReadWriteMany (RWX) claims mounted by pods on different nodes,
Katib's Population Based Training asks for a 5Gi RWX claim per experiment, and multi-step
pipelines that pass a volume between steps need RWX too. Block storage (EBS, GCE PD, Ceph RBD,
local disks) cannot serve RWX *filesystem* volumes: only network file systems can (NFS, CephFS,
EFS, Azure Files, Filestore, Portworx with `sharedv4: "true"`, vSphere file volumes with an NFS
fstype, Trident `ontap-nas`, Longhorn's share-manager). Raw block RWX (io2 Multi-Attach, Ceph
RBD block) does not count: notebooks and Katib mount file systems.

One cluster-wide finding. Pass names the capable classes (and says when the default class is
not one of them: Katib's PBT claims name no class, so they use the default). A class whose
in-tree plugin was removed, or whose CSI driver is not registered (the CSIDriver list was read
and lacks it), does not count. Fail when no class can serve RWX; warn "cannot verify" when no
known class can but some classes use provisioners kfstor does not know.
"""

from __future__ import annotations

from collections.abc import Iterator

from kfstor.api import CLUSTER, Cause, Check, Code, Context, Facts, Finding, fail, fixes, k8s, ok, storage, warn

NONE = "KFS-RWX-NONE"
UNVERIFIABLE = "KFS-RWX-UNVERIFIABLE"
NO_CLASSES = "KFS-RWX-NO-CLASSES"
_WHY = (
    "Notebooks cannot share datasets across nodes, and Katib PBT experiments (a 5Gi ReadWriteMany claim each) "
    "stay Pending."
)
_FIX = (
    "Install a driver that serves ReadWriteMany file systems (NFS, CephFS, EFS, Azure Files, Filestore, Portworx "
    "sharedv4) and create a class for it; point Katib's PBT claims and shared notebook volumes at it."
)
CODES = (
    Code(
        NONE,
        "No ReadWriteMany class",
        "No StorageClass can serve ReadWriteMany file systems.",
        _WHY,
        _FIX,
        (fixes.DOCS_ACCESS_MODES, fixes.DOCS_CSI_DRIVERS),
    ),
    Code(
        UNVERIFIABLE,
        "ReadWriteMany support cannot be verified",
        "No known class serves RWX and some classes use provisioners kfstor does not know.",
        _WHY,
        "Test with a ReadWriteMany probe claim; " + _FIX,
        (fixes.DOCS_ACCESS_MODES,),
    ),
    Code(
        NO_CLASSES,
        "No StorageClass at all",
        "The cluster has no StorageClass.",
        _WHY,
        _FIX,
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
)
PROBE = (
    "kubectl apply -f - <<'EOF'\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: kfstor-rwx-probe\n"
    "spec:\n  accessModes: [ReadWriteMany]\n  storageClassName: {cls}\n  resources: {{requests: {{storage: 1Gi}}}}\n"
    "EOF"
)


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    classes = facts.classes
    capable: list[tuple[str, str]] = []
    unregistered: list[str] = []
    unknown: list[str] = []
    others: list[str] = []
    for sc_name, sc in classes.items():
        if not storage.is_volume_class(sc):
            continue  # bucket provisioners and helper classes never serve claims: nothing to say
        verdict = facts.rwx_fs(sc)
        if verdict.capable is True:
            missing = facts.driver_missing(sc)
            if missing:
                unregistered.append(f"{sc_name} (CSI driver {missing} is not registered)")
            else:
                capable.append((sc_name, verdict.reason))
                continue
        elif verdict.capable is None:
            unknown.append(f"{sc_name} ({k8s.provisioner(sc) or 'no provisioner'})")
        else:
            others.append(f"{sc_name}: {verdict.reason}")
    not_counted = f"; not counted: {', '.join(unregistered)}" if unregistered else ""
    if capable:
        capable_names = {sc_name for sc_name, _ in capable}
        served = ", ".join(f"{sc_name} ({reason})" for sc_name, reason in capable)
        default = facts.default.name
        hint = ""
        if default is not None and default not in capable_names:
            hint = (
                f"; the default class {default} is not RWX-capable, so set storageClassName "
                "in Katib's PBT persistentVolumeClaimSpec and in shared notebook data volumes"
            )
        unverified = f"; cannot verify: {', '.join(unknown)}" if unknown else ""
        yield ok(CLUSTER, f"ReadWriteMany filesystem volumes can be served by {served}{hint}{unverified}{not_counted}")
        return
    consequence = (
        "notebooks cannot share datasets across nodes and Katib PBT experiments (ReadWriteMany claims) stay Pending"
    )
    if unknown:
        yield warn(
            CLUSTER,
            f"cannot verify ReadWriteMany support: no class is known to serve RWX filesystem "
            f"volumes and these use provisioners kfstor does not know: {', '.join(unknown)}; "
            f"test with a ReadWriteMany probe claim, otherwise {consequence}{not_counted}",
            code=UNVERIFIABLE,
            fix=fixes.fix(
                *(PROBE.format(cls=fixes.q(u.split(" (")[0])) for u in unknown[:1]),
                docs=fixes.DOCS_ACCESS_MODES,
                text="delete the probe claim after it binds (or does not)",
            ),
        )
        return
    if not classes:
        yield fail(
            CLUSTER,
            (
                f"no StorageClass exists, so nothing can serve ReadWriteMany volumes: {consequence}; install an "
                "RWX-capable driver (NFS, CephFS, EFS, Azure Files, Filestore, ...)"
            ),
            code=NO_CLASSES,
            caused_by=Cause("KFS-DEFAULT-NONE", CLUSTER),
            fix=fixes.fix(docs=fixes.DOCS_CSI_DRIVERS, text="install an RWX-capable driver and create a class for it"),
        )
        return
    detail = "; ".join(others + unregistered)
    yield fail(
        CLUSTER,
        (
            f"no StorageClass can serve ReadWriteMany filesystem volumes ({detail}): {consequence}; add an "
            "RWX-capable class (NFS, CephFS, EFS, Azure Files, Filestore, Portworx sharedv4, ...)"
        ),
        code=NONE,
        fix=fixes.fix(docs=fixes.DOCS_CSI_DRIVERS, text="install an RWX-capable driver and create a class for it"),
    )


CHECK = Check(
    id="rwx_available",
    title="A StorageClass can serve ReadWriteMany volumes",
    kinds=("StorageClass",),
    optional_kinds=("CSIDriver",),
    evaluate=evaluate,
    description=__doc__ or "",
    codes=CODES,
    remediation=(
        "Install a driver that serves ReadWriteMany file systems and create a class for it: NFS "
        "(nfs.csi.k8s.io or nfs-subdir-external-provisioner), CephFS (cephfs.csi.ceph.com), AWS EFS "
        '(efs.csi.aws.com), Azure Files, GCP Filestore, or a Portworx class with sharedv4: "true". '
        "Point Katib's PBT persistentVolumeClaimSpec (katib-config) and shared notebook data volumes at it."
    ),
)
