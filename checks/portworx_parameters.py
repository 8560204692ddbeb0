"""Portworx StorageClasses carry parameters Portworx accepts and that suit Kubeflow.

Portworx validates a class's parameters only when it creates a volume, so a typo sits unnoticed
until a claim stays Pending with ProvisioningFailed. For every Portworx class
(`pxd.portworx.com`, `kubernetes.io/portworx-volume`):

- fail (provisioning would be rejected) when `repl` is not 1, 2 or 3; `io_profile` is not one
  of the values Portworx parses (sequential, random, db, db_remote, cms, sync_shared, auto,
  none, journal, auto_journal, and `use_cluster_default`; case-insensitive like Portworx's
  parser); `priority_io`/`io_priority` is not high, medium or low (or 3, 2, 1; empty means
  low); `sharedv4` is not true or false.
- warn on deprecated io_profiles: `db` and `sequential` (Portworx treats them as `auto`) and
  `auto_journal` (use `journal` or `auto`);
- warn when a class used by Kubeflow's database or object-store claims (pre-install: the
  default class, which they will use) has an io_profile other than `db_remote` or `auto`,
  including unset (the cluster's default profile then applies, whatever it is set to);
- warn when `io_profile: db_remote` is paired with repl 1: db_remote coalesces syncs across
  replicas and is designed for repl 2 or more;
- warn on the deprecated in-tree provisioner name `kubernetes.io/portworx-volume`.

One finding per problem of a Portworx class, each with its code (a class without problems gets
one pass naming its valid settings). The legacy profiles random, cms and sync_shared are
accepted (the parser still knows them).
No Portworx classes: skip.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kfstor.api import (
    CLUSTER,
    Check,
    Code,
    Context,
    Facts,
    Finding,
    Status,
    Verdict,
    finding,
    fixes,
    k8s,
    skip,
    storage,
)

Obj = Mapping[str, Any]
IN_TREE = "kubernetes.io/portworx-volume"
CSI = "pxd.portworx.com"

# openstorage api.proto IoProfile enum (10 values) plus the docs-level use_cluster_default.
IO_PROFILES = (
    "sequential",
    "random",
    "db",
    "db_remote",
    "cms",
    "sync_shared",
    "auto",
    "none",
    "journal",
    "auto_journal",
    "use_cluster_default",
)
DEPRECATED_PROFILES = {
    "db": "db_remote (repl 2 or more) or auto; Portworx treats db as auto",
    "sequential": "auto; Portworx treats sequential as auto",
    "auto_journal": "journal or auto",
}
DATABASE_PROFILES = ("db_remote", "auto")
PRIORITIES = ("high", "medium", "low", "3", "2", "1", "")
BOOLEANS = ("true", "false")

INVALID_REPL = "KFS-PX-INVALID-REPL"
INVALID_PROFILE = "KFS-PX-INVALID-IO-PROFILE"
INVALID_PRIORITY = "KFS-PX-INVALID-PRIORITY"
INVALID_SHAREDV4 = "KFS-PX-INVALID-SHAREDV4"
DEPRECATED_PROFILE = "KFS-PX-DEPRECATED-IO-PROFILE"
DATABASE_PROFILE = "KFS-PX-DB-IO-PROFILE"
DB_REMOTE_REPL1 = "KFS-PX-DB-REMOTE-REPL1"
IN_TREE_NAME = "KFS-PX-IN-TREE"
_INVALID_WHY = "Portworx rejects every volume of the class, so its claims stay Pending with ProvisioningFailed."
_IMMUTABLE = "StorageClass parameters are immutable: create a corrected class, move the claims, delete the old one."
CODES = (
    Code(
        INVALID_REPL,
        "Invalid Portworx repl",
        "repl is not 1, 2 or 3.",
        _INVALID_WHY,
        _IMMUTABLE,
        (fixes.DOCS_PORTWORX,),
    ),
    Code(
        INVALID_PROFILE,
        "Invalid Portworx io_profile",
        "io_profile is not a value Portworx parses.",
        _INVALID_WHY,
        _IMMUTABLE,
        (fixes.DOCS_PORTWORX,),
    ),
    Code(
        INVALID_PRIORITY,
        "Invalid Portworx priority_io",
        "priority_io / io_priority is not high, medium or low.",
        _INVALID_WHY,
        _IMMUTABLE,
        (fixes.DOCS_PORTWORX,),
    ),
    Code(
        INVALID_SHAREDV4,
        "Invalid Portworx sharedv4",
        'sharedv4 is not "true" or "false".',
        _INVALID_WHY,
        _IMMUTABLE,
        (fixes.DOCS_PORTWORX,),
    ),
    Code(
        DEPRECATED_PROFILE,
        "Deprecated Portworx io_profile",
        "io_profile is db, sequential (treated as auto) or auto_journal.",
        "The class does not do what its parameters say.",
        "Create the class with io_profile db_remote (repl 2 or more) or auto.",
        (fixes.DOCS_PORTWORX,),
    ),
    Code(
        DATABASE_PROFILE,
        "Portworx database class without db_remote",
        "A class used by Kubeflow's databases has an io_profile other than db_remote or auto (or none).",
        "MySQL's fsync-heavy load is slow without the database profile.",
        "Create the class with io_profile: db_remote and move the database claims to it.",
        (fixes.DOCS_PORTWORX,),
    ),
    Code(
        DB_REMOTE_REPL1,
        "Portworx db_remote with one replica",
        "io_profile db_remote is paired with repl 1.",
        "db_remote coalesces syncs across replicas; with one copy a node failure loses the data.",
        'Create the class with repl: "3".',
        (fixes.DOCS_PORTWORX,),
    ),
    Code(
        IN_TREE_NAME,
        "Deprecated Portworx in-tree provisioner",
        "The class uses kubernetes.io/portworx-volume.",
        "The in-tree plugin is deprecated; the CSI driver pxd.portworx.com replaces it.",
        "Create the class with provisioner pxd.portworx.com.",
        (fixes.DOCS_PORTWORX, fixes.DOCS_CSI_MIGRATION),
    ),
)


def _database_classes(facts: Facts) -> dict[str, str]:
    """StorageClass name -> who uses it among Kubeflow's database claims (or the pre-install default;
    with --manifests, the classes the planned database claims will get)."""
    platform = facts.platform
    planned: dict[str, list[str]] = {}
    for entry in platform.planned_databases:
        if entry.storage_class is not None:
            planned.setdefault(k8s.name(entry.storage_class), []).append(entry.claim.where)
    if facts.plan.from_manifests:
        users = {name: list(claims) for name, claims in platform.database_classes.items()}
        for name, claims in planned.items():
            users.setdefault(name, []).extend(claims)
        return {name: "Kubeflow's database claims " + ", ".join(sorted(claims)) for name, claims in users.items()}
    if not platform.installed and facts.available("PersistentVolumeClaim"):
        default = platform.future_class
        if default is not None:
            return {k8s.name(default): "Kubeflow's database claims once installed (it is the default class)"}
    return {
        name: "Kubeflow's database claims " + ", ".join(sorted(claims))
        for name, claims in platform.database_classes.items()
    }


def _judge(sc: Obj, used_by: str | None) -> list[Verdict]:
    """One verdict per parameter of one Portworx class: FAIL for a value Portworx rejects, WARN for
    one that does not suit Kubeflow, PASS naming a valid setting."""
    params = k8s.parameters(sc)
    verdicts: list[Verdict] = []
    repl = params.get("repl")
    if repl is not None:
        replicas = k8s.count(repl)
        if replicas is None or not 1 <= replicas <= 3:
            verdicts.append(Verdict(Status.FAIL, f'repl "{repl}" (must be 1, 2 or 3)', code=INVALID_REPL))
        else:
            verdicts.append(Verdict(Status.PASS, f"repl {repl}"))
    profile_raw = params.get("io_profile")
    profile = (profile_raw or "").lower()
    if profile_raw:  # an empty value reads as unset
        if profile not in IO_PROFILES:
            accepted = ", ".join(IO_PROFILES)
            verdicts.append(
                Verdict(Status.FAIL, f'io_profile "{profile_raw}" (Portworx accepts {accepted})', code=INVALID_PROFILE)
            )
        elif profile in DEPRECATED_PROFILES:
            verdicts.append(
                Verdict(
                    Status.WARN,
                    f'io_profile "{profile_raw}" is deprecated: use {DEPRECATED_PROFILES[profile]}',
                    code=DEPRECATED_PROFILE,
                )
            )
        else:
            verdicts.append(Verdict(Status.PASS, f"io_profile {profile}"))
    for key in ("priority_io", "io_priority"):
        value = params.get(key)
        if value is None:
            continue
        if value.lower() not in PRIORITIES:
            verdicts.append(
                Verdict(Status.FAIL, f'{key} "{value}" (must be high, medium or low)', code=INVALID_PRIORITY)
            )
        else:
            verdicts.append(Verdict(Status.PASS, f"{key} {value or 'low'}"))
    sharedv4 = params.get("sharedv4")
    if sharedv4 is not None:
        if sharedv4.lower() not in BOOLEANS:
            verdicts.append(
                Verdict(Status.FAIL, f'sharedv4 "{sharedv4}" (must be "true" or "false")', code=INVALID_SHAREDV4)
            )
        else:
            verdicts.append(Verdict(Status.PASS, f"sharedv4 {sharedv4.lower()}"))
    judged = (not profile or profile in IO_PROFILES) and profile not in DEPRECATED_PROFILES
    if used_by and judged and profile not in DATABASE_PROFILES:
        shown = f'io_profile "{profile_raw}"' if profile else "no io_profile (the cluster default applies)"
        verdicts.append(
            Verdict(
                Status.WARN,
                f"it serves {used_by} but has {shown}: set io_profile: db_remote (or auto)",
                code=DATABASE_PROFILE,
            )
        )
    if profile == "db_remote" and (repl or "1") == "1":
        verdicts.append(
            Verdict(
                Status.WARN,
                'io_profile db_remote is designed for repl 2 or more, but the class keeps one copy: set repl: "3"',
                code=DB_REMOTE_REPL1,
            )
        )
    if k8s.provisioner(sc) == IN_TREE:
        verdicts.append(
            Verdict(
                Status.WARN,
                f"the provisioner {IN_TREE} is the deprecated in-tree name: create the class with provisioner {CSI}",
                code=IN_TREE_NAME,
            )
        )
    return verdicts


# What a corrected class sets for each problem (a jq assignment on the copy).
_CORRECTION = {
    INVALID_REPL: '.parameters.repl = "3"',
    INVALID_PROFILE: '.parameters.io_profile = "db_remote"',
    INVALID_PRIORITY: 'del(.parameters.io_priority) | .parameters.priority_io = "high"',
    INVALID_SHAREDV4: '.parameters.sharedv4 = "false"',
    DEPRECATED_PROFILE: '.parameters.io_profile = "auto"',
    DATABASE_PROFILE: '.parameters.io_profile = "db_remote"',
    DB_REMOTE_REPL1: '.parameters.repl = "3"',
    IN_TREE_NAME: f'.provisioner = "{CSI}"',
}


def _findings(sc: Obj, verdicts: list[Verdict], is_default: bool) -> list[Finding]:
    """One finding per problem, each with a corrected copy of the class as its fix."""
    name = k8s.name(sc)
    problems = [v for v in verdicts if v.status is not Status.PASS]
    if not problems:
        shown = ", ".join(v.message for v in verdicts) or "Portworx defaults"
        return [finding(Status.PASS, sc, f"Portworx StorageClass {name}: parameters valid ({shown})")]
    found = []
    for v in problems:
        text = f"Portworx StorageClass {name}: {v.message}"
        if v.status is Status.FAIL:
            text = (
                f"Portworx StorageClass {name}: invalid {v.message}; Portworx rejects every volume of this "
                "class, so its claims stay Pending: recreate the class with valid values"
            )
        remedy = fixes.fix(
            *fixes.replace_class(name, f"{name}-fixed", _CORRECTION[v.code], is_default),
            docs=fixes.DOCS_PORTWORX,
            text=f"move the claims of {name} to {name}-fixed, then delete {name}",
        )
        found.append(finding(v.status, sc, text, code=v.code, fix=remedy))
    return found


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    classes = [sc for sc in facts.classes.values() if storage.is_portworx(sc)]
    if not classes:
        yield skip(CLUSTER, "no Portworx StorageClasses (pxd.portworx.com or kubernetes.io/portworx-volume)")
        return
    database = _database_classes(facts)
    default = facts.default.effective
    for sc in classes:
        name = k8s.name(sc)
        yield from _findings(sc, _judge(sc, database.get(name)), sc is default)


CHECK = Check(
    id="portworx_parameters",
    title="Portworx StorageClass parameters are valid and suit Kubeflow",
    kinds=("StorageClass",),
    optional_kinds=("PersistentVolumeClaim", "Deployment"),
    evaluate=evaluate,
    description=__doc__ or "",
    codes=CODES,
    remediation=(
        "StorageClass parameters are immutable: create a corrected class (provisioner pxd.portworx.com, "
        'repl: "3", io_profile: db_remote, priority_io: high for Kubeflow\'s databases; sharedv4: "true" '
        "only for ReadWriteMany notebook classes), move the claims to it, and delete the old one."
    ),
)
