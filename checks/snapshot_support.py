"""Kubeflow's database volumes can be snapshotted: a VolumeSnapshotClass exists for their driver.

Pipelines' MySQL (runs, experiments, ML Metadata), Katib's MySQL and the artifact store hold
Kubeflow's state. CSI VolumeSnapshots are the cheapest consistent backup and the way to clone them
before an upgrade, but only when the snapshot API (the external-snapshotter CRDs in group
`snapshot.storage.k8s.io`) is installed and a VolumeSnapshotClass names the CSI driver behind
the volumes.

The driver is read from each Kubeflow database claim's bound PersistentVolume (`spec.csi.driver`,
or the migrated/provisioned-by annotations), else from its StorageClass with in-tree names
translated (kubernetes.io/aws-ebs -> ebs.csi.aws.com, ...). Before Kubeflow is installed the
default StorageClass stands in. One finding per database claim (or for the default class):
pass when a VolumeSnapshotClass exists for the driver; warn when none does, when the provisioner
is not a CSI driver (local-path, NFS subdir: no CSI snapshots at all), or, as one cluster-wide
finding, when the snapshot API is not installed or not readable. Several VolumeSnapshotClasses
marked default (`snapshot.storage.kubernetes.io/is-default-class: "true"`) for one driver make
every VolumeSnapshot that names no class fail ("2 default snapshot classes were found"): fail on
each of them. Skip before install when there is no default class. With `--manifests`, the
planned database and object-store claims stand in, each with the class it will get.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kfstor.api import (
    CLUSTER,
    Cause,
    Check,
    ClassSource,
    Code,
    Context,
    Facts,
    Finding,
    Ref,
    Status,
    fail,
    finding,
    fixes,
    k8s,
    ok,
    skip,
    storage,
    warn,
)

DEFAULT_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"
NO_API = "KFS-SNAPSHOT-NO-API"
NOT_CSI = "KFS-SNAPSHOT-NOT-SUPPORTED"
NO_CLASS = "KFS-SNAPSHOT-NO-CLASS"
MULTIPLE_DEFAULTS = "KFS-SNAPSHOT-MULTIPLE-DEFAULTS"
UNKNOWN_DRIVER = "KFS-SNAPSHOT-UNKNOWN-DRIVER"
UNREADABLE = "KFS-SNAPSHOT-UNREADABLE"
_WHY = (
    "Snapshots are the cheapest consistent backup of Kubeflow's databases and the way to clone them before an upgrade."
)
CODES = (
    Code(
        NO_API,
        "No snapshot API",
        "The snapshot.storage.k8s.io API (external-snapshotter CRDs) is not installed or not readable.",
        _WHY,
        "Install the external-snapshotter CRDs and snapshot-controller, then a VolumeSnapshotClass for the driver.",
        (fixes.DOCS_SNAPSHOTTER, fixes.DOCS_SNAPSHOT_CLASSES),
    ),
    Code(
        NOT_CSI,
        "Driver takes no CSI snapshots",
        "The provisioner behind the databases cannot take CSI snapshots.",
        _WHY,
        "Back the databases up another way (mysqldump, a file-level backup) or move them to a CSI class "
        "with snapshots.",
        (fixes.DOCS_SNAPSHOT_CLASSES,),
    ),
    Code(
        NO_CLASS,
        "No VolumeSnapshotClass for the driver",
        "No VolumeSnapshotClass names the databases' CSI driver.",
        _WHY,
        "Create one (deletionPolicy: Retain), marked default.",
        (fixes.DOCS_SNAPSHOT_CLASSES,),
    ),
    Code(
        MULTIPLE_DEFAULTS,
        "Several default VolumeSnapshotClasses",
        "More than one VolumeSnapshotClass for one driver is marked default.",
        "Every VolumeSnapshot that names no class fails.",
        "Keep the default annotation on one class per driver.",
        (fixes.DOCS_SNAPSHOT_CLASSES,),
    ),
    Code(
        UNKNOWN_DRIVER,
        "Database driver unknown",
        "No bound volume and no provisioner stand behind the claim.",
        "Snapshot support cannot be judged.",
        "Fix the claim's class first.",
        (fixes.DOCS_SNAPSHOT_CLASSES,),
    ),
    Code(
        UNREADABLE,
        "Snapshot classes not readable",
        "The snapshot API may exist, but kfstor was not allowed to list VolumeSnapshotClasses.",
        "Whether Kubeflow's databases can be snapshotted was not evaluated: a gate must not pass it.",
        "Grant list on volumesnapshotclasses.snapshot.storage.k8s.io (`kfstor rbac` prints the role).",
        (fixes.DOCS_SNAPSHOT_CLASSES,),
    ),
)
NO_DEFAULT_CAUSE = Cause("KFS-DEFAULT-NONE", CLUSTER)


def _annotations(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    # k8s.annotations reads the same, but mypy confuses its name with `from __future__ import annotations`.
    found: Mapping[str, Any] = k8s.dig(obj, "metadata", "annotations", default={})
    return found


def _is_default(vsc: Mapping[str, Any]) -> bool:
    return _annotations(vsc).get(DEFAULT_ANNOTATION) == "true"


def _pv_driver(pv: Mapping[str, Any] | None) -> str:
    if pv is None:
        return ""
    driver = k8s.dig(pv, "spec", "csi", "driver", default="")
    if driver:
        return driver
    ann = _annotations(pv)
    for key in ("pv.kubernetes.io/migrated-to", "pv.kubernetes.io/provisioned-by"):
        value = ann.get(key)
        if isinstance(value, str) and value:
            return storage.csi_name(value)
    return ""


Target = tuple[Mapping[str, Any] | Ref, str, str, str, Cause | None]


def _targets(facts: Facts) -> list[Target]:
    """(subject, description, provisioner, CSI driver, what keeps the driver unknown) per volume to snapshot."""
    targets: list[Target] = []
    for row in facts.platform.databases:
        assert row.pvc is not None  # Platform.databases holds existing claims only
        sc = row.storage_class
        prov = k8s.provisioner(sc) if sc is not None else ""
        driver = _pv_driver(row.pv) or (storage.csi_name(prov) if prov else "")
        label = f"claim {row.where} ({row.claim.role}, StorageClass {row.class_name or 'none'})"
        cause = NO_DEFAULT_CAUSE if row.cls is not None and row.cls.source is ClassSource.NO_DEFAULT else None
        targets.append((row.pvc, label, prov or driver, driver, cause))
    for entry in facts.platform.planned_databases:
        prov = k8s.provisioner(entry.storage_class) if entry.storage_class is not None else ""
        label = f"{entry.label}, StorageClass {entry.class_text}"
        targets.append((entry.ref, label, prov, storage.csi_name(prov) if prov else "", None))
    return targets


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    targets = _targets(facts)
    if not targets and facts.plan.from_manifests and not facts.platform.installed:
        yield skip(CLUSTER, "pre-install: the manifests create no database or object-store claims")
        return
    if not targets:
        default_sc = facts.default.effective
        if default_sc is None:
            yield skip(
                CLUSTER,
                "pre-install and no default StorageClass: the driver of Kubeflow's future "
                "database volumes is unknown (default_storage_class reports it)",
                code=UNKNOWN_DRIVER,
                caused_by=NO_DEFAULT_CAUSE,
            )
            return
        default: Mapping[str, Any] = default_sc
        prov = k8s.provisioner(default)
        label = f"default StorageClass {k8s.name(default)} (pre-install: Kubeflow's databases will use it)"
        targets = [(default, label, prov, storage.csi_name(prov), None)]
    unreadable = facts.unreadable("VolumeSnapshotClass")
    if unreadable and not facts.not_installed("VolumeSnapshotClass"):
        # The API may well exist: the check could not look, which is not "no snapshot API".
        yield finding(
            Status.NOT_EVALUATED,
            CLUSTER,
            f"VolumeSnapshotClasses could not be read ({unreadable}), so whether Kubeflow's database volumes "
            "can be snapshotted was not evaluated",
            code=UNREADABLE,
            fix=fixes.fix(
                docs=fixes.DOCS_SNAPSHOT_CLASSES,
                text="grant kfstor list on volumesnapshotclasses.snapshot.storage.k8s.io (kfstor rbac prints the role)",
            ),
        )
        return
    if unreadable:
        names = ", ".join(sorted({t[1].split(" (", 1)[0] for t in targets}))
        yield warn(
            CLUSTER,
            f"no snapshot API: VolumeSnapshotClasses cannot be read "
            f"({facts.unavailable['VolumeSnapshotClass']}), so {names} cannot be snapshotted; "
            "install the external-snapshotter CRDs and controller and a VolumeSnapshotClass",
            code=NO_API,
            fix=fixes.fix(
                docs=fixes.DOCS_SNAPSHOTTER, text="install the external-snapshotter CRDs and snapshot-controller"
            ),
        )
        return
    by_driver: dict[str, list[Mapping[str, Any]]] = {}
    for vsc in facts.of("VolumeSnapshotClass"):
        by_driver.setdefault(k8s.dig(vsc, "driver", default=""), []).append(vsc)
    for subject, label, prov, driver, cause in targets:
        yield _judge(subject, label, prov, driver, by_driver, cause)
    for driver in sorted(by_driver):
        defaults = sorted((v for v in by_driver[driver] if _is_default(v)), key=k8s.name)
        if len(defaults) < 2:
            continue
        names = ", ".join(k8s.name(v) for v in defaults)
        for extra in defaults:
            yield fail(
                extra,
                (
                    f"VolumeSnapshotClass {k8s.name(extra)} is one of {len(defaults)} defaults for driver "
                    f"{driver or '(none)'} ({names}): every VolumeSnapshot that names no class fails; keep the "
                    f"{DEFAULT_ANNOTATION} annotation on one"
                ),
                code=MULTIPLE_DEFAULTS,
                fix=fixes.fix(
                    fixes.snapshot_default(k8s.name(extra), False),
                    docs=fixes.DOCS_SNAPSHOT_CLASSES,
                    text=f"run it for every class but the one to keep as default ({names})",
                ),
            )


def _judge(
    subject: Mapping[str, Any] | Ref,
    label: str,
    prov: str,
    driver: str,
    by_driver: Mapping[str, list[Mapping[str, Any]]],
    cause: Cause | None = None,
) -> Finding:
    if not driver:
        # Nothing stands behind the claim yet (no volume, no class, no default): not evaluated.
        return skip(
            subject,
            (
                f"{label}: its CSI driver is unknown (no bound volume, no provisioner), so snapshot support "
                "cannot be judged"
            ),
            code=UNKNOWN_DRIVER,
            caused_by=cause,
        )
    classes = sorted(by_driver.get(driver, []), key=k8s.name)
    profile = storage.profile_of(prov or driver)
    # A VolumeSnapshotClass for the driver outranks the table; without one, a driver that cannot take
    # CSI snapshots gets no advice to create one.
    if not classes and (profile.snapshots is False if profile is not None else "/" in (prov or driver)):
        what = f"{profile.label} ({prov or driver})" if profile is not None else prov or driver
        return warn(
            subject,
            f"{label}: {what} takes no CSI snapshots, so its volumes cannot be "
            "snapshotted; back the databases up another way (mysqldump, a file-level backup "
            "tool) or move them to a CSI class with snapshot support",
            code=NOT_CSI,
            fix=fixes.fix(
                docs=fixes.DOCS_SNAPSHOT_CLASSES,
                text="back the databases up with mysqldump and an S3 copy of the object store",
            ),
        )
    if not classes:
        return warn(
            subject,
            (
                f"{label}: no VolumeSnapshotClass names driver {driver}, so the volume cannot be snapshotted; "
                f"create one (driver: {driver}, deletionPolicy: Retain)"
            ),
            code=NO_CLASS,
            fix=fixes.fix(fixes.snapshot_class(driver), docs=fixes.DOCS_SNAPSHOT_CLASSES),
        )
    defaults = [k8s.name(v) for v in classes if _is_default(v)]
    names = ", ".join(k8s.name(v) for v in classes)
    if len(defaults) == 1:
        note = f"default {defaults[0]}"
    elif defaults:
        note = "several defaults: name the class in each VolumeSnapshot"
    else:
        note = "none is default: name the class in each VolumeSnapshot"
    return ok(subject, f"{label}: driver {driver} has VolumeSnapshotClass {names} ({note})")


CHECK = Check(
    id="snapshot_support",
    title="Kubeflow's database volumes can be snapshotted",
    kinds=("StorageClass", "PersistentVolumeClaim"),
    optional_kinds=("VolumeSnapshotClass", "PersistentVolume", "Deployment"),
    evaluate=evaluate,
    description=__doc__ or "",
    codes=CODES,
    remediation=(
        "Install the snapshot CRDs and snapshot-controller (kubernetes-csi/external-snapshotter), run the "
        "driver's csi-snapshotter sidecar, and create a VolumeSnapshotClass for the driver (driver: the CSI "
        "driver, deletionPolicy: Retain), marked default with snapshot.storage.kubernetes.io/"
        'is-default-class: "true" on exactly one class per driver. Without CSI snapshots, back up MySQL '
        "with mysqldump and the object store with an S3 copy."
    ),
)
