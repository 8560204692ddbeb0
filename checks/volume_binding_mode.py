"""The default StorageClass binds WaitForFirstConsumer when nodes span several zones.

Kubeflow's claims use the default class. With `volumeBindingMode: Immediate` the volume is
provisioned the moment the claim is created, in a zone chosen without knowing where the pod will
run. Zonal block storage (AWS EBS, GCE PD except regional disks, Azure Disk except ZRS SKUs,
OpenStack Cinder, vSphere block volumes) can only attach in its own zone, so in a multi-zone
cluster MySQL, the object store or a notebook may land in a zone its disk is not in: the pod
stays Pending with "volume node affinity conflict". WaitForFirstConsumer provisions the volume
where the scheduler placed the pod.

Warn when the nodes span more than one zone (label `topology.kubernetes.io/zone`, or the older
`failure-domain.beta.kubernetes.io/zone`) and the default class binds Immediate on zonal block
storage. Otherwise pass with the reason (WaitForFirstConsumer, a single zone, nodes without zone
labels, or storage that is not zonal: Portworx, Ceph, file systems, regional disks). Control-plane
nodes tainted NoSchedule are not counted when other nodes exist (Kubeflow's pods do not run
there). Skip when there are no Node objects or no default class.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kfstor.api import CLUSTER, Cause, Check, Code, Context, Facts, Finding, Fix, fixes, k8s, ok, skip, warn

WFFC = k8s.WFFC
CONTROL_PLANE_TAINTS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
IMMEDIATE_ZONAL = "KFS-BINDING-IMMEDIATE-ZONAL"
UNVERIFIABLE = "KFS-BINDING-UNVERIFIABLE"
NO_NODES = "KFS-BINDING-NO-NODES"
NO_DEFAULT = "KFS-BINDING-NO-DEFAULT"
_FIX = (
    "Create a copy of the default class with volumeBindingMode: WaitForFirstConsumer, mark it default and remove "
    "the default annotation from the old one."
)
CODES = (
    Code(
        IMMEDIATE_ZONAL,
        "Zonal default class binds Immediate",
        "Nodes span several zones and the default class provisions zonal volumes as soon as a claim is created.",
        "MySQL, the object store or a notebook may get a disk in a zone its pod cannot run in "
        "('volume node affinity conflict').",
        _FIX,
        (fixes.DOCS_BINDING_MODE,),
    ),
    Code(
        UNVERIFIABLE,
        "Zone topology cannot be verified",
        "The default class binds Immediate across zones and kfstor cannot tell whether its volumes are zonal.",
        "If they are, pods may land away from their disks.",
        "If the volumes are zonal: " + _FIX,
        (fixes.DOCS_BINDING_MODE,),
    ),
    Code(NO_NODES, "No nodes", "No Node objects in the input: zones unknown.", "Nothing to judge.", "Add nodes."),
    Code(
        NO_DEFAULT,
        "No default class to judge",
        "There is no default StorageClass.",
        "Nothing to judge.",
        "Mark a default class (KFS-DEFAULT-NONE).",
    ),
)


def _wffc_copy(sc_name: str, default: bool) -> Fix:
    """A copy of the class that binds WaitForFirstConsumer; a default class hands its default mark over."""
    new = f"{sc_name}-wffc"
    commands = fixes.replace_class(sc_name, new, '.volumeBindingMode = "WaitForFirstConsumer"', default)
    if not default:
        return fixes.fix(*commands, docs=fixes.DOCS_BINDING_MODE, text=f"then create the claims on {new}")
    return fixes.fix(*commands, docs=fixes.DOCS_BINDING_MODE)


def _control_plane_only(node: Mapping[str, Any]) -> bool:
    return any(
        k8s.dig(t, "key", default="") in CONTROL_PLANE_TAINTS and k8s.dig(t, "effect", default="") == "NoSchedule"
        for t in k8s.dict_list(node, "spec", "taints")
    )


def _planned_classes(facts: Facts) -> dict[str, tuple[Mapping[str, Any], list[str]]]:
    """Classes other than the default that claims of the manifests (--manifests) name, with those claims."""
    named: dict[str, tuple[Mapping[str, Any], list[str]]] = {}
    plan = facts.plan
    if not plan.from_manifests:
        return named
    for entry in plan.entries:
        sc = entry.class_obj
        if sc is not None and entry.claim.storage_class and k8s.name(sc) != facts.default.name:
            named.setdefault(k8s.name(sc), (sc, []))[1].append(entry.claim.where)
    return named


def _judge(
    facts: Facts, sc: Mapping[str, Any], label: str, users: str, zones: dict[str, int], workers: int, unlabelled: int
) -> Finding:
    sc_name = k8s.name(sc)
    mode = k8s.binding_mode(sc)
    zone_text = ", ".join(f"{z} ({zones[z]})" for z in sorted(zones))
    if mode == WFFC:
        return ok(
            sc,
            f"{label} {sc_name} binds {WFFC}: volumes are provisioned in the zone of the node "
            f"their pod is scheduled to (node zones: {zone_text or 'none labelled'})",
        )
    if len(zones) < 2:
        where = (
            f"all {workers - unlabelled} labelled nodes are in zone {zone_text}"
            if zones
            else f"none of the {workers} nodes carries a zone label"
        )
        return ok(
            sc,
            f"{label} {sc_name} binds {mode}, but {where}: a volume cannot land in a zone away "
            "from its pod; switch to WaitForFirstConsumer before adding zones",
        )
    zonal = facts.zonal(sc)
    if zonal.value is False:
        return ok(
            sc,
            f"{label} {sc_name} binds {mode} across zones {zone_text}, but "
            f"{k8s.provisioner(sc)} volumes are not tied to one zone ({zonal.why})",
        )
    if zonal.value is None:
        return warn(
            sc,
            f"cannot verify that {label} {sc_name}, which binds {mode} while nodes span zones "
            f"{zone_text}, is safe: {zonal.why}, so kfstor cannot tell whether its volumes are tied to one zone; "
            f"if they are, create the {label.split()[0]} class with volumeBindingMode: WaitForFirstConsumer",
            code=UNVERIFIABLE,
            fix=_wffc_copy(sc_name, label.startswith("default")),
        )
    return warn(
        sc,
        f"{label} {sc_name} binds {mode} while nodes span zones {zone_text}: {zonal.why}, so "
        f"{users} may be created in a zone their pod cannot run "
        "in (Pending with 'volume node affinity conflict'); create the "
        f"{'default ' if label.startswith('default') else ''}class with volumeBindingMode: WaitForFirstConsumer",
        code=IMMEDIATE_ZONAL,
        fix=_wffc_copy(sc_name, label.startswith("default")),
    )


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    nodes = list(facts.of("Node"))
    if not nodes:
        yield skip(CLUSTER, "no Node objects in the snapshot: zones unknown", code=NO_NODES)
        return
    default = facts.default.effective
    planned = _planned_classes(facts)
    if default is None and not planned:
        yield skip(
            CLUSTER,
            "no default StorageClass (default_storage_class reports it)",
            code=NO_DEFAULT,
            caused_by=Cause("KFS-DEFAULT-NONE", CLUSTER),
        )
        return
    workers = [n for n in nodes if not _control_plane_only(n)] or nodes
    zones: dict[str, int] = {}
    unlabelled = 0
    for node in workers:
        zone = k8s.node_zone(node)
        if zone:
            zones[zone] = zones.get(zone, 0) + 1
        else:
            unlabelled += 1
    if default is not None:
        users = "Kubeflow's MySQL, object store and notebook volumes"
        yield _judge(facts, default, "default StorageClass", users, zones, len(workers), unlabelled)
    for _, (sc, claims) in sorted(planned.items()):
        shown = ", ".join(claims[:3]) + (f" and {len(claims) - 3} more" if len(claims) > 3 else "")
        users = f"the claims the manifests create on it ({shown})"
        yield _judge(facts, sc, "StorageClass", users, zones, len(workers), unlabelled)


CHECK = Check(
    id="volume_binding_mode",
    title="Zonal default storage binds WaitForFirstConsumer in multi-zone clusters",
    kinds=("StorageClass", "Node"),
    optional_kinds=("PersistentVolume",),
    evaluate=evaluate,
    description=__doc__ or "",
    codes=CODES,
    remediation=(
        "volumeBindingMode cannot be changed on an existing class: create a copy of the default class with "
        "volumeBindingMode: WaitForFirstConsumer (same provisioner and parameters), mark it default and "
        "remove the default annotation from the old one. Existing volumes keep their zone; pods using them "
        "are scheduled there."
    ),
)
