"""Kubeflow's platform claims exist, are Bound, and sit on a healthy PersistentVolume.

kfstor finds the claims of the installed variant in the Kubeflow namespace (`--namespace`,
default `kubeflow`): `mysql-pv-claim` (unless Pipelines runs on `postgres-pvc`), `katib-mysql`
(unless Katib runs on `katib-postgres`), and the object store's claim, `seaweedfs-pvc` (1.11+)
or `minio-pvc` (up to 1.10), detected from the `seaweedfs`/`minio` Deployment first and the claims
second, so only the installed store is demanded. Optional claims are audited when present:
`metadata-mysql`, `metadata-postgres`, `postgres-pvc`, `katib-postgres`, `model-catalog-postgres`,
and `authservice-pvc` in `istio-system` (1.7/1.8).

- Bound, and its PersistentVolume exists, is Bound and its claimRef names this claim (and its
  uid, when both carry one): pass.
- Pending under a `WaitForFirstConsumer` class with no scheduled consumer pod: warn (binding
  waits until the Deployment's pod is scheduled; not an error by itself).
- Any other Pending: fail, with the diagnosis (the class does not exist, no class and no default,
  `kubernetes.io/no-provisioner`, a removed in-tree plugin, ReadWriteMany on a class that cannot
  serve it, the provisioner not running: ExternalProvisioning events and no Provisioning activity,
  or the ProvisioningFailed text) and the latest events recorded for the claim.
- Lost, or its PersistentVolume missing or not Bound to it: fail.
- An expected claim that does not exist while Kubeflow is installed: fail.
- A component's claims are expected only when that component is installed: Katib's when one of
  its Deployments (`katib-controller`, `katib-db-manager`, `katib-ui`, `katib-mysql`) or claims
  exists, Pipelines' when one of its (`ml-pipeline`, ..., `mysql`, `minio`, `seaweedfs`) does.
  A component shown absent (Deployments were read, none of its exist) gets one skip finding on its
  claim saying it is not installed. When Deployments were not read, its claims stay expected.
- Kubeflow not installed (none of its claims or workloads exist): one skip finding saying which
  default StorageClass its claims will use.

With `--manifests`, every claim the install will create (kfstor.facts.plan: the manifests'
claims, StatefulSet claim templates, notebook workspaces and data volumes from the spawner
configuration, Katib suggestion volumes) that is not in the cluster yet gets one finding with its
predicted outcome: binds or waits for its first consumer: pass; stays Pending: fail, with the
reason; unknown: warn. Before install that replaces the single skip finding.

The claim of an object store that is no longer installed (`minio-pvc` left behind by the
1.10 -> 1.11 upgrade to SeaweedFS) is not demanded: it gets a skip finding saying it is left over.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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
    Fix,
    PlatformClaimFacts,
    Ref,
    Status,
    fail,
    finding,
    fixes,
    k8s,
    kubeflow,
    ok,
    skip,
    storage,
    warn,
)
from kfstor.facts.plan import PlanEntry, Problem

EVENTS_SHOWN = 3

Obj = Mapping[str, Any]

NOT_INSTALLED = "KFS-KUBEFLOW-NOT-INSTALLED"
MISSING = "KFS-PLATFORM-CLAIM-MISSING"
COMPONENT_ABSENT = "KFS-COMPONENT-NOT-INSTALLED"
NO_DEFAULT = "KFS-PLATFORM-PENDING-NO-DEFAULT"
EMPTY_CLASS = "KFS-PLATFORM-PENDING-EMPTY-CLASS"
CLASS_MISSING = "KFS-PLATFORM-PENDING-CLASS-MISSING"
STATIC_CLASS = "KFS-PLATFORM-PENDING-STATIC-CLASS"
REMOVED_PLUGIN = "KFS-PLATFORM-PENDING-REMOVED-PLUGIN"
RWX_UNSUPPORTED = "KFS-PLATFORM-PENDING-RWX"
PROVISIONING_FAILED = "KFS-PLATFORM-PROVISIONING-FAILED"
NOT_RUNNING = "KFS-PLATFORM-PROVISIONER-NOT-RUNNING"
PENDING = "KFS-PLATFORM-PENDING"
WAITING = "KFS-PLATFORM-WAITING-FOR-POD"
LOST = "KFS-PLATFORM-CLAIM-LOST"
BROKEN_BINDING = "KFS-PLATFORM-BROKEN-BINDING"
VOLUME_GONE = "KFS-PLATFORM-VOLUME-GONE"
VOLUME_NOT_READ = "KFS-PLATFORM-VOLUME-NOT-IN-INPUT"
UNKNOWN_PHASE = "KFS-PLATFORM-UNKNOWN-PHASE"
LEFTOVER = "KFS-PLATFORM-LEFTOVER-STORE"
DOCS = fixes.DOCS_PV
NO_DEFAULT_CAUSE = Cause("KFS-DEFAULT-NONE", CLUSTER)
RWX_NONE_CAUSE = Cause("KFS-RWX-NONE", CLUSTER)
# Planned claims (--manifests) that will not bind, one code per reason the plan gives.
PLAN_CODES = {
    Problem.NONE: "KFS-PLAN-PENDING",
    Problem.DANGLING: "KFS-PLAN-NOTHING-CREATES",
    Problem.INVALID: "KFS-PLAN-INVALID-CLAIM",
    Problem.NO_DEFAULT: "KFS-PLAN-NO-DEFAULT",
    Problem.NO_STATIC_VOLUME: "KFS-PLAN-NO-STATIC-VOLUME",
    Problem.CLASS_MISSING: "KFS-PLAN-CLASS-MISSING",
    Problem.REMOVED_PLUGIN: "KFS-PLAN-REMOVED-PLUGIN",
    Problem.DRIVER_MISSING: "KFS-PLAN-DRIVER-MISSING",
    Problem.ACCESS_MODE: "KFS-PLAN-ACCESS-MODE",
    Problem.ACCESS_UNKNOWN: "KFS-PLAN-ACCESS-UNKNOWN",
    Problem.BLOCK_ON_FILE: "KFS-PLAN-BLOCK-ON-FILE",
    Problem.QUOTA: "KFS-PLAN-QUOTA",
    Problem.CAPACITY: "KFS-PLAN-CAPACITY",
    Problem.EXISTING: "KFS-PLAN-EXISTING-NOT-BOUND",
}
_PLAN_WHY = (
    "The install creates the claim and it never binds: the pod that mounts it stays Pending and the install hangs."
)


def _code(code_id: str, title: str, meaning: str, why: str, fix_text: str, *links: str) -> Code:
    return Code(code_id, title, meaning, why, fix_text, links or (DOCS,))


CODES = (
    _code(
        PLAN_CODES[Problem.NONE],
        "Planned claim will stay Pending",
        "A claim the manifests create is predicted to stay Pending.",
        _PLAN_WHY,
        "Read the reason in the finding.",
    ),
    _code(
        PLAN_CODES[Problem.DANGLING],
        "Planned workload mounts a claim nothing creates",
        "A workload of the manifests mounts a PersistentVolumeClaim that neither the manifests nor the cluster create.",
        "The workload's pod stays Pending until the claim exists.",
        "Add the claim to the manifests, or remove the volume from the workload.",
    ),
    _code(
        PLAN_CODES[Problem.INVALID],
        "Planned claim is invalid",
        "A claim of the manifests has no storage size, a size that is not a quantity, or no access mode.",
        "The API server rejects it, so the install fails at that object.",
        "Correct the claim in the manifests.",
    ),
    _code(
        PLAN_CODES[Problem.NO_DEFAULT],
        "Planned claim needs a default class",
        "A claim of the manifests names no StorageClass and the cluster has no default class.",
        _PLAN_WHY,
        "Mark one class default before installing (KFS-DEFAULT-NONE).",
        fixes.DOCS_DEFAULT_CLASS,
    ),
    _code(
        PLAN_CODES[Problem.NO_STATIC_VOLUME],
        "Planned claim needs a static volume",
        'A claim of the manifests asks for storageClassName "" or a no-provisioner class, and no Available '
        "PersistentVolume matches it.",
        _PLAN_WHY,
        "Create a matching PersistentVolume by hand, or give the claim a dynamic class.",
    ),
    _code(
        PLAN_CODES[Problem.CLASS_MISSING],
        "Planned claim's class does not exist",
        "A claim of the manifests names a StorageClass that neither the cluster nor the manifests create.",
        _PLAN_WHY,
        "Create the class, or give the claim an existing class in the manifests.",
        fixes.DOCS_STORAGE_CLASSES,
    ),
    _code(
        PLAN_CODES[Problem.REMOVED_PLUGIN],
        "Planned claim's class uses a removed in-tree plugin",
        "The class a planned claim gets names an in-tree volume plugin that Kubernetes removed.",
        _PLAN_WHY,
        "Use a class of the plugin's CSI driver.",
        fixes.DOCS_CSI_MIGRATION,
    ),
    _code(
        PLAN_CODES[Problem.DRIVER_MISSING],
        "Planned claim's CSI driver is missing",
        "The class a planned claim gets needs a CSI driver that is not registered.",
        _PLAN_WHY,
        "Install the driver before Kubeflow.",
        fixes.DOCS_CSI_DRIVERS,
    ),
    _code(
        PLAN_CODES[Problem.ACCESS_MODE],
        "Planned claim's access mode cannot be served",
        "A claim of the manifests asks for ReadWriteMany (or ReadOnlyMany) volumes its class cannot serve.",
        _PLAN_WHY,
        "Give the claim a class that serves shared volumes (NFS, CephFS, EFS, Azure Files, Portworx sharedv4, ...).",
        fixes.DOCS_ACCESS_MODES,
    ),
    _code(
        PLAN_CODES[Problem.ACCESS_UNKNOWN],
        "Planned claim's access mode cannot be verified",
        "A claim of the manifests asks for shared volumes and kfstor cannot tell whether its class serves them.",
        "If the class cannot, the claim stays Pending and the install hangs.",
        "Verify the driver serves ReadWriteMany, or use a class kfstor knows does.",
        fixes.DOCS_ACCESS_MODES,
    ),
    _code(
        PLAN_CODES[Problem.BLOCK_ON_FILE],
        "Planned raw block claim on a file system class",
        "A claim of the manifests asks for volumeMode: Block and its class serves file systems only.",
        _PLAN_WHY,
        "Give the claim a block-capable class.",
        fixes.DOCS_ACCESS_MODES,
    ),
    _code(
        PLAN_CODES[Problem.QUOTA],
        "Planned claims exceed a ResourceQuota",
        "Creating the planned claims of a namespace exceeds one of its storage quotas.",
        "Claims past the limit are rejected, so the install fails at them.",
        "Raise the quota's storage limits before installing.",
        fixes.DOCS_QUOTA,
    ),
    _code(
        PLAN_CODES[Problem.CAPACITY],
        "Planned claims exceed published capacity",
        "The class's CSIStorageCapacity cannot hold the planned volumes.",
        _PLAN_WHY,
        "Add capacity to the backend, or use another class.",
        fixes.DOCS_CAPACITY,
    ),
    _code(
        PLAN_CODES[Problem.EXISTING],
        "Planned claim exists and is not Bound",
        "A claim the manifests create already exists in the cluster and is not Bound; apply leaves it as it is.",
        "The install reuses a claim that is stuck.",
        "Fix the existing claim first (kubeflow_claims and claim_health say why).",
        fixes.DOCS_PV_PHASE,
    ),
    _code(
        NOT_INSTALLED,
        "Kubeflow is not installed",
        "None of Kubeflow's platform claims or workloads exist in the Kubeflow namespace (pre-install).",
        "Checks of Kubeflow's own claims cannot run yet; the checks judge the default class its claims will use.",
        "Nothing to fix: audit again after installing, or pass --namespace when Kubeflow lives elsewhere.",
        fixes.DOCS_KUBEFLOW_INSTALL,
    ),
    _code(
        MISSING,
        "Platform claim missing",
        "Kubeflow is installed but one of its platform claims (MySQL, object store, Katib MySQL) does not exist.",
        "The Deployment that mounts it cannot start, so Pipelines or Katib is down.",
        "Re-apply the Kubeflow manifests that create the claim.",
        fixes.DOCS_KUBEFLOW_INSTALL,
    ),
    _code(
        COMPONENT_ABSENT,
        "Kubeflow component not installed",
        "Kubeflow is installed without one of its components (Katib or Pipelines): none of that "
        "component's Deployments or claims exist in the Kubeflow namespace.",
        "Its claims are not expected, so they are not audited; standalone Pipelines and Katib-only "
        "installs are common.",
        "Nothing to fix when the component is left out on purpose; otherwise install it and audit again.",
        fixes.DOCS_KUBEFLOW_INSTALL,
    ),
    _code(
        NO_DEFAULT,
        "Platform claim Pending: no default class",
        "The claim names no StorageClass and the cluster has no default class.",
        "Kubeflow's platform claims never name a class: without a default they stay Pending forever.",
        "Mark one class default (KFS-DEFAULT-NONE); Kubernetes 1.26+ then assigns it to the waiting claim.",
        fixes.DOCS_DEFAULT_CLASS,
    ),
    _code(
        EMPTY_CLASS,
        "Platform claim asks for no class",
        'The claim sets storageClassName: "" and no matching static PersistentVolume exists.',
        "It binds only to a hand-made volume, so the platform pod stays Pending.",
        "Create a matching PersistentVolume, or re-create the claim without the empty class name.",
    ),
    _code(
        CLASS_MISSING,
        "Platform claim's class does not exist",
        "The claim names a StorageClass that does not exist.",
        "Nothing provisions the claim, so the platform pod stays Pending.",
        "Create that class, or re-create the claim with an existing class.",
        fixes.DOCS_STORAGE_CLASSES,
    ),
    _code(
        STATIC_CLASS,
        "Platform claim on a static class",
        "The claim's class uses kubernetes.io/no-provisioner.",
        "No volume is ever created for it.",
        "Create a matching PersistentVolume by hand, or move the claim to a dynamic class.",
        fixes.DOCS_STORAGE_CLASSES,
    ),
    _code(
        REMOVED_PLUGIN,
        "Platform claim on a removed plugin",
        "The claim's class names an in-tree plugin Kubernetes removed.",
        "Nothing can provision its volume.",
        "Move the claim to a class with a CSI driver.",
        fixes.DOCS_CSI_MIGRATION,
    ),
    _code(
        RWX_UNSUPPORTED,
        "Platform claim asks for unsupported ReadWriteMany",
        "The claim asks for ReadWriteMany from a class that cannot serve it.",
        "It never binds.",
        "Request ReadWriteOnce, or use an RWX-capable class.",
        fixes.DOCS_ACCESS_MODES,
    ),
    _code(
        PROVISIONING_FAILED,
        "Platform claim: provisioning failed",
        "The provisioner reported ProvisioningFailed for the claim.",
        "The platform pod stays Pending until the cause in the provisioner or the class is fixed.",
        "Read the ProvisioningFailed event and fix its cause.",
    ),
    _code(
        NOT_RUNNING,
        "Platform claim: provisioner not running",
        "Only ExternalProvisioning events: the class's provisioner never picked the claim up, or its CSIDriver "
        "is not registered.",
        "Nothing creates the volume.",
        "Install or repair the CSI driver (its controller pods and CSIDriver object).",
        fixes.DOCS_CSI_DRIVERS,
    ),
    _code(
        PENDING,
        "Platform claim Pending",
        "The claim is Pending and no specific cause is visible in the snapshot.",
        "The platform pod that mounts it cannot start.",
        "Describe the claim and read its events.",
    ),
    _code(
        WAITING,
        "Platform claim waits for its pod",
        "The claim's class binds WaitForFirstConsumer and no pod that mounts it has been scheduled.",
        "Binding waits for the pod: not an error by itself, but the pod is not scheduled.",
        "Find out why the workload's pod is not scheduled (describe the pod).",
        fixes.DOCS_BINDING_MODE,
    ),
    _code(
        LOST,
        "Platform claim Lost",
        "The claim is Lost: its PersistentVolume is gone.",
        "Kubeflow's data on it is gone; the platform pod cannot start.",
        "Restore the volume or the data from a backup, or re-create the claim.",
        fixes.DOCS_PV_PHASE,
    ),
    _code(
        BROKEN_BINDING,
        "Platform claim bound to a wrong volume",
        "The claim is Bound, but its volume names no or another claim, an older claim of the same name, or is "
        "not Bound itself, or the claim names no volume.",
        "Kubeflow may write to another claim's data, or lose its own.",
        "Describe the claim and the volume and fix the binding deliberately before Kubeflow writes to it.",
        fixes.DOCS_RESERVE_PV,
    ),
    _code(
        VOLUME_GONE,
        "Platform claim's volume does not exist",
        "The claim is Bound to a PersistentVolume that does not exist.",
        "The claim turns Lost and Kubeflow's data with it.",
        "Restore the volume or the data from a backup.",
        fixes.DOCS_PV_PHASE,
    ),
    _code(
        VOLUME_NOT_READ,
        "Platform claim's volume not in the input",
        "The claim is Bound, but the input has no PersistentVolumes.",
        "The volume cannot be verified.",
        "Add PersistentVolumes to the input (kubectl get pv -o yaml).",
    ),
    _code(
        UNKNOWN_PHASE,
        "Platform claim in an unknown phase",
        "The claim reports a phase Kubernetes does not define.",
        "Its state cannot be judged.",
        "Describe the claim.",
    ),
    _code(
        LEFTOVER,
        "Object store claim left over",
        "The claim of an object store that is no longer installed (minio-pvc after the move to SeaweedFS).",
        "It is not demanded, but it holds data and quota.",
        "Delete it once its data is migrated.",
    ),
)


@dataclass(frozen=True, slots=True)
class _Diagnosis:
    text: str
    code: str
    fix: Fix | None = None
    cause: Cause | None = None


def _events_text(facts: Facts, events: list[Obj]) -> str:
    """`events` are one claim's, newest first."""
    if not events:
        return facts.no_events_text()
    return "latest events: " + " | ".join(k8s.describe_event(ev) for ev in events[:EVENTS_SHOWN])


def _bound(pvc: Obj, facts: Facts, where: str) -> Finding:
    volume = k8s.dig(pvc, "spec", "volumeName", default="")
    describe = fixes.describe("pvc", k8s.name(pvc), k8s.namespace(pvc))
    broken = {"code": BROKEN_BINDING, "fix": fixes.fix(describe, docs=fixes.DOCS_RESERVE_PV)}
    if volume:
        broken["fix"] = fixes.fix(describe, fixes.describe("pv", volume), docs=fixes.DOCS_RESERVE_PV)
    if not volume:
        return fail(
            pvc,
            f"{where} is Bound but names no PersistentVolume (spec.volumeName is empty); "
            "describe the claim and re-create it from a backup if the volume is gone",
            **broken,
        )
    pv = facts.get("PersistentVolume", volume)
    if pv is None:
        if not facts.has_collected("PersistentVolume"):
            return fail(
                pvc,
                f"{where} is Bound to PersistentVolume {volume}, which is not in the snapshot "
                "(the input has no PersistentVolumes: add them with kubectl get pv)",
                code=VOLUME_NOT_READ,
                fix=fixes.fix("kubectl get pv -o yaml > volumes.yaml"),
            )
        return fail(
            pvc,
            f"{where} is Bound to PersistentVolume {volume}, which does not exist: the claim "
            "will turn Lost and its data is gone; restore the volume or the data from a backup",
            code=VOLUME_GONE,
            fix=fixes.fix(describe, docs=fixes.DOCS_PV_PHASE),
        )
    pv_phase = k8s.dig(pv, "status", "phase", default="") or "unknown"
    ref_ns = k8s.dig(pv, "spec", "claimRef", "namespace", default="")
    ref_name = k8s.dig(pv, "spec", "claimRef", "name", default="")
    ref_uid = k8s.dig(pv, "spec", "claimRef", "uid", default="")
    pvc_uid = k8s.dig(pvc, "metadata", "uid", default="")
    if (ref_ns, ref_name) != (k8s.namespace(pvc), k8s.name(pvc)):
        holder = f"{ref_ns}/{ref_name}" if ref_name else "no claim"
        return fail(
            pvc,
            f"{where} is Bound to PersistentVolume {volume}, but that volume's claimRef names "
            f"{holder}; describe both and fix the binding before Kubeflow writes to it",
            **broken,
        )
    if ref_uid and pvc_uid and ref_uid != pvc_uid:
        return fail(
            pvc,
            f"{where} is Bound to PersistentVolume {volume}, but its claimRef uid {ref_uid} "
            f"belongs to an earlier claim of that name (this claim is {pvc_uid}); the volume "
            "holds another claim's data: re-bind it deliberately or provision a new one",
            **broken,
        )
    if pv_phase != "Bound":
        return fail(
            pvc,
            f"{where} is Bound but its PersistentVolume {volume} is {pv_phase}; "
            "describe the volume and repair or restore it",
            **broken,
        )
    capacity = k8s.dig(pvc, "status", "capacity", "storage", default="") or k8s.requested_storage(pvc)
    sc = k8s.dig(pv, "spec", "storageClassName", default="") or "no class"
    return ok(pvc, f"{where} is Bound to PersistentVolume {volume} ({capacity}, {sc})")


def _pending_diagnosis(facts: Facts, row: PlatformClaimFacts, pvc: Obj) -> _Diagnosis:
    cls = row.cls
    sc_name = row.class_name
    sc = row.storage_class
    describe = fixes.describe("pvc", row.claim.name, row.namespace)
    if cls is None or cls.source is ClassSource.NO_DEFAULT:
        return _Diagnosis(
            "it names no StorageClass and the cluster has no default class: mark one class default "
            "(see default_storage_class); Kubernetes 1.26+ then assigns it to the waiting claim",
            NO_DEFAULT,
            cause=Cause("KFS-DEFAULT-NONE", CLUSTER),
        )
    if cls.source is ClassSource.EMPTY:
        return _Diagnosis(
            'it asks for no StorageClass (storageClassName: "") and no matching PersistentVolume exists: '
            "create the volume by hand or remove the empty class name",
            EMPTY_CLASS,
            fixes.fix(describe, docs=fixes.DOCS_RESERVE_PV),
        )
    if sc is None:
        return _Diagnosis(
            f"its StorageClass {sc_name} does not exist: create that class or re-create the claim with an existing one",
            CLASS_MISSING,
            fixes.fix(describe, "kubectl get storageclass", docs=fixes.DOCS_STORAGE_CLASSES),
        )
    prov = k8s.provisioner(sc)
    sc_ref = Ref("StorageClass", k8s.name(sc))
    if prov == k8s.NO_PROVISIONER:
        is_default = k8s.name(sc) == facts.default.name
        return _Diagnosis(
            f"its StorageClass {sc_name} uses {prov}, so no volume is created: create a matching "
            "PersistentVolume by hand or use a dynamic class",
            STATIC_CLASS,
            fixes.fix(describe, docs=fixes.DOCS_STORAGE_CLASSES),
            Cause("KFS-DEFAULT-STATIC", sc_ref) if is_default and cls.source is ClassSource.DEFAULT else None,
        )
    if prov in storage.REMOVED_IN_TREE:
        return _Diagnosis(
            f"its StorageClass {sc_name} uses {prov}, a removed in-tree plugin "
            f"({storage.REMOVED_IN_TREE[prov]}): move the claim to a class with a CSI driver",
            REMOVED_PLUGIN,
            cause=Cause("KFS-PROVISIONER-REMOVED", sc_ref),
        )
    if "ReadWriteMany" in k8s.access_modes(pvc):
        verdict = facts.rwx_fs(sc)
        if verdict.capable is False:
            return _Diagnosis(
                f"it asks for ReadWriteMany, which StorageClass {sc_name} cannot serve "
                f"({verdict.reason}): request ReadWriteOnce or use an RWX-capable class",
                RWX_UNSUPPORTED,
                fixes.fix(fixes.get_yaml("pvc", row.claim.name, row.namespace), docs=fixes.DOCS_ACCESS_MODES),
            )
    failed = facts.provisioning_failure(pvc)
    if failed is not None:
        text = " ".join(k8s.dig(failed, "message", default="").split())
        return _Diagnosis(
            f"provisioning by {prov} failed ({text}): fix the cause in the provisioner or the class",
            PROVISIONING_FAILED,
            fixes.fix(describe, docs=fixes.DOCS_PV),
        )
    missing = facts.driver_missing(sc)
    driver_cause = Cause("KFS-PROVISIONER-MISSING", sc_ref) if missing else None
    check_driver = fixes.fix(describe, "kubectl get csidrivers", docs=fixes.DOCS_CSI_DRIVERS)
    if facts.never_picked_up(pvc):
        extra = f" (no CSIDriver {missing} is registered)" if missing else ""
        return _Diagnosis(
            f"the provisioner {prov} is not running or not registered{extra}: it never picked the claim "
            "up (only ExternalProvisioning events); check the driver's controller pods",
            NOT_RUNNING,
            check_driver,
            driver_cause,
        )
    if missing:
        return _Diagnosis(
            f"no CSIDriver {missing} is registered for StorageClass {sc_name}: install the driver",
            NOT_RUNNING,
            check_driver,
            driver_cause,
        )
    return _Diagnosis(
        f"StorageClass {sc_name} ({prov}) has not provisioned a volume yet; describe the claim",
        PENDING,
        fixes.fix(describe, docs=fixes.DOCS_PV),
    )


def _pending(facts: Facts, row: PlatformClaimFacts, pvc: Obj, where: str) -> Finding:
    events = facts.events("PersistentVolumeClaim", row.namespace, row.claim.name)
    if facts.waits_for_consumer(pvc):
        consumers = facts.claim_users(row.namespace, row.claim.name)
        waiting = ", ".join(sorted(k8s.name(p) for p in consumers))
        who = (
            f"pod {waiting} mounts it but is not scheduled"
            if waiting
            else "no pod that mounts it has been scheduled yet"
        )
        return warn(
            pvc,
            f"{where} is Pending: StorageClass {row.class_name} binds WaitForFirstConsumer and {who}; "
            f"it binds once a pod of {row.claim.workload} is scheduled, so check why it is not; "
            f"{_events_text(facts, events)}",
            code=WAITING,
            fix=fixes.fix(
                f"kubectl {fixes.ns_flag(row.namespace)}get pods -o wide",
                docs=fixes.DOCS_BINDING_MODE,
                text=f"describe the {row.claim.workload} pod: its events say why it is not scheduled",
            ),
        )
    diagnosis = _pending_diagnosis(facts, row, pvc)
    return fail(
        pvc,
        f"{where} is Pending: {diagnosis.text}; {_events_text(facts, events)}",
        code=diagnosis.code,
        fix=diagnosis.fix,
        caused_by=diagnosis.cause,
    )


def _pre_install(facts: Facts, ctx: Context) -> Finding:
    default = facts.platform.future_class
    why = f"Kubeflow is not installed in namespace {ctx.namespace} (none of its platform claims or workloads exist)"
    elsewhere = kubeflow.installed_elsewhere(facts.snapshot, ctx.namespace)
    if elsewhere:
        shown = ", ".join(elsewhere)
        why += f"; its platform claims or workloads exist in namespace {shown}: audit that with -n {elsewhere[0]}"
    if default is None:
        return skip(
            CLUSTER,
            "pre-install: Kubeflow's claims name no StorageClass and there is no default "
            "StorageClass, so they would stay Pending: mark one class default before "
            f"installing; {why}",
            code=NOT_INSTALLED,
        )
    name = k8s.name(default)
    return skip(
        CLUSTER,
        f"pre-install: Kubeflow's claims will use the default StorageClass {name} ({k8s.provisioner(default)}); {why}",
        code=NOT_INSTALLED,
    )


def _plan_fix(entry: PlanEntry) -> Fix:
    """What to do about a planned claim that will not bind, naming its namespace and class."""
    claim, name = entry.claim, entry.class_name or ""
    problem = entry.problem
    if problem is Problem.NO_DEFAULT:
        return fixes.fix(docs=fixes.DOCS_DEFAULT_CLASS, text="mark one StorageClass default before installing")
    if problem is Problem.CLASS_MISSING:
        return fixes.fix(
            "kubectl get storageclass",
            docs=fixes.DOCS_STORAGE_CLASSES,
            text=f"create StorageClass {name}, or give the claim an existing class in the manifests",
        )
    if problem is Problem.DRIVER_MISSING:
        return fixes.fix("kubectl get csidrivers", docs=fixes.DOCS_CSI_DRIVERS, text="install the class's CSI driver")
    if problem is Problem.REMOVED_PLUGIN:
        return fixes.fix(docs=fixes.DOCS_CSI_MIGRATION, text=f"give StorageClass {name} the plugin's CSI driver")
    if problem in (Problem.ACCESS_MODE, Problem.ACCESS_UNKNOWN, Problem.BLOCK_ON_FILE):
        return fixes.fix(
            docs=fixes.DOCS_ACCESS_MODES,
            text=f"give the claim a class that serves {'/'.join(claim.access_modes)} {claim.volume_mode} volumes",
        )
    if problem is Problem.QUOTA:
        ns = claim.namespace if "{" not in claim.namespace else ""
        return fixes.fix(
            f"kubectl {fixes.ns_flag(ns)}describe resourcequota" if ns else "",
            docs=fixes.DOCS_QUOTA,
            text="raise the quota's storage limits before installing",
        )
    if problem is Problem.CAPACITY:
        return fixes.fix(
            "kubectl get csistoragecapacities -A", docs=fixes.DOCS_CAPACITY, text="add capacity or use another class"
        )
    if problem is Problem.NO_STATIC_VOLUME:
        return fixes.fix(docs=fixes.DOCS_PV, text=f"create a matching PersistentVolume ({claim.size}) by hand")
    if problem is Problem.EXISTING:
        return fixes.fix(fixes.describe("pvc", claim.name, claim.namespace), docs=fixes.DOCS_PV_PHASE)
    if problem is Problem.DANGLING:
        return fixes.fix(
            docs=fixes.DOCS_PV, text="add the claim to the manifests, or remove the volume from the workload"
        )
    return fixes.fix(docs=fixes.DOCS_PV, text="correct the claim in the manifests")


def _planned(facts: Facts) -> Iterator[Finding]:
    """One finding per claim the install will create (--manifests), from its predicted outcome."""
    for entry in facts.platform.planned:
        status = entry.outcome.status
        problem = status in (Status.WARN, Status.FAIL)
        yield finding(
            status,
            entry.ref,
            f"{entry.label}, StorageClass {entry.class_text}, from {entry.claim.source}: "
            f"{entry.outcome.label}: {entry.reason}",
            code=PLAN_CODES[entry.problem] if problem else "",
            fix=_plan_fix(entry) if problem else None,
            caused_by=NO_DEFAULT_CAUSE if entry.problem is Problem.NO_DEFAULT else _rwx_none_cause(facts, entry),
        )


def _rwx_none_cause(facts: Facts, entry: PlanEntry) -> Cause | None:
    """KFS-RWX-NONE (rwx_available) when the planned claim fails only because no class, in the
    cluster or the manifests, can serve ReadWriteMany file systems."""
    claim = entry.claim
    if entry.problem is not Problem.ACCESS_MODE or "ReadWriteMany" not in claim.access_modes:
        return None
    if claim.volume_mode != "Filesystem" or not facts.no_rwx_class:
        return None
    if any(facts.rwx_fs(sc).capable is not False for sc in facts.plan.new_classes.values()):
        return None
    return RWX_NONE_CAUSE


def evaluate(facts: Facts, ctx: Context) -> Iterator[Finding]:
    platform = facts.platform
    yield from _planned(facts)
    if not platform.installed:
        if not facts.plan.from_manifests:
            yield _pre_install(facts, ctx)
        elif not platform.planned:
            yield skip(CLUSTER, f"pre-install: the manifests create no claims ({facts.plan.label})")
        return
    for row in platform.claims:
        where = f"{row.claim.role} claim {row.where}"
        pvc = row.pvc
        if pvc is None and platform.is_planned(row.namespace, row.claim.name):
            continue  # the manifests create it: its planned finding above says what will happen
        if pvc is None:
            yield fail(
                Ref("PersistentVolumeClaim", row.claim.name, row.namespace),
                f"{where} does not exist although {_installed_text(facts, row)}: {row.claim.workload} cannot "
                f"start; re-apply the Kubeflow manifests that create it ({row.claim.size}, "
                "ReadWriteOnce)",
                code=MISSING,
                fix=fixes.fix(docs=fixes.DOCS_KUBEFLOW_INSTALL, text="re-apply the Kubeflow manifests"),
            )
            continue
        phase = k8s.phase(pvc)
        if phase == "Bound":
            yield _bound(pvc, facts, where)
        elif phase == "Lost":
            volume = k8s.dig(pvc, "spec", "volumeName", default="") or "its volume"
            history = _events_text(facts, facts.events("PersistentVolumeClaim", row.namespace, row.claim.name))
            yield fail(
                pvc,
                f"{where} is Lost: PersistentVolume {volume} is gone with its data; restore it "
                f"from a backup or re-create the claim; {history}",
                code=LOST,
                fix=fixes.fix(fixes.describe("pvc", row.claim.name, row.namespace), docs=fixes.DOCS_PV_PHASE),
            )
        elif phase == "Pending":
            yield _pending(facts, row, pvc, where)
        else:
            yield fail(
                pvc,
                f"{where} is in unknown phase {phase}; describe the claim",
                code=UNKNOWN_PHASE,
                fix=fixes.fix(fixes.describe("pvc", row.claim.name, row.namespace)),
            )

    for subject, why in platform.absent_claims():
        yield skip(subject, why, code=COMPONENT_ABSENT)
    yield from _leftover_stores(facts, ctx)


def _installed_text(facts: Facts, row: PlatformClaimFacts) -> str:
    """What shows the missing claim's component installed, for the missing-claim message."""
    component = kubeflow.component_of(row.claim)
    if component is None:
        return "Kubeflow is installed"
    if kubeflow.component_installed(facts.snapshot, facts.namespace, component):
        return f"{component.name} is installed"
    why = facts.unreadable("Deployment") or "the input has none"
    return f"Kubeflow is installed (Deployments were not read: {why}; so {component.name} is taken to be installed)"


def _leftover_stores(facts: Facts, ctx: Context) -> Iterator[Finding]:
    rows = facts.platform.claims
    audited = {row.claim.name for row in rows if row.namespace == ctx.namespace}
    store = next((row.claim for row in rows if row.claim in (kubeflow.MINIO, kubeflow.SEAWEEDFS)), None)
    if store is None:
        return
    for other in (kubeflow.MINIO, kubeflow.SEAWEEDFS):
        if other.name in audited:
            continue
        pvc = facts.get("PersistentVolumeClaim", other.name, ctx.namespace)
        if pvc is not None:
            yield skip(
                pvc,
                f"claim {ctx.namespace}/{other.name} is left over from {other.role}, which is "
                f"not installed ({store.role} is): not demanded; delete it once its data is "
                "migrated",
                code=LEFTOVER,
            )


CHECK = Check(
    id="kubeflow_claims",
    title="Kubeflow's platform claims are Bound to healthy volumes",
    kinds=("PersistentVolumeClaim", "PersistentVolume", "StorageClass"),
    optional_kinds=("Event", "Pod", "Deployment", "CSIDriver"),
    evaluate=evaluate,
    description=__doc__ or "",
    codes=CODES,
    remediation=(
        "kubectl -n kubeflow describe pvc CLAIM shows the claim's events. Missing default class: mark one "
        "class default. Missing class: create it or re-create the claim. Provisioner not running: check the "
        "CSI driver's controller pods and its CSIDriver object. WaitForFirstConsumer: make sure the "
        "workload's pod can be scheduled. Lost claims and volumes bound elsewhere need a restore from backup."
    ),
)
