"""Exactly one dynamic default StorageClass exists.

Kubeflow's platform claims (Pipelines' MySQL and object store, Katib's MySQL) and every notebook
workspace name no StorageClass, so they are provisioned by the cluster's default class. With no
default they stay Pending forever; with a `kubernetes.io/no-provisioner` default they wait for
PersistentVolumes nobody creates. Kubernetes honours both the GA annotation
`storageclass.kubernetes.io/is-default-class` and the beta one, with the value exactly "true";
when several classes are default, Kubernetes 1.26+ uses the newest (ties broken by name).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kfstor.api import CLUSTER, Check, Code, Context, Facts, Finding, Fix, fail, fixes, k8s, ok, storage, warn

NONE = "KFS-DEFAULT-NONE"
STATIC = "KFS-DEFAULT-STATIC"
REMOVED = "KFS-DEFAULT-REMOVED-PLUGIN"
MULTIPLE = "KFS-DEFAULT-MULTIPLE"
CODES = (
    Code(
        NONE,
        "No default StorageClass",
        'No StorageClass carries storageclass.kubernetes.io/is-default-class: "true" (or the beta annotation).',
        "Kubeflow's platform claims and every notebook workspace name no StorageClass: without a default they "
        "stay Pending, and the MySQL, object store and Katib pods never start.",
        "Mark one dynamic, block (ReadWriteOnce) class default; Kubernetes 1.26+ then assigns it to the claims "
        "already waiting.",
        (fixes.DOCS_DEFAULT_CLASS, fixes.DOCS_STORAGE_CLASSES),
    ),
    Code(
        STATIC,
        "Default class provisions nothing",
        "The default StorageClass uses kubernetes.io/no-provisioner (static local volumes only).",
        "Kubeflow's claims wait for PersistentVolumes that somebody must create by hand, one per claim.",
        "Make a dynamic class the default and remove the default annotation from the static one.",
        (fixes.DOCS_DEFAULT_CLASS, f"{fixes.K8S}/concepts/storage/storage-classes/#local"),
    ),
    Code(
        REMOVED,
        "Default class uses a removed plugin",
        "The default StorageClass names an in-tree volume plugin Kubernetes removed without CSI migration.",
        "Nothing can provision its volumes, so every claim without a class stays Pending.",
        "Recreate the class on a CSI driver (ceph-csi for rbd/cephfs, ...) and make that class the default.",
        (fixes.DOCS_CSI_MIGRATION, fixes.DOCS_DEFAULT_CLASS),
    ),
    Code(
        MULTIPLE,
        "Several default StorageClasses",
        "More than one StorageClass is marked default; Kubernetes 1.26+ uses the newest (ties by name).",
        "Which class Kubeflow's claims get depends on creation times, and older Kubernetes rejects such claims.",
        'Set the default annotation to "false" on every class but the one Kubeflow should use.',
        (fixes.DOCS_DEFAULT_CLASS,),
    ),
)


def _candidate(facts: Facts) -> str | None:
    """The class to make default: a dynamic volume class whose driver is there, block storage
    before shared file systems (Kubeflow's databases land on it), then by name."""
    usable = [
        (storage.shared_filesystem(sc) is not None, name)
        for name, sc in facts.classes.items()
        if storage.is_volume_class(sc)
        and k8s.provisioner(sc) not in (k8s.NO_PROVISIONER, "")
        and k8s.provisioner(sc) not in storage.REMOVED_IN_TREE
        and not facts.driver_missing(sc)
    ]
    return min(usable)[1] if usable else None


def _make_default(facts: Facts, unset: str = "") -> Fix:
    candidate = _candidate(facts)
    commands = [fixes.mark_default(unset, value=False)] if unset else []
    if candidate is None:
        return fixes.fix(
            *commands,
            docs=fixes.DOCS_DEFAULT_CLASS,
            text="no class here can become the default: install a CSI driver and create a dynamic block class",
        )
    return fixes.fix(*commands, fixes.mark_default(candidate), docs=fixes.DOCS_DEFAULT_CLASS)


def _ignored_text(facts: Facts) -> str:
    """Annotations that look default but are not honoured: the reason a default seems missing."""
    ignored = facts.default.ignored
    if not ignored:
        return ""
    listed = ", ".join(f'{i.class_name} ({i.annotation}: "{i.value}")' for i in ignored)
    return f'; not honoured because the value is not exactly "true": {listed}'


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    default = facts.default
    effective = default.effective
    if effective is None:
        names = ", ".join(facts.classes) or "none exist"
        yield fail(
            CLUSTER,
            f"no StorageClass is marked default (classes: {names}); Kubeflow's claims will stay Pending"
            f"{_ignored_text(facts)}",
            code=NONE,
            fix=_make_default(facts),
        )
        return
    eff_name = k8s.name(effective)
    prov = k8s.provisioner(effective)
    if prov == k8s.NO_PROVISIONER:
        yield fail(
            effective,
            f"default StorageClass {eff_name} uses {k8s.NO_PROVISIONER}: it cannot provision "
            "volumes, so Kubeflow's claims wait for PersistentVolumes created by hand",
            code=STATIC,
            fix=_make_default(facts, unset=eff_name),
        )
    elif prov in storage.REMOVED_IN_TREE:
        yield fail(
            effective,
            f"default StorageClass {eff_name} uses {prov}, a removed in-tree plugin "
            f"({storage.REMOVED_IN_TREE[prov]}): nothing can provision its volumes",
            code=REMOVED,
            fix=_make_default(facts, unset=eff_name),
        )
    elif not default.others:
        yield ok(effective, f"{eff_name} is the only default StorageClass (provisioner {prov})")
    else:
        yield ok(effective, f"{eff_name} is the default StorageClass Kubernetes uses (provisioner {prov})")
    others = ", ".join(k8s.name(sc) for sc in default.others)
    for sc in default.others:
        yield warn(
            sc,
            f"{k8s.name(sc)} is also marked default; Kubernetes uses the newest default "
            f"{eff_name}, so {k8s.name(sc)} is ignored for claims without a class "
            f"(extra defaults: {others})",
            code=MULTIPLE,
            fix=fixes.fix(*_unset_all(sc), docs=fixes.DOCS_DEFAULT_CLASS),
        )


def _unset_all(sc: Mapping[str, Any]) -> list[str]:
    """Both default annotations say "false" where the class sets them."""
    ann = k8s.annotations(sc)
    name = k8s.name(sc)
    commands = []
    if str(ann.get(fixes.DEFAULT_CLASS_ANNOTATION)) == "true":
        commands.append(fixes.mark_default(name, value=False))
    if str(ann.get(fixes.BETA_DEFAULT_CLASS_ANNOTATION)) == "true":
        commands.append(fixes.mark_default(name, value=False, beta=True))
    return commands or [fixes.mark_default(name, value=False)]


CHECK = Check(
    id="default_storage_class",
    title="A single dynamic default StorageClass exists",
    kinds=("StorageClass",),
    evaluate=evaluate,
    description=__doc__ or "",
    codes=CODES,
    remediation=(
        "Mark exactly one dynamic class as default: kubectl patch storageclass CLASS -p "
        '\'{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}\'; '
        'set the annotation to "false" on the others. Do not make a kubernetes.io/no-provisioner class the default.'
    ),
)
