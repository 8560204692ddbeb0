"""ReadWriteMany claims can be served, and ReadWriteOnce claims are not shared across nodes.

A claim asking for ReadWriteMany binds only when its StorageClass can serve it: for filesystem
volumes a network file system (NFS, CephFS, EFS, Azure Files, Filestore, Portworx sharedv4,
vSphere NFS file volumes, Trident NAS); for `volumeMode: Block`, a backend that shares raw block
devices (Portworx, Ceph RBD, EBS io2 Multi-Attach, Azure shared disks, Hyperdisk multi-writer,
Trident SAN, ...). Otherwise the claim stays Pending forever: fail. An Available static
PersistentVolume of the claim's class that grants ReadWriteMany (a hand-made NFS volume) also
serves it. A claim already Bound on a PersistentVolume that grants ReadWriteMany passes.

A ReadWriteOnce volume attaches to one node. When active pods on two different nodes mount the
same ReadWriteOnce claim, the second pod hangs in ContainerCreating with "Multi-Attach error for
volume ... Volume is already exclusively attached to one node": fail. Several pods on the same
node work until one is rescheduled elsewhere: warn. A ReadWriteOncePod claim used by more than one
pod is a fail wherever they run. Pods that finished (Succeeded, Failed) do not count; pods that
are terminating still hold the attachment and do. Decisions where Kubernetes itself is lenient:
a ReadWriteOnce volume that is never attached (an NFS PersistentVolume, or a CSI driver whose
CSIDriver says `attachRequired: false`) works across nodes, so that case is a warn asking for
ReadWriteMany rather than a fail; node-local volumes (hostPath, local, local-path) on two nodes
are a fail (the pods see different data or cannot start); an unscheduled pod next to pods on one
node is a warn.

With `--manifests`, each planned ReadWriteMany claim the cluster does not have yet (Katib's PBT
suggestion volumes, shared notebook data volumes, the manifests' own claims) is judged the same
way on the class it will get; its fix changes the manifests (the claim exists nowhere yet, and its
name may be a template such as `{experiment-name}-pbt`). When no class at all can serve
ReadWriteMany file systems, such failures name rwx_available's KFS-RWX-NONE as their cause.

Claims with neither ReadWriteMany nor a shared ReadWriteOnce volume get no finding of their own;
when there are none at all, one cluster-wide pass says so.
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
    Ref,
    fail,
    fixes,
    k8s,
    ok,
    skip,
    storage,
    warn,
)
from kfstor.facts.plan import PLANNED_ANNOTATION

RWX = "ReadWriteMany"
RWX_NONE_CAUSE = Cause("KFS-RWX-NONE", CLUSTER)
RWOP = "ReadWriteOncePod"
NON_ATTACHED_SOURCES = ("nfs", "cephfs", "glusterfs")
NODE_LOCAL_SOURCES = ("hostPath", "local")
MAX_LISTED = 4

NOT_GRANTED = "KFS-RWX-CLAIM-NOT-GRANTED"
PREBOUND_MISSING = "KFS-RWX-CLAIM-PREBOUND-MISSING"
PREBOUND_UNVERIFIABLE = "KFS-RWX-CLAIM-PREBOUND-UNVERIFIABLE"
PREBOUND_NOT_RWX = "KFS-RWX-CLAIM-PREBOUND-NOT-RWX"
NO_DEFAULT = "KFS-RWX-CLAIM-NO-DEFAULT"
NO_STATIC = "KFS-RWX-CLAIM-NO-STATIC-VOLUME"
CLASS_MISSING = "KFS-RWX-CLAIM-CLASS-MISSING"
REFUSED = "KFS-RWX-CLAIM-REFUSED"
DRIVER_MISSING = "KFS-RWX-CLAIM-DRIVER-MISSING"
UNVERIFIABLE = "KFS-RWX-CLAIM-UNVERIFIABLE"
UNSUPPORTED = "KFS-RWX-CLAIM-UNSUPPORTED"
RWOP_SHARED = "KFS-RWOP-SHARED"
NODE_LOCAL_SHARED = "KFS-RWO-NODE-LOCAL-SHARED"
UNATTACHED_SHARED = "KFS-RWO-UNATTACHED-SHARED"
MULTI_ATTACH = "KFS-RWO-MULTI-ATTACH"
RWO_SHARED = "KFS-RWO-SHARED"
_NEVER_BINDS = "The claim never binds, so the pods that mount it never start."
_RWX_FIX = "Recreate the claim on an RWX-capable class (see rwx_available) and copy the data."


def _code(code_id: str, title: str, meaning: str, why: str = _NEVER_BINDS, fix_text: str = _RWX_FIX) -> Code:
    return Code(code_id, title, meaning, why, fix_text, (fixes.DOCS_ACCESS_MODES,))


CODES = (
    _code(
        NOT_GRANTED,
        "RWX claim bound without ReadWriteMany",
        "The claim asks for ReadWriteMany but its volume grants only single-node modes.",
        "Pods on different nodes fail with Multi-Attach.",
    ),
    _code(PREBOUND_MISSING, "RWX claim pre-bound to a missing volume", "spec.volumeName names no existing volume."),
    _code(
        PREBOUND_UNVERIFIABLE,
        "RWX claim pre-bound, volumes not read",
        "spec.volumeName is set and PersistentVolumes could not be read.",
        "Whether it can bind is unknown.",
        "Grant list on persistentvolumes (kfstor rbac).",
    ),
    _code(PREBOUND_NOT_RWX, "RWX claim pre-bound to a non-RWX volume", "The pre-bound volume grants no ReadWriteMany."),
    _code(NO_DEFAULT, "RWX claim without a class", "It names no class and the cluster has no default class."),
    _code(
        NO_STATIC,
        "RWX claim with no static volume",
        'storageClassName "" and no Available class-less volume grants ReadWriteMany.',
    ),
    _code(CLASS_MISSING, "RWX claim's class does not exist", "It names a StorageClass that does not exist."),
    _code(REFUSED, "Provisioner refused ReadWriteMany", "The class's provisioner refused the access mode (its event)."),
    _code(DRIVER_MISSING, "RWX claim's driver not installed", "The class can serve RWX but its CSI driver is missing."),
    _code(
        UNVERIFIABLE,
        "RWX support cannot be verified",
        "The class's provisioner is not in kfstor's table.",
        "If it cannot serve RWX, the claim never binds.",
        "Test with a ReadWriteMany probe claim.",
    ),
    _code(UNSUPPORTED, "Class cannot serve ReadWriteMany", "The claim asks for RWX from a class that cannot serve it."),
    _code(
        RWOP_SHARED,
        "ReadWriteOncePod claim used by several pods",
        "More than one pod mounts a ReadWriteOncePod claim.",
        "Only one pod may use it: the others cannot start.",
        "Give each pod its own claim or use ReadWriteMany.",
    ),
    _code(
        NODE_LOCAL_SHARED,
        "Node-local volume mounted on several nodes",
        "Pods on different nodes mount one node-local ReadWriteOnce claim.",
        "The pods away from its node see other data or cannot start.",
        "Use a ReadWriteMany class for shared data.",
    ),
    _code(
        UNATTACHED_SHARED,
        "ReadWriteOnce claim shared, never attached",
        "Pods on several nodes mount a ReadWriteOnce claim whose volume is never attached.",
        "It works (ReadWriteOnce is not enforced), but the claim misstates its use.",
        "Recreate it as ReadWriteMany.",
    ),
    _code(
        MULTI_ATTACH,
        "Multi-Attach: ReadWriteOnce claim on several nodes",
        "Active pods on two or more nodes mount one ReadWriteOnce claim.",
        "The volume attaches to one node: the other pods hang with a Multi-Attach error.",
        "Use a ReadWriteMany class, or one pod per claim (Recreate strategy, volumeClaimTemplates).",
    ),
    _code(
        RWO_SHARED,
        "ReadWriteOnce claim shared by several pods",
        "Several pods on one node (or not scheduled yet) mount one ReadWriteOnce claim.",
        "It works only while they share a node; a reschedule elsewhere fails with Multi-Attach.",
        "Use ReadWriteMany for shared data, or pin the pods to one node.",
    ),
)


class _Cluster:
    """Everything the per-claim judgements look up, indexed once."""

    def __init__(self, facts: Facts, extra_classes: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.facts = facts
        # Planned claims (--manifests) may name a class the manifests create.
        self.classes = {**facts.classes, **extra_classes} if extra_classes else facts.classes
        self.pvs_known = facts.available("PersistentVolume")
        self.no_attach = facts.unattached_drivers
        self._static: dict[tuple[str, str], list[Mapping[str, Any]]] | None = None
        self._capable: dict[bool, list[str]] = {}

    def pv(self, volume_name: str) -> Mapping[str, Any] | None:
        return self.facts.get("PersistentVolume", volume_name) if volume_name else None

    @property
    def static(self) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
        """Available RWX volumes by (class, volume mode): built only when an RWX claim needs them."""
        if self._static is None:
            self._static = {}
            for pv in self.facts.of("PersistentVolume"):
                if k8s.phase(pv, default="") != "Available" or RWX not in k8s.access_modes(pv):
                    continue
                key = (k8s.dig(pv, "spec", "storageClassName", default=""), k8s.volume_mode(pv))
                self._static.setdefault(key, []).append(pv)
        return self._static

    def capable_classes(self, block: bool) -> list[str]:
        if block not in self._capable:
            names = []
            for sc_name, sc in sorted(self.classes.items()):
                verdict = storage.rwx_block_capability(sc) if block else self.facts.rwx_fs(sc)
                if verdict.capable is True and not self.facts.driver_missing(sc):
                    names.append(sc_name)
            self._capable[block] = names
        return self._capable[block]

    def class_of(self, pvc: Mapping[str, Any]) -> str | None:
        return self.facts.claim_class(pvc).name

    def node_local(self, pv: Mapping[str, Any] | None, sc_name: str | None) -> bool:
        """True when the volume's data lives on one node (hostPath, local volumes, local-path, ...)."""
        if pv is not None:
            spec: Mapping[str, Any] = k8s.dig(pv, "spec", default={})
            if any(key in spec for key in NODE_LOCAL_SOURCES):
                return True
        sc = self.classes.get(sc_name or "")
        return sc is not None and storage.node_local(sc) is True

    def attached(self, pvc: Mapping[str, Any], pv: Mapping[str, Any] | None, sc_name: str | None) -> bool:
        """False when Kubernetes never attaches this volume (so ReadWriteOnce is not enforced)."""
        if pv is not None:
            spec: Mapping[str, Any] = k8s.dig(pv, "spec", default={})
            if any(key in spec for key in NON_ATTACHED_SOURCES):
                return False
            driver = k8s.dig(pv, "spec", "csi", "driver", default="")
            if driver:
                return driver not in self.no_attach
        sc = self.classes.get(sc_name or "")
        if sc is not None:
            driver = storage.csi_name(k8s.provisioner(sc))
            if driver in self.no_attach:
                return False
            # Without the CSIDriver object, the driver's own manifests say whether it attaches.
            registered = self.facts.csi_drivers
            if (registered is None or driver not in registered) and storage.attach_required(sc) is False:
                return False
        return True


def _static_match(cluster: _Cluster, pvc: Mapping[str, Any], sc_name: str, block: bool) -> str | None:
    wanted = k8s.quantity_bytes(k8s.requested_storage(pvc)) or 0
    mode = "Block" if block else "Filesystem"
    for pv in sorted(cluster.static.get((sc_name, mode), []), key=k8s.name):
        size = k8s.quantity_bytes(k8s.dig(pv, "spec", "capacity", "storage", default="")) or 0
        if size >= wanted:
            return k8s.name(pv)
    return None


def _judge_rwx(cluster: _Cluster, pvc: Mapping[str, Any]) -> Finding:
    pvc_name = k8s.name(pvc)
    block = k8s.volume_mode(pvc) == "Block"
    kind = "raw block" if block else "filesystem"
    volume_name = k8s.dig(pvc, "spec", "volumeName", default="")
    pv = cluster.pv(volume_name)
    phase = k8s.phase(pvc)
    sc_name = cluster.class_of(pvc)
    alternatives = [n for n in cluster.capable_classes(block) if n != sc_name]
    instead = (
        f"; use an RWX-capable class such as {', '.join(alternatives)}"
        if alternatives
        else "; no class in this cluster can serve it (see rwx_available)"
    )
    planned = k8s.annotations(pvc).get(PLANNED_ANNOTATION) == "true"
    if planned:
        # A planned claim (--manifests) exists in no cluster yet, and its name may be a template
        # ({experiment-name}-pbt): there is nothing to get or describe; the manifests change.
        target = (
            f"an RWX-capable class such as {', '.join(alternatives)}"
            if alternatives
            else "an RWX-capable class (none exists yet: install an RWX-capable driver and create one)"
        )
        remedy = describe = fixes.fix(
            docs=fixes.DOCS_ACCESS_MODES,
            text=f"before installing, set storageClassName of claim {pvc_name} in the manifests to {target}",
        )
    else:
        remedy = fixes.fix(
            fixes.get_yaml("pvc", pvc_name, k8s.namespace(pvc)),
            docs=fixes.DOCS_ACCESS_MODES,
            text="recreate the claim from this YAML with an RWX-capable storageClassName and copy the data",
        )
        describe = fixes.fix(fixes.describe("pvc", pvc_name, k8s.namespace(pvc)), docs=fixes.DOCS_ACCESS_MODES)
    if phase == "Bound":
        granted = k8s.granted_access_modes(pvc, pv)
        where = f"PersistentVolume {volume_name}" if volume_name else "its PersistentVolume"
        if RWX in granted:
            return ok(pvc, f"claim {pvc_name} is Bound as ReadWriteMany on {where}")
        return warn(
            pvc,
            (
                f"claim {pvc_name} asks for ReadWriteMany but {where} grants only "
                f"{', '.join(granted) or 'no access modes'}: pods on different nodes will fail with "
                "Multi-Attach; recreate it on an RWX-capable class"
            ),
            code=NOT_GRANTED,
            fix=remedy,
        )
    if volume_name:
        if pv is None:
            if cluster.pvs_known:
                return fail(
                    pvc,
                    (
                        f"claim {pvc_name} is pre-bound to PersistentVolume {volume_name}, which does not exist:"
                        " it will never bind; create the volume or clear spec.volumeName"
                    ),
                    code=PREBOUND_MISSING,
                    fix=describe,
                )
            return warn(
                pvc,
                (
                    f"cannot verify claim {pvc_name}: it is pre-bound to PersistentVolume {volume_name} and "
                    "PersistentVolumes were not read"
                ),
                code=PREBOUND_UNVERIFIABLE,
            )
        if RWX in k8s.access_modes(pv):
            return ok(
                pvc, (f"claim {pvc_name} is pre-bound to PersistentVolume {volume_name}, which grants ReadWriteMany")
            )
        return fail(
            pvc,
            (
                f"claim {pvc_name} asks for ReadWriteMany but is pre-bound to PersistentVolume {volume_name}, "
                f"which grants only {', '.join(k8s.access_modes(pv)) or 'nothing'}: it will never bind"
            ),
            code=PREBOUND_NOT_RWX,
            fix=describe,
        )
    if sc_name is not None:
        static = _static_match(cluster, pvc, sc_name, block)
        if static:
            return ok(
                pvc,
                (f"claim {pvc_name} can bind to the Available PersistentVolume {static}, which grants ReadWriteMany"),
            )
    if sc_name is None:
        return fail(
            pvc,
            (
                f"claim {pvc_name} asks for ReadWriteMany, names no StorageClass and the cluster has no default "
                f"class: it will never bind{instead}"
            ),
            code=NO_DEFAULT,
            caused_by=Cause("KFS-DEFAULT-NONE", CLUSTER),
        )
    if sc_name == "":
        return fail(
            pvc,
            (
                f'claim {pvc_name} asks for ReadWriteMany with storageClassName "" (static volumes only) and '
                "no Available PersistentVolume without a class grants ReadWriteMany: it will never bind; create"
                f" one (for example an NFS PersistentVolume){instead}"
            ),
            code=NO_STATIC,
            fix=remedy,
        )
    sc = cluster.classes.get(sc_name)
    if sc is None:
        return fail(
            pvc,
            (
                f"claim {pvc_name} asks for ReadWriteMany from StorageClass {sc_name}, which does not exist: it "
                f"will never bind{instead}"
            ),
            code=CLASS_MISSING,
            fix=remedy,
        )
    rejected = cluster.facts.rwx_rejection(pvc) if phase == "Pending" else None
    if rejected is not None:
        return fail(
            pvc,
            (
                f"claim {pvc_name} asks for ReadWriteMany {kind} volumes and the provisioner of StorageClass "
                f"{sc_name} refused it ({k8s.describe_event(rejected)}): it will never bind{instead}"
            ),
            code=REFUSED,
            fix=remedy,
        )
    verdict = storage.rwx_block_capability(sc) if block else cluster.facts.rwx_fs(sc)
    if verdict.capable is True:
        missing = cluster.facts.driver_missing(sc)
        if missing:
            return fail(
                pvc,
                (
                    f"claim {pvc_name} asks for ReadWriteMany from StorageClass {sc_name} ({verdict.reason}) but"
                    f" its CSI driver {missing} is not registered: it will never bind; install the "
                    f"driver{instead}"
                ),
                code=DRIVER_MISSING,
                caused_by=Cause("KFS-PROVISIONER-MISSING", Ref("StorageClass", sc_name)),
            )
        pending = ""
        if not planned and not cluster.facts.waits_for_consumer(pvc):
            pending = f"; it is {phase} for another reason (see claim_health)"
        return ok(
            pvc,
            (
                f"claim {pvc_name}: StorageClass {sc_name} can serve ReadWriteMany {kind} volumes "
                f"({verdict.reason}){pending}"
            ),
        )
    if verdict.capable is None:
        return warn(
            pvc,
            (
                f"cannot verify that StorageClass {sc_name} serves ReadWriteMany {kind} volumes for claim "
                f"{pvc_name} ({verdict.reason})"
            ),
            code=UNVERIFIABLE,
            fix=describe,
        )
    return fail(
        pvc,
        (
            f"claim {pvc_name} asks for ReadWriteMany {kind} volumes from StorageClass {sc_name}, which cannot "
            f"serve them ({verdict.reason}): it will never bind{instead}"
        ),
        code=UNSUPPORTED,
        fix=remedy,
        # No class at all serves RWX file systems (rwx_available's KFS-RWX-NONE): that is the root.
        caused_by=RWX_NONE_CAUSE if not block and not alternatives and cluster.facts.no_rwx_class else None,
    )


def _pod_list(pods: list[Mapping[str, Any]]) -> str:
    shown = [f"{k8s.name(p)} (node {k8s.pod_node(p) or 'not scheduled'})" for p in pods[:MAX_LISTED]]
    more = f" and {len(pods) - MAX_LISTED} more" if len(pods) > MAX_LISTED else ""
    return ", ".join(shown) + more


def _attach_event(facts: Facts, ns: str, pods: list[Mapping[str, Any]]) -> str:
    for pod in pods:
        for ev in facts.events("Pod", ns, k8s.name(pod)):
            if k8s.dig(ev, "reason", default="") == "FailedAttachVolume":
                return f" (pod {k8s.name(pod)}: {k8s.describe_event(ev)})"
    return ""


def _judge_shared(
    cluster: _Cluster,
    pvc: Mapping[str, Any],
    pods: list[Mapping[str, Any]],
) -> Finding | None:
    pvc_name = k8s.name(pvc)
    remedy = fixes.fix(
        fixes.get_yaml("pvc", pvc_name, k8s.namespace(pvc)),
        docs=fixes.DOCS_ACCESS_MODES,
        text="move the shared data to a ReadWriteMany claim, or give each pod its own claim",
    )
    volume_name = k8s.dig(pvc, "spec", "volumeName", default="")
    pv = cluster.pv(volume_name)
    granted = k8s.granted_access_modes(pvc, pv)
    listed = _pod_list(pods)
    if RWOP in granted:
        return fail(
            pvc,
            (
                f"ReadWriteOncePod claim {pvc_name} is used by {len(pods)} pods ({listed}): only one pod may use"
                " it, the others cannot start; give each pod its own claim or use ReadWriteMany"
            ),
            code=RWOP_SHARED,
            fix=remedy,
        )
    if not k8s.is_single_node_mode(granted):
        return None
    nodes = sorted({k8s.pod_node(p) for p in pods} - {""})
    unscheduled = [k8s.name(p) for p in pods if not k8s.pod_node(p)]
    if len(nodes) >= 2:
        if cluster.node_local(pv, cluster.class_of(pvc)):
            return fail(
                pvc,
                (
                    f"ReadWriteOnce claim {pvc_name} is node-local storage but is mounted on nodes {', '.join(nodes)} "
                    f"by {listed}: the pods away from its node see other data or cannot start; use a ReadWriteMany "
                    "class for shared data"
                ),
                code=NODE_LOCAL_SHARED,
                fix=remedy,
            )
        if not cluster.attached(pvc, pv, cluster.class_of(pvc)):
            return warn(
                pvc,
                (
                    f"ReadWriteOnce claim {pvc_name} is mounted on nodes {', '.join(nodes)} by {listed}: its "
                    "volume is never attached, so Kubernetes does not enforce ReadWriteOnce and this works, but"
                    " the claim misstates its use; recreate it as ReadWriteMany"
                ),
                code=UNATTACHED_SHARED,
                fix=remedy,
            )
        event = _attach_event(cluster.facts, k8s.namespace(pvc), pods)
        return fail(
            pvc,
            (
                f"ReadWriteOnce claim {pvc_name} is mounted by pods on {len(nodes)} nodes ({listed}): the volume"
                f" attaches to one node only, so the others fail with Multi-Attach{event}; use a ReadWriteMany "
                "class, or one pod per claim (Recreate strategy, StatefulSet volumeClaimTemplates)"
            ),
            code=MULTI_ATTACH,
            fix=remedy,
        )
    if nodes and unscheduled:
        return warn(
            pvc,
            (
                f"ReadWriteOnce claim {pvc_name} is mounted on node {nodes[0]} and wanted by the unscheduled "
                f"pod(s) {', '.join(sorted(unscheduled))}: a pod placed on another node fails with Multi-Attach;"
                " use ReadWriteMany or pin the pods to one node"
            ),
            code=RWO_SHARED,
            fix=remedy,
        )
    if nodes:
        return warn(
            pvc,
            (
                f"ReadWriteOnce claim {pvc_name} is mounted by {len(pods)} pods, all on node {nodes[0]} "
                f"({listed}): this works only while they share the node, a reschedule elsewhere fails with "
                "Multi-Attach; use ReadWriteMany for shared data"
            ),
            code=RWO_SHARED,
            fix=remedy,
        )
    return warn(
        pvc,
        (
            f"ReadWriteOnce claim {pvc_name} is wanted by {len(pods)} unscheduled pods ({listed}): pods placed "
            "on different nodes fail with Multi-Attach; use ReadWriteMany for shared data"
        ),
        code=RWO_SHARED,
        fix=remedy,
    )


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    pvcs = facts.of("PersistentVolumeClaim")
    # Planned claims (--manifests) are judged as the API server will receive them.
    planned = [e.claim.as_claim() for e in facts.platform.planned if RWX in e.claim.access_modes]
    if not pvcs and not planned:
        yield skip(CLUSTER, "no PersistentVolumeClaims in the snapshot")
        return
    cluster = _Cluster(facts)
    judged = 0
    planned_cluster = _Cluster(facts, facts.plan.new_classes) if planned else cluster
    for pvc in planned:
        judged += 1
        yield _judge_rwx(planned_cluster, pvc)
    for pvc in pvcs:
        finding: Finding | None
        if RWX in k8s.access_modes(pvc):
            finding = _judge_rwx(cluster, pvc)
        else:
            using = facts.claim_users(k8s.namespace(pvc), k8s.name(pvc))
            if len(using) < 2:
                continue
            by_name = {k8s.name(pod): pod for pod in using}
            if len(by_name) < 2:
                continue
            pods = [by_name[n] for n in sorted(by_name)]
            finding = _judge_shared(cluster, pvc, pods)
        if finding is not None:
            judged += 1
            yield finding
    if not judged:
        yield ok(
            CLUSTER,
            (
                f"none of the {len(pvcs)} claims asks for ReadWriteMany and no ReadWriteOnce claim is mounted by"
                " more than one active pod"
            ),
        )


CHECK = Check(
    id="rwx_claims",
    title="ReadWriteMany claims can bind and ReadWriteOnce claims are not shared across nodes",
    kinds=("PersistentVolumeClaim", "StorageClass", "Pod"),
    optional_kinds=("PersistentVolume", "CSIDriver", "Event"),
    evaluate=evaluate,
    description=__doc__ or "",
    codes=CODES,
    remediation=(
        "Recreate ReadWriteMany claims on an RWX-capable class (kubectl get pvc CLAIM -o yaml, change "
        "storageClassName, copy the data). For a ReadWriteOnce claim shared by several pods, either move "
        "the shared data to a ReadWriteMany claim, give each pod its own claim (StatefulSet "
        "volumeClaimTemplates), or use the Recreate strategy so the old pod releases the volume before the "
        "new one starts. Delete pods stuck Terminating on a dead node to release their attachment."
    ),
)
