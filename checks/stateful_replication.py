"""Kubeflow's databases and object store survive the loss of a node.

MySQL (or PostgreSQL) and the artifact store (SeaweedFS or MinIO) run as single-replica
Deployments, so their availability comes from the storage alone: the volume must keep copies on
more than one node. For each database and object-store claim (pre-install: the effective default
StorageClass) kfstor reads how the class's driver keeps copies, from its row in the driver table
(`kfstor drivers`):

- a replica-count parameter (Portworx `repl`, Longhorn `numberOfReplicas`, OpenEBS Mayastor
  `repl`, LINSTOR/Piraeus `placementCount`, ...), read wherever the class carries it, with the
  driver's default when unset: at or above the option `min_replicas` (default 3): pass; 2: warn;
  1: warn, a single node failure loses Kubeflow's metadata; a value the driver rejects: warn;
- a parameter that changes it (GCE `replication-type: regional-pd`, Azure `skuName: *_ZRS`,
  Longhorn `dataLocality: strict-local`): as that parameter says;
- copies kept by the infrastructure (cloud disks, storage arrays): pass, naming what protects them;
- node-local storage (local-path, OpenEBS LocalPV, TopoLVM, hostpath provisioners,
  `kubernetes.io/no-provisioner` static local volumes): warn, the data lives on one node;
- a count that lives outside the class (a Ceph pool's size), a server kfstor cannot see (NFS),
  or a provisioner not in the table: warn "cannot verify", saying what would show it.

With `--manifests`, each planned database or object-store claim is judged on the class it will
get (pre-install: instead of the default class).

One finding per claim. Claims that are missing or name no existing class are skipped
(kubeflow_claims reports them), except that a class-less claim bound to a `local`/`hostPath`
PersistentVolume warns as node-local; `authservice-pvc` (login sessions) is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kfstor.api import (
    CLUSTER,
    Cause,
    Check,
    Code,
    Context,
    Facts,
    Finding,
    Fix,
    PlatformClaimFacts,
    Ref,
    Status,
    Verdict,
    finding,
    fixes,
    k8s,
    skip,
    storage,
    warn,
)
from kfstor.facts.profile import Profile, Replication, ReplicationKind, param_holds

Obj = Mapping[str, Any]
DEFAULT_MIN_REPLICAS = 3
R = ReplicationKind
SINGLE_COPY = "KFS-REPL-SINGLE-COPY"
BELOW_MINIMUM = "KFS-REPL-BELOW-MINIMUM"
INVALID = "KFS-REPL-INVALID"
NODE_LOCAL = "KFS-REPL-NODE-LOCAL"
UNVERIFIABLE = "KFS-REPL-UNVERIFIABLE"
NOT_JUDGED = "KFS-REPL-NOT-JUDGED"
_WHY = "MySQL and the object store run as single replicas: only the storage keeps Kubeflow's metadata alive."
_FIX = "Put the databases on a class that keeps several copies (classes are immutable: create one, migrate)."
CODES = (
    Code(
        SINGLE_COPY,
        "Database on a single copy",
        "The class keeps one copy of each volume.",
        "A single node or disk failure loses Kubeflow's metadata.",
        _FIX,
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
    Code(
        BELOW_MINIMUM,
        "Fewer replicas than required",
        "The class keeps fewer copies than min_replicas.",
        _WHY,
        _FIX,
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
    Code(
        INVALID,
        "Replica count the driver rejects",
        "The replica parameter is not a number or out of range.",
        "The driver rejects the class's volumes, or replication is unknown.",
        _FIX,
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
    Code(
        NODE_LOCAL,
        "Database on node-local storage",
        "The volume lives on one node's disk.",
        "A single node failure loses Kubeflow's metadata.",
        _FIX + " Node-local storage is for test clusters.",
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
    Code(
        UNVERIFIABLE,
        "Replication cannot be verified",
        "The copies are kept outside the class (a Ceph pool, an NFS server) or the provisioner is not in the table.",
        _WHY,
        "Confirm the backend keeps more than one copy (the message says where to look).",
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
    Code(
        NOT_JUDGED,
        "Replication not judged",
        "A database claim has no (existing) StorageClass.",
        "Nothing is known about its copies.",
        "Fix the claim's class first.",
        (fixes.DOCS_STORAGE_CLASSES,),
    ),
)


def _more_copies(sc: Obj, rep: Replication | None, minimum: int) -> Fix:
    """A copy of the class with the replica parameter raised, when the driver reads one."""
    name = k8s.name(sc)
    if rep is not None and rep.kind is R.PARAMETER and rep.keys:
        new = f"{name}-repl{minimum}"
        return fixes.fix(
            fixes.copy_class(name, new, f'.parameters["{rep.keys[0]}"] = "{minimum}"'),
            docs=fixes.DOCS_STORAGE_CLASSES,
            text=f"Kubeflow's database claims name no class: set storageClassName: {new} on them in the "
            "manifests (a kustomize patch) before install; claims already bound must be migrated (back up, "
            "recreate, restore)",
        )
    return fixes.fix(docs=fixes.DOCS_STORAGE_CLASSES, text="move the databases to a replicated class")


def _min_replicas(ctx: Context) -> int:
    value = ctx.option("min_replicas", DEFAULT_MIN_REPLICAS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"option min_replicas must be a whole number of at least 1, not {value!r}")
    return value


def _count(system: str, setting: str, count: int, minimum: int, subject: str) -> Verdict:
    if count >= minimum:
        return Verdict(Status.PASS, f"{system} keeps {count} replicas ({setting}), at least the required {minimum}")
    if count <= 1:
        return Verdict(
            Status.WARN,
            f"{system} keeps a single copy ({setting}): a single node failure loses "
            f"{subject}; use a class with {minimum} replicas",
            code=SINGLE_COPY,
        )
    return Verdict(
        Status.WARN,
        f"{system} keeps only {count} replicas ({setting}), below the required {minimum}: "
        f"a second failure loses {subject}; use a class with {minimum} replicas",
        code=BELOW_MINIMUM,
    )


def _param(params: Mapping[str, str], keys: tuple[str, ...]) -> tuple[str, str] | None:
    """(key as the class writes it, value) for the first of `keys` the class sets, compared
    case-insensitively (Azure's drivers accept any case)."""
    lowered = {k.lower(): (k, v.strip()) for k, v in params.items()}
    for key in keys:
        if key.lower() in lowered:
            return lowered[key.lower()]
    return None


def _by_parameter(label: str, rep: Replication, params: Mapping[str, str], minimum: int, subject: str) -> Verdict:
    found = _param(params, rep.keys)
    if found is None:
        if rep.default is None:
            return Verdict(
                Status.WARN,
                f"cannot verify replication: {label} reads it from {' or '.join(rep.keys)}, which the class "
                "does not set, and its default is not known",
                code=UNVERIFIABLE,
            )
        setting = f"{rep.keys[0]} unset, {label}'s default is {rep.default}"
        return _count(label, setting, rep.default, minimum, subject)
    key, raw = found
    replicas = k8s.count(raw)
    if replicas is None:
        return Verdict(Status.WARN, f'{label} {key} "{raw}" is not a number: cannot verify replication', code=INVALID)
    if replicas < 1 or (rep.maximum is not None and replicas > rep.maximum):
        allowed = f"1-{rep.maximum}" if rep.maximum is not None else "at least 1"
        text = f'{label} {key} "{raw}" is outside {allowed}, so {label} rejects the volume'
        return Verdict(Status.WARN, text, code=INVALID)
    return _count(label, f'{key}: "{raw}"', replicas, minimum, subject)


def _judge(sc: Obj, minimum: int, subject: str) -> Verdict:
    prov = k8s.provisioner(sc)
    params = k8s.parameters(sc)
    if prov in storage.REMOVED_IN_TREE:
        return Verdict(
            Status.WARN,
            f"{prov} is a removed in-tree plugin: cannot verify replication (provisioner_installed fails the class)",
            code=UNVERIFIABLE,
            caused_by=Cause("KFS-PROVISIONER-REMOVED", Ref("StorageClass", k8s.name(sc))),
        )
    profile = storage.profile_of(prov)
    if profile is None:
        return Verdict(
            Status.WARN,
            f"cannot verify replication of provisioner {prov}: it is not in kfstor's driver table; confirm the "
            "backend keeps more than one copy of each volume",
            code=UNVERIFIABLE,
        )
    rep = profile.replication
    for case in rep.overrides:
        if param_holds(case.when, params):
            if case.value:
                return Verdict(Status.PASS, f"{profile.label}: {case.why}")
            text = f"{profile.label}: {case.why}: a single node failure loses {subject}"
            return Verdict(Status.WARN, text, code=SINGLE_COPY)
    if profile.node_local or rep.kind is R.NONE:
        return Verdict(
            Status.WARN,
            f"{profile.label} ({prov}) keeps each volume on one node's disk: a single node failure loses "
            f"{subject}; use a replicated class",
            code=NODE_LOCAL,
        )
    if rep.kind is R.PARAMETER:
        return _by_parameter(profile.label, rep, params, minimum, subject)
    if rep.kind is R.INFRASTRUCTURE:
        return Verdict(Status.PASS, f"{profile.label}: {rep.note}")
    if rep.kind is R.EXTERNAL:
        found = _param(params, rep.keys)
        note = rep.note.replace("<pool>", found[1]) if found else rep.note
        return Verdict(
            Status.WARN, f"cannot verify replication from the class: {profile.label}: {note}", code=UNVERIFIABLE
        )
    return Verdict(
        Status.WARN,
        f"cannot verify replication of {profile.label} ({prov}): {rep.note or 'not sourced'}; make sure "
        "the backend keeps more than one copy",
        code=UNVERIFIABLE,
    )


def _planned(facts: Facts, minimum: int) -> Iterator[Finding]:
    """The planned database claims (--manifests), on the class each will get."""
    for entry in facts.platform.planned_databases:
        if entry.storage_class is None:
            yield skip(
                entry.ref,
                f"{entry.label}: StorageClass {entry.class_text} does not exist, so its replication cannot be "
                "judged; kubeflow_claims reports the claim",
            )
            continue
        verdict = _judge(entry.storage_class, minimum, f"the {entry.claim.role} data")
        yield finding(
            verdict.status,
            entry.ref,
            f"{entry.label} on StorageClass {entry.class_text}: {verdict.message}",
            code=verdict.code,
            fix=verdict.fix,
        )


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    minimum = _min_replicas(ctx)
    platform = facts.platform
    yield from _planned(facts, minimum)
    if not platform.installed and facts.plan.from_manifests:
        if not platform.planned_databases:
            yield skip(CLUSTER, "pre-install: the manifests create no database or object-store claims")
        return
    if not platform.installed:
        default = platform.future_class
        if default is None:
            yield skip(
                CLUSTER,
                "pre-install: Kubeflow is not installed and there is no default StorageClass "
                "to judge (default_storage_class reports it)",
                code=NOT_JUDGED,
                caused_by=Cause("KFS-DEFAULT-NONE", CLUSTER),
            )
            return
        verdict = _judge(default, minimum, "Kubeflow's metadata")
        yield finding(
            verdict.status,
            default,
            f"pre-install: default StorageClass {k8s.name(default)}, which "
            f"Kubeflow's databases will use: {verdict.message}",
            code=verdict.code,
            fix=_fix_for(verdict, default, minimum),
            caused_by=verdict.caused_by,
        )
        return
    for unjudged, why in platform.not_judged():
        yield skip(unjudged, why)
    for row in platform.databases:
        where = f"{row.claim.role} claim {row.where}"
        subject = f"the {row.claim.role} data"
        if row.storage_class is None:
            yield _classless(row, where, subject)
            continue
        assert row.pvc is not None  # Platform.databases holds existing claims only
        verdict = _judge(row.storage_class, minimum, subject)
        yield finding(
            verdict.status,
            row.pvc,
            f"{where} on StorageClass {k8s.name(row.storage_class)}: {verdict.message}",
            code=verdict.code,
            fix=_fix_for(verdict, row.storage_class, minimum),
            caused_by=verdict.caused_by,
        )


def _fix_for(verdict: Verdict, sc: Obj, minimum: int) -> Fix | None:
    if verdict.status is Status.PASS:
        return None
    profile = storage.profile_of(k8s.provisioner(sc))
    if verdict.code == UNVERIFIABLE:
        return _read_copies(sc, profile, minimum)
    return _more_copies(sc, profile.replication if profile is not None else None, minimum)


def _read_copies(sc: Obj, profile: Profile | None, minimum: int) -> Fix:
    """The command that prints the copy count where it lives (a Ceph pool's size), when the table
    knows one and the class names the pool; run in the operator's toolbox when Rook deployed the
    driver (a `<namespace>.` prefix on the provisioner, clusterID naming that namespace)."""
    rep = profile.replication if profile is not None else None
    found = _param(k8s.parameters(sc), rep.keys) if rep is not None and rep.read else None
    if profile is None or rep is None or found is None:
        return fixes.fix(docs=fixes.DOCS_STORAGE_CLASSES, text="confirm the copies where the message says")
    pool = found[1]
    command = rep.read.replace("<pool>", fixes.q(pool))
    provisioner = k8s.provisioner(sc)
    namespace = k8s.parameters(sc).get("clusterID", "").strip()
    operated = provisioner != profile.names[0] and provisioner.endswith("." + profile.names[0])
    if rep.toolbox and operated and namespace:
        command = f"kubectl -n {fixes.q(namespace)} exec {rep.toolbox} -- {command}"
    return fixes.fix(
        command,
        docs=fixes.DOCS_CEPH_POOLS,
        text=f"read pool {pool}'s size; below {minimum}, raise it (with Rook: replicated.size in the pool's "
        f"CephBlockPool or CephFilesystem resource; otherwise ceph osd pool set {pool} size {minimum})",
    )


def _classless(row: PlatformClaimFacts, where: str, subject: str) -> Finding:
    assert row.pvc is not None  # Platform.databases holds existing claims only
    pv = row.pv
    if pv is not None:
        for source in ("local", "hostPath"):
            if k8s.dig(pv, "spec", source, default={}):
                return warn(
                    row.pvc,
                    f"{where} is bound to the {source} PersistentVolume {k8s.name(pv)}, which "
                    f"lives on one node: a single node failure loses {subject}; move it to a "
                    "replicated class",
                    code=NODE_LOCAL,
                )
    what = f"StorageClass {row.class_name} does not exist" if row.class_name else "it has no StorageClass"
    return skip(
        row.pvc,
        f"{where}: {what}, so its replication cannot be judged; kubeflow_claims reports the claim",
        code=NOT_JUDGED,
        caused_by=Cause("KFS-DEFAULT-NONE", CLUSTER) if row.class_name is None else None,
    )


CHECK = Check(
    id="stateful_replication",
    title="Kubeflow's databases are on replicated storage",
    kinds=("StorageClass", "PersistentVolumeClaim"),
    optional_kinds=("PersistentVolume", "Deployment"),
    evaluate=evaluate,
    description=__doc__ or "",
    codes=CODES,
    remediation=(
        'Put Kubeflow\'s MySQL and object store on a class that keeps several copies: Portworx repl: "3" '
        '(with io_profile: db_remote), Longhorn numberOfReplicas: "3", Ceph RBD, or a cloud disk (regional '
        "PD or Azure ZRS for zone outages). Classes are immutable: create a new class and migrate the data; "
        "for Portworx, pxctl volume ha-update --repl 3 VOLUME raises an existing volume's replication. "
        "Node-local storage is only for throw-away test clusters."
    ),
    options={"min_replicas": DEFAULT_MIN_REPLICAS},
    option_minimums={"min_replicas": 1},
)
