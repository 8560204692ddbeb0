"""Kubeflow's storage requests fit the namespace's ResourceQuota and the class's published capacity.

What Kubeflow needs: before install, the platform's known claims (Pipelines MySQL 20Gi, SeaweedFS
20Gi, Katib MySQL 10Gi) in the Kubeflow namespace on the default class; once installed, the
platform claims that are missing (they must be re-created) and, for capacity, the claims still
Pending.

ResourceQuota: every quota in the claims' namespace that limits `requests.storage`,
`persistentvolumeclaims` or their per-class forms `<class>.storageclass.storage.k8s.io/requests.storage`
and `<class>.storageclass.storage.k8s.io/persistentvolumeclaims` is judged as `status.used` plus
the new requests against `spec.hard`. Existing claims are already counted in `status.used`
(quota is charged when a claim is created, Pending or Bound), so only claims that do not exist
yet are added; when `status.used` is missing it is computed from the claims present. A quota
already over its limit is a fail too: expansions and new claims are rejected.

CSIStorageCapacity: for each class the new volumes use, the objects the driver publishes
(`capacity`, `maximumVolumeSize`, one per topology segment; objects without `nodeTopology` reach
no node and are ignored) must hold every new volume, each inside one segment. Fail when they
cannot; pass when they fit. Skip when no quota limits storage and no capacity is published.

With `--manifests`, the demand is the plan instead of the built-in list: every planned claim the
cluster does not have yet (the manifests' claims, StatefulSet claim templates, one notebook
workspace and one Katib suggestion volume per profile namespace the manifests define), each on the
class it will get, and the quotas the manifests create (ResourceQuotas, each Profile's
resourceQuotaSpec) count like the cluster's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from kfstor.api import CLUSTER, Check, Code, Context, Facts, Finding, Ref, fail, fixes, k8s, kubeflow, ok, skip
from kfstor.facts.plan import fits

CLASS_KEY = ".storageclass.storage.k8s.io/"
QUOTA_EXCEEDED = "KFS-QUOTA-EXCEEDED"
VOLUME_TOO_LARGE = "KFS-CAPACITY-VOLUME-TOO-LARGE"
CAPACITY_SHORT = "KFS-CAPACITY-INSUFFICIENT"
NO_LIMITS = "KFS-CAPACITY-NO-LIMITS"
CODES = (
    Code(
        QUOTA_EXCEEDED,
        "ResourceQuota too small for Kubeflow",
        "used + Kubeflow's new claims exceed a storage quota of the namespace.",
        "Claim creation and expansion are rejected with 'exceeded quota'.",
        "Raise the quota's spec.hard or free storage in the namespace.",
        (fixes.DOCS_QUOTA,),
    ),
    Code(
        VOLUME_TOO_LARGE,
        "Volume larger than any topology segment",
        "No CSIStorageCapacity segment can hold one of Kubeflow's volumes.",
        "The claim never provisions.",
        "Add capacity to the backend or use another class.",
        (fixes.DOCS_CAPACITY,),
    ),
    Code(
        CAPACITY_SHORT,
        "Too little published capacity",
        "The published CSIStorageCapacity cannot hold all of Kubeflow's new volumes.",
        "Some claims never provision.",
        "Add capacity or use another class.",
        (fixes.DOCS_CAPACITY,),
    ),
    Code(
        NO_LIMITS,
        "Nothing to compare against",
        "No quota limits storage and no capacity is published.",
        "Nothing to judge.",
        "Nothing to fix.",
    ),
)


@dataclass(frozen=True, slots=True)
class _Request:
    namespace: str
    name: str
    size: int
    storage_class: str | None
    exists: bool  # already counted in quota usage


def _gi(count: int) -> str:
    return k8s.format_bytes(count)


def _demand(facts: Facts) -> tuple[list[_Request], list[Mapping[str, Any]], str]:
    """(requests still to be provisioned, platform claims present, what the demand is)."""
    platform = facts.platform
    default_name = facts.default.name
    planned = [
        _Request(e.claim.namespace, e.claim.name, k8s.quantity_bytes(e.claim.size) or 0, e.class_name, False)
        for e in platform.planned
        if e.claim.size and e.claim.exists_required and "{" not in e.claim.namespace
    ]
    if not platform.installed and facts.plan.from_manifests:
        total = _gi(sum(r.size for r in planned))
        names = ", ".join(f"{r.namespace}/{r.name}" for r in planned) or "none"
        return planned, [], f"pre-install: the manifests will request {total} ({names})"
    if not platform.installed:
        planned = [
            _Request(
                kubeflow.claim_namespace(c, platform.namespace),
                c.name,
                k8s.quantity_bytes(c.size) or 0,
                default_name,
                False,
            )
            for c in kubeflow.PRE_INSTALL
        ]
        total = _gi(sum(r.size for r in planned))
        names = ", ".join(c.name for c in planned)
        return planned, [], f"pre-install: Kubeflow will request {total} ({names})"
    requests: list[_Request] = []
    present: list[Mapping[str, Any]] = []
    for row in platform.claims:
        if row.pvc is None and platform.is_planned(row.namespace, row.claim.name):
            continue  # counted with the plan
        if row.pvc is None:
            size = k8s.quantity_bytes(row.claim.size) or 0
            requests.append(_Request(row.namespace, row.claim.name, size, default_name, False))
            continue
        present.append(row.pvc)
        if k8s.phase(row.pvc) == "Pending":
            size = k8s.quantity_bytes(k8s.requested_storage(row.pvc)) or 0
            requests.append(_Request(row.namespace, row.claim.name, size, row.class_name, True))
    if requests or planned:
        names = ", ".join(
            [f"{r.name} ({_gi(r.size)}{', missing' if not r.exists else ', Pending'})" for r in requests]
            + [f"{r.namespace}/{r.name} ({_gi(r.size)}, planned)" for r in planned]
        )
        return [*requests, *planned], present, f"Kubeflow still needs {names}"
    return requests, present, "all of Kubeflow's claims are provisioned"


def _quota_keys(hard: Mapping[str, Any], relevant_classes: set[str]) -> list[tuple[str, str | None, str]]:
    """(key, class or None, "storage"|"count") for the storage keys of a quota that matter here."""
    keys: list[tuple[str, str | None, str]] = []
    for key in sorted(hard, key=str):
        if not isinstance(key, str):
            continue
        if key in ("requests.storage", "persistentvolumeclaims"):
            keys.append((key, None, "storage" if key == "requests.storage" else "count"))
        elif CLASS_KEY in key:
            cls, _, resource = key.partition(CLASS_KEY)
            if cls in relevant_classes and resource in ("requests.storage", "persistentvolumeclaims"):
                keys.append((key, cls, "storage" if resource == "requests.storage" else "count"))
    return keys


def _judge_quota(
    quota: Mapping[str, Any],
    requests: list[_Request],
    claims_in_ns: list[Mapping[str, Any]],
    facts: Facts,
    relevant_classes: set[str],
) -> Finding | None:
    hard: Mapping[str, Any] = k8s.dig(quota, "spec", "hard", default={})
    used: Mapping[str, Any] = k8s.dig(quota, "status", "used", default={})
    keys = _quota_keys(hard, relevant_classes)
    if not keys:
        return None
    new = [r for r in requests if not r.exists]
    over: list[str] = []
    fine: list[str] = []
    raise_to: dict[str, str] = {}
    for key, cls, what in keys:
        limit = k8s.quantity_bytes(hard[key])
        if limit is None:
            continue
        scoped_new = [r for r in new if cls is None or r.storage_class == cls]
        scoped_claims = [p for p in claims_in_ns if cls is None or facts.claim_class(p).name == cls]
        if what == "storage":
            current = k8s.quantity_bytes(used.get(key))
            if current is None:
                current = sum(k8s.quantity_bytes(k8s.requested_storage(p)) or 0 for p in scoped_claims)
            adding = sum(r.size for r in scoped_new)
            text = f"{key}: {_gi(current)} used + {_gi(adding)} new of {_gi(limit)}"
        else:
            current = k8s.quantity_bytes(used.get(key))
            if current is None:
                current = len(scoped_claims)
            adding = len(scoped_new)
            text = f"{key}: {current} used + {adding} new of {limit}"
        if current + adding > limit:
            over.append(text)
            needed = current + adding
            raise_to[key] = _gi(-(-needed // 2**30) * 2**30) if what == "storage" else str(needed)
        else:
            fine.append(text)
    if not over and not fine:
        return None
    quota_name = f"{k8s.namespace(quota)}/{k8s.name(quota)}"
    if over:
        return fail(
            quota,
            (
                f"ResourceQuota {quota_name} cannot hold Kubeflow's claims ({'; '.join(over)}): claim creation "
                "and expansion are rejected with 'exceeded quota'; raise spec.hard or free storage in the "
                "namespace"
            ),
            code=QUOTA_EXCEEDED,
            fix=fixes.fix(fixes.patch_quota(k8s.namespace(quota), k8s.name(quota), raise_to), docs=fixes.DOCS_QUOTA),
        )
    return ok(quota, f"ResourceQuota {quota_name} leaves room for Kubeflow's claims ({'; '.join(fine)})")


def _judge_capacity(
    cls: str, sc: Mapping[str, Any] | None, objects: list[Mapping[str, Any]], requests: list[_Request]
) -> Finding | None:
    segments: list[tuple[int, int]] = []
    for obj in objects:
        if not isinstance(obj.get("nodeTopology"), Mapping):
            continue  # unset nodeTopology: the capacity is reachable from no node
        cap = k8s.quantity_bytes(obj.get("capacity"))
        if cap is None:
            continue
        largest = k8s.quantity_bytes(obj.get("maximumVolumeSize"))
        segments.append((cap, min(cap, largest) if largest is not None else cap))
    if not segments:
        return None
    subject: Mapping[str, Any] | Ref = sc if sc is not None else Ref("StorageClass", cls)
    total_free = sum(cap for cap, _ in segments)
    biggest = max(mx for _, mx in segments)
    plural = "s" if len(segments) != 1 else ""
    published = f"{_gi(total_free)} free in {len(segments)} topology segment{plural}, largest volume {_gi(biggest)}"
    mine = [r for r in requests if r.storage_class == cls]
    if not mine:
        return ok(subject, f"StorageClass {cls}: Kubeflow's volumes on it are provisioned; {published}")
    sizes = [r.size for r in mine]
    wanted = ", ".join(f"{r.name} {_gi(r.size)}" for r in mine)
    too_big = [r for r in mine if r.size > biggest]
    if too_big:
        names = ", ".join(f"{r.name} ({_gi(r.size)})" for r in too_big)
        return fail(
            subject,
            (
                f"StorageClass {cls} cannot provision {names}: no topology segment can hold a volume that large "
                f"({published}); add capacity to the storage backend or use another class"
            ),
            code=VOLUME_TOO_LARGE,
            fix=fixes.fix(docs=fixes.DOCS_CAPACITY, text="add capacity to the storage backend or use another class"),
        )
    if not fits(sizes, segments):
        return fail(
            subject,
            (
                f"StorageClass {cls} publishes too little capacity for Kubeflow's volumes ({wanted}; "
                f"{_gi(sum(sizes))} in all): {published}; add capacity or use another class"
            ),
            code=CAPACITY_SHORT,
            fix=fixes.fix(docs=fixes.DOCS_CAPACITY, text="add capacity to the storage backend or use another class"),
        )
    return ok(subject, f"StorageClass {cls} has room for Kubeflow's volumes ({wanted}): {published}")


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    class_index = facts.classes
    requests, present, summary = _demand(facts)
    namespaces = {r.namespace for r in requests} | {k8s.namespace(p) for p in present} | {ctx.namespace}
    relevant_classes = {r.storage_class for r in requests if r.storage_class}
    relevant_classes |= {c for c in (facts.claim_class(p).name for p in present) if c}
    claims_by_ns: dict[str, list[Mapping[str, Any]]] = {}
    for pvc in facts.of("PersistentVolumeClaim"):
        ns = k8s.namespace(pvc)
        if ns in namespaces:
            claims_by_ns.setdefault(ns, []).append(pvc)
    findings: list[Finding] = []
    for quota in (*facts.of("ResourceQuota"), *facts.plan.quotas):
        ns = k8s.namespace(quota)
        if ns not in namespaces:
            continue
        finding = _judge_quota(
            quota, [r for r in requests if r.namespace == ns], claims_by_ns.get(ns, []), facts, relevant_classes
        )
        if finding is not None:
            findings.append(finding)
    by_class: dict[str, list[Mapping[str, Any]]] = {}
    for obj in facts.of("CSIStorageCapacity"):
        cls = k8s.dig(obj, "storageClassName", default="")
        if cls in relevant_classes:
            by_class.setdefault(cls, []).append(obj)
    for cls in sorted(by_class):
        finding = _judge_capacity(cls, class_index.get(cls), by_class[cls], requests)
        if finding is not None:
            findings.append(finding)
    if findings:
        yield from findings
        return
    unreadable = [
        f"{kind}: {facts.unavailable[kind]}"
        for kind in ("ResourceQuota", "CSIStorageCapacity")
        if kind in facts.unavailable
    ]
    note = f" ({'; '.join(unreadable)})" if unreadable else ""
    classes_text = ", ".join(sorted(relevant_classes)) or "any class Kubeflow uses"
    yield skip(
        CLUSTER,
        (
            f"{summary}; no ResourceQuota in {', '.join(sorted(namespaces))} limits storage and no "
            f"CSIStorageCapacity is published for {classes_text}{note}: nothing to compare against"
        ),
        code=NO_LIMITS,
    )


CHECK = Check(
    id="storage_capacity",
    title="Kubeflow's storage fits quotas and published capacity",
    kinds=("PersistentVolumeClaim", "StorageClass"),
    optional_kinds=("ResourceQuota", "CSIStorageCapacity", "Deployment"),
    evaluate=evaluate,
    description=__doc__ or "",
    codes=CODES,
    remediation=(
        "Raise the namespace's ResourceQuota (spec.hard requests.storage, persistentvolumeclaims and the "
        "per-class keys) to at least what is used plus Kubeflow's claims (about 50Gi for a default install: "
        "mysql-pv-claim 20Gi, seaweedfs-pvc 20Gi, katib-mysql 10Gi), or free space. When the driver "
        "publishes too little CSIStorageCapacity, add disks or nodes to the storage backend, or put "
        "Kubeflow's claims on another class."
    ),
)
