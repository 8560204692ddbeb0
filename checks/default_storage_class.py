"""Exactly one dynamic default StorageClass exists.

Kubeflow's platform claims (Pipelines' MySQL and object store, Katib's MySQL) and every notebook
workspace name no StorageClass, so they are provisioned by the cluster's default class. With no
default they stay Pending forever; with a `kubernetes.io/no-provisioner` default they wait for
PersistentVolumes nobody creates. Kubernetes honours both the GA annotation
`storageclass.kubernetes.io/is-default-class` and the beta one, with the value exactly "true";
when several classes are default, Kubernetes 1.26+ uses the newest (ties broken by name).
"""

from __future__ import annotations

from collections.abc import Iterator

from kfstor.api import CLUSTER, Check, Context, Facts, Finding, fail, k8s, ok, storage, warn


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
        )
        return
    eff_name = k8s.name(effective)
    prov = k8s.provisioner(effective)
    if prov == k8s.NO_PROVISIONER:
        yield fail(
            effective,
            f"default StorageClass {eff_name} uses {k8s.NO_PROVISIONER}: it cannot provision "
            "volumes, so Kubeflow's claims wait for PersistentVolumes created by hand",
        )
    elif prov in storage.REMOVED_IN_TREE:
        yield fail(
            effective,
            f"default StorageClass {eff_name} uses {prov}, a removed in-tree plugin "
            f"({storage.REMOVED_IN_TREE[prov]}): nothing can provision its volumes",
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
        )


CHECK = Check(
    id="default_storage_class",
    title="A single dynamic default StorageClass exists",
    kinds=("StorageClass",),
    evaluate=evaluate,
    description=__doc__ or "",
    remediation=(
        "Mark exactly one dynamic class as default: kubectl patch storageclass <name> -p "
        '\'{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}\'; '
        'set the annotation to "false" on the others. Do not make a kubernetes.io/no-provisioner class the default.'
    ),
)
