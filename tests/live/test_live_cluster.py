"""Live: kfstor on states the cluster's own components produce, none written by the tests.

One test cluster (tests/live/cluster.py: kube-controller-manager, kube-scheduler, kwok nodes, the
kfstor-csi driver with external-provisioner, -attacher and -resizer) serves the session. Each
test creates claims and pods in its own namespace, waits for the components to act, then runs
`kfstor audit -f json` and asserts the statuses and messages of the findings about its objects.
Tests that change something cluster-wide (the default class, a stopped component) put it back.

Three of these states were misjudged while the checks knew them only from seeded statuses (the
newest event taken for the meaningful one, a rescheduled WaitForFirstConsumer claim taken for a
waiting one, a resize failing for capacity with no error condition taken for healthy); the tests
assert the corrected judgements.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .cluster import (
    DEFAULT_CLASS,
    DRIVER,
    MAX_VOLUME_SIZE,
    NODES,
    TOPOLOGY_KEY,
    ZONE_CAPACITY,
    Cluster,
    create_namespace,
    storage_class,
    wait_until,
)
from .controlplane import ControlPlane, pinned_k8s_version

pytestmark = pytest.mark.live

KFSTOR = [sys.executable, "-m", "kfstor"]
COMMAND_TIMEOUT_S = 120
SELECTED_NODE = "volume.kubernetes.io/selected-node"
DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
EXTERNAL_PROVISIONING = (
    f"Waiting for a volume to be created either by the external provisioner '{DRIVER}' or manually by the "
    "system administrator. If volume creation is delayed, please verify that the provisioner is running and "
    "correctly registered."
)
# A claim bigger than zone-b (and within the driver's per-volume maximum): provisioning there fails
# with ResourceExhausted however often it is retried.
TOO_BIG_FOR_ZONE_B = "60Gi"
ZONE_B = {"topology.kubernetes.io/zone": "zone-b"}
GI = 1 << 30


# --------------------------------------------------------------------------------------------------
# Objects and waits
# --------------------------------------------------------------------------------------------------


def claim(name: str, ns: str, size: str = "1Gi", cls: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if cls is not None:
        spec["storageClassName"] = cls
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def pod_spec(claim_name: str, node_selector: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [
            {"name": "app", "image": "registry.example/app:1", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
        ],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}],
        "terminationGracePeriodSeconds": 0,
    }
    if node_selector:
        spec["nodeSelector"] = node_selector
    return spec


def pod(name: str, ns: str, claim_name: str, node_selector: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": pod_spec(claim_name, node_selector),
    }


def hostname(node: str) -> dict[str, str]:
    return {"kubernetes.io/hostname": node}


def get_claim(cp: ControlPlane, ns: str, name: str) -> dict[str, Any]:
    result: dict[str, Any] = cp.call("GET", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{name}")
    return result


def get_pod(cp: ControlPlane, ns: str, name: str) -> dict[str, Any]:
    result: dict[str, Any] = cp.call("GET", f"/api/v1/namespaces/{ns}/pods/{name}")
    return result


def get_volume(cp: ControlPlane, name: str) -> dict[str, Any]:
    result: dict[str, Any] = cp.call("GET", f"/api/v1/persistentvolumes/{name}")
    return result


def phase(obj: dict[str, Any]) -> str:
    return str((obj.get("status") or {}).get("phase") or "")


def annotations(obj: dict[str, Any]) -> dict[str, str]:
    return dict(obj["metadata"].get("annotations") or {})


def events(cp: ControlPlane, ns: str, kind: str, name: str) -> list[dict[str, Any]]:
    items = cp.call("GET", f"/api/v1/namespaces/{ns}/events")["items"]
    return [e for e in items if e["involvedObject"]["kind"] == kind and e["involvedObject"]["name"] == name]


def wait_event(
    cp: ControlPlane, ns: str, kind: str, name: str, reason: str, timeout: float = 60.0, count: int = 1
) -> dict[str, Any]:
    """The event ``reason`` about the object, once it has been reported ``count`` times."""

    def found() -> dict[str, Any] | None:
        for ev in events(cp, ns, kind, name):
            if ev["reason"] == reason and (ev.get("count") or 1) >= count:
                return ev
        return None

    return wait_until(f"event {reason} (x{count}) on {kind} {ns}/{name}", found, timeout)


def wait_claim_bound(cp: ControlPlane, ns: str, name: str, timeout: float = 60.0) -> dict[str, Any]:
    return wait_until(
        f"claim {ns}/{name} Bound",
        lambda: c if phase(c := get_claim(cp, ns, name)) == "Bound" else None,
        timeout,
    )


def wait_pod_running(cp: ControlPlane, ns: str, name: str, timeout: float = 60.0) -> dict[str, Any]:
    return wait_until(
        f"pod {ns}/{name} Running",
        lambda: p if phase(p := get_pod(cp, ns, name)) == "Running" else None,
        timeout,
    )


def attachment(cp: ControlPlane, volume: str, node: str) -> dict[str, Any] | None:
    for va in cp.call("GET", "/apis/storage.k8s.io/v1/volumeattachments")["items"]:
        spec = va["spec"]
        if spec["source"].get("persistentVolumeName") == volume and spec["nodeName"] == node:
            result: dict[str, Any] = va
            return result
    return None


def wait_attached(cp: ControlPlane, volume: str, node: str, timeout: float = 60.0) -> dict[str, Any]:
    return wait_until(
        f"volume {volume} attached to {node}",
        lambda: va if (va := attachment(cp, volume, node)) and (va.get("status") or {}).get("attached") else None,
        timeout,
    )


def zone_of(node: str) -> str:
    return next(n.zone for n in NODES if n.name == node)


# --------------------------------------------------------------------------------------------------
# kfstor
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Audit:
    code: int
    report: dict[str, Any]
    stderr: str

    def check(self, check_id: str) -> dict[str, Any]:
        for check in self.report["checks"]:
            if check["id"] == check_id:
                result: dict[str, Any] = check
                return result
        raise AssertionError(f"no check {check_id} in the report")

    def finding(self, check_id: str, obj: str, code: str | None = None) -> dict[str, Any]:
        """The one finding of ``check_id`` about ``obj`` ("Kind/namespace/name", "Kind/name" or "Cluster"),
        with problem ``code`` when the object carries several problems."""
        found = [
            f
            for f in self.check(check_id)["findings"]
            if (f["object"] if f["kind"] != "Cluster" else "Cluster") == obj and code in (None, f.get("code"))
        ]
        listing = "\n  ".join(f"{f['status']} {f['object']}: {f['message']}" for f in self.check(check_id)["findings"])
        assert len(found) == 1, f"{check_id}: {len(found)} findings about {obj}; findings:\n  {listing}"
        return found[0]

    def objects(self, check_id: str) -> set[str]:
        return {str(f["object"]) for f in self.check(check_id)["findings"]}


def audit(cluster: Cluster, cwd: Path, *args: str) -> Audit:
    """`kfstor audit -f json` as the admin; cwd is a fresh directory, so no kfstor.yaml leaks in."""
    argv = [*KFSTOR, "audit", "--kubeconfig", str(cluster.kubeconfig("admin")), "-f", "json", *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, cwd=cwd, check=False)
    assert result.stdout.strip(), f"kfstor audit (exit {result.returncode}) wrote no JSON: {result.stderr}"
    return Audit(result.returncode, json.loads(result.stdout), result.stderr)


# --------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------


def _namespace_name(request: pytest.FixtureRequest) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower().removeprefix("test_")).strip("-")
    return f"{base[:50].rstrip('-')}-{int(time.time() * 1000) % 100000}"


@pytest.fixture
def ns(request: pytest.FixtureRequest, live_cluster: Cluster) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards (the namespace controller cleans up)."""
    name = _namespace_name(request)
    create_namespace(live_cluster.cp, name)
    yield name
    live_cluster.cp.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture
def cp(live_cluster: Cluster) -> ControlPlane:
    return live_cluster.cp


# --------------------------------------------------------------------------------------------------
# The cluster itself
# --------------------------------------------------------------------------------------------------


def test_the_cluster_runs_every_component_from_the_pinned_release(live_cluster: Cluster, cp: ControlPlane) -> None:
    assert set(live_cluster.components) == {
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
        "kfstor-csi",
        "csi-provisioner",
        "csi-attacher",
        "csi-resizer",
    }
    assert all(live_cluster.running(name) for name in live_cluster.components)
    assert cp.server_version == pinned_k8s_version()
    for personality in ("kube-controller-manager", "kube-scheduler"):
        version = subprocess.run(
            [str(live_cluster.workdir / "bin" / personality), "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert version == f"Kubernetes {pinned_k8s_version()}"
    nodes = {n["metadata"]["name"]: n for n in cp.call("GET", "/api/v1/nodes")["items"]}
    assert set(nodes) == {n.name for n in NODES}
    for spec in NODES:
        node = nodes[spec.name]
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", f"{spec.name}: {node['status']['conditions']}"
        assert node["metadata"]["labels"][TOPOLOGY_KEY] == spec.zone
        # kwok fills in capacity like a kubelet would.
        assert node["status"]["allocatable"]["pods"]
        csinode = cp.call("GET", f"/apis/storage.k8s.io/v1/csinodes/{spec.name}")
        assert csinode["spec"]["drivers"] == [{"name": DRIVER, "nodeID": spec.name, "topologyKeys": [TOPOLOGY_KEY]}]
    default = cp.call("GET", f"/apis/storage.k8s.io/v1/storageclasses/{DEFAULT_CLASS}")
    assert default["provisioner"] == DRIVER
    assert annotations(default)[DEFAULT_ANNOTATION] == "true"
    assert default["volumeBindingMode"] == "WaitForFirstConsumer"
    driver = cp.call("GET", f"/apis/storage.k8s.io/v1/csidrivers/{DRIVER}")
    assert driver["spec"]["attachRequired"] is True


# --------------------------------------------------------------------------------------------------
# Proof: the components do the work
# --------------------------------------------------------------------------------------------------


def test_proof_a_claim_without_class_and_its_pod_are_bound_and_scheduled_by_the_components(
    live_cluster: Cluster, cp: ControlPlane, ns: str, tmp_path: Path
) -> None:
    created = cp.create(claim("data", ns))
    cp.create(pod("app", ns, "data"))

    running = wait_pod_running(cp, ns, "app")
    bound = wait_claim_bound(cp, ns, "data")
    node = running["spec"]["nodeName"]
    assert node in {n.name for n in NODES}
    # The claim named no class: the DefaultStorageClass admission plugin gave it the default.
    assert created["spec"]["storageClassName"] == DEFAULT_CLASS
    # The scheduler picked the node for the WaitForFirstConsumer claim ...
    assert annotations(bound)[SELECTED_NODE] == node
    # ... external-provisioner created the volume in that node's zone ...
    pv = get_volume(cp, bound["spec"]["volumeName"])
    assert annotations(pv)["pv.kubernetes.io/provisioned-by"] == DRIVER
    assert pv["spec"]["csi"]["driver"] == DRIVER
    terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": TOPOLOGY_KEY, "operator": "In", "values": [zone_of(node)]}]}]
    assert pv["spec"]["claimRef"]["uid"] == created["metadata"]["uid"]
    # ... and the attach-detach controller with external-attacher attached it to the node.
    wait_attached(cp, pv["metadata"]["name"], node)
    succeeded = wait_event(cp, ns, "PersistentVolumeClaim", "data", "ProvisioningSucceeded")
    assert succeeded["message"] == f"Successfully provisioned volume {pv['metadata']['name']}"
    assert succeeded["source"]["component"].startswith(f"{DRIVER}_")

    # The API server's audit log: every status of these objects was written by a component, and
    # the only writes the test made were its two creates.
    writers: dict[tuple[str, str, str], set[str]] = {}
    for event in cp.audit_events():
        ref = event.get("objectRef") or {}
        if event["verb"] not in ("create", "update", "patch") or event.get("responseStatus", {}).get("code", 0) >= 300:
            continue
        ours = ref.get("namespace") == ns and ref.get("name") in ("data", "app")
        if ours or ref.get("name") == pv["metadata"]["name"]:
            key = (str(ref.get("resource")), str(ref.get("subresource") or ""), str(event["verb"]))
            writers.setdefault(key, set()).add(event["userAgent"].split("/")[0])
    by_test = {key for key, agents in writers.items() if "Python-urllib" in agents}
    assert by_test == {("persistentvolumeclaims", "", "create"), ("pods", "", "create")}, writers
    assert writers[("persistentvolumeclaims", "status", "update")] == {"kube-controller-manager"}
    assert writers[("persistentvolumes", "", "create")] == {"csi-provisioner"}
    assert writers[("pods", "binding", "create")] == {"kube-scheduler"}
    assert "kwok" in writers[("pods", "status", "patch")]

    result = audit(live_cluster, tmp_path)
    health = result.finding("claim_health", f"Namespace/{ns}")
    assert (health["status"], health["message"]) == ("pass", f"1 healthy claim in namespace {ns}: 1 Bound")


def test_proof_a_claim_naming_a_missing_class_gets_the_pv_controllers_own_event(
    live_cluster: Cluster, cp: ControlPlane, ns: str, tmp_path: Path
) -> None:
    missing = f"no-such-class-{ns}"
    cp.create(claim("data", ns, cls=missing))
    event = wait_event(cp, ns, "PersistentVolumeClaim", "data", "ProvisioningFailed")
    assert event["type"] == "Warning"
    assert event["source"]["component"] == "persistentvolume-controller"
    assert event["message"] == f'storageclass.storage.k8s.io "{missing}" not found'
    assert phase(get_claim(cp, ns, "data")) == "Pending"

    result = audit(live_cluster, tmp_path)
    finding = result.finding("claim_health", f"PersistentVolumeClaim/{ns}/data")
    assert finding["status"] == "fail"
    assert finding["message"] == (
        f"claim {ns}/data: Pending: StorageClass {missing} does not exist; "
        f'latest event ProvisioningFailed: storageclass.storage.k8s.io "{missing}" not found'
    )


# --------------------------------------------------------------------------------------------------
# Default class, provisioner, binding mode
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def no_default_class(cp: ControlPlane) -> Iterator[None]:
    """Take the default annotation off the cluster's default class for one test, then put it back."""
    path = f"/apis/storage.k8s.io/v1/storageclasses/{DEFAULT_CLASS}"
    cp.call("PATCH", path, {"metadata": {"annotations": {DEFAULT_ANNOTATION: "false"}}})
    try:
        yield
    finally:
        cp.call("PATCH", path, {"metadata": {"annotations": {DEFAULT_ANNOTATION: "true"}}})


def test_no_default_class_leaves_a_classless_claim_pending_until_one_is_marked_default(
    live_cluster: Cluster, cp: ControlPlane, ns: str, tmp_path: Path, no_default_class: None
) -> None:
    created = cp.create(claim("data", ns))
    assert "storageClassName" not in created["spec"]
    event = wait_event(cp, ns, "PersistentVolumeClaim", "data", "FailedBinding")
    assert (event["type"], event["source"]["component"]) == ("Normal", "persistentvolume-controller")
    assert event["message"] == "no persistent volumes available for this claim and no storage class is set"

    result = audit(live_cluster, tmp_path)
    default = result.finding("default_storage_class", "Cluster")
    assert default["status"] == "fail"
    assert default["message"].startswith("no StorageClass is marked default (classes: ")
    assert default["message"].endswith("); Kubeflow's claims will stay Pending")
    health = result.finding("claim_health", f"PersistentVolumeClaim/{ns}/data")
    assert health["status"] == "fail"
    assert health["message"] == (
        f"claim {ns}/data: Pending: it names no StorageClass and there is no default class; latest event "
        "FailedBinding: no persistent volumes available for this claim and no storage class is set"
    )

    # Kubernetes 1.28+: once a class is default again, the PV controller gives it to the claim.
    cp.call(
        "PATCH",
        f"/apis/storage.k8s.io/v1/storageclasses/{DEFAULT_CLASS}",
        {"metadata": {"annotations": {DEFAULT_ANNOTATION: "true"}}},
    )
    wait_until(
        "the default class assigned retroactively",
        lambda: get_claim(cp, ns, "data")["spec"].get("storageClassName") == DEFAULT_CLASS,
        30,
    )


@pytest.fixture
def provisioner_stopped(live_cluster: Cluster) -> Iterator[None]:
    live_cluster.stop_component("csi-provisioner")
    try:
        yield
    finally:
        live_cluster.start_component("csi-provisioner")


def test_a_stopped_provisioner_leaves_only_the_pv_controllers_external_provisioning_events(
    live_cluster: Cluster, cp: ControlPlane, ns: str, tmp_path: Path, provisioner_stopped: None
) -> None:
    # Katib's claim, so kubeflow_claims (with --namespace) judges it too.
    cp.create(claim("katib-mysql", ns, "10Gi"))
    cp.create(pod("katib-mysql-0", ns, "katib-mysql"))
    # Re-emitted on every resync of the PV controller while nobody provisions.
    event = wait_event(cp, ns, "PersistentVolumeClaim", "katib-mysql", "ExternalProvisioning", count=2)
    assert (event["type"], event["message"]) == ("Normal", EXTERNAL_PROVISIONING)
    pending = get_claim(cp, ns, "katib-mysql")
    assert phase(pending) == "Pending"
    assert annotations(pending)["volume.kubernetes.io/storage-provisioner"] == DRIVER
    node = annotations(pending)[SELECTED_NODE]
    # Nothing from the provisioner (WaitForFirstConsumer may come first, if the PV controller saw
    # the claim before the scheduler placed its pod).
    reasons = {e["reason"] for e in events(cp, ns, "PersistentVolumeClaim", "katib-mysql")}
    assert reasons - {"WaitForFirstConsumer"} == {"ExternalProvisioning"}

    result = audit(live_cluster, tmp_path, "--namespace", ns)
    katib = result.finding("kubeflow_claims", f"PersistentVolumeClaim/{ns}/katib-mysql")
    assert katib["status"] == "fail"
    assert katib["message"].startswith(
        f"Katib MySQL claim {ns}/katib-mysql is Pending: the provisioner {DRIVER} is not running or not "
        "registered: it never picked the claim up (only ExternalProvisioning events); check the driver's "
        f"controller pods; latest events: ExternalProvisioning: {EXTERNAL_PROVISIONING}"
    )
    health = result.finding("claim_health", f"PersistentVolumeClaim/{ns}/katib-mysql")
    assert health["status"] == "fail"
    assert health["message"] == (
        f"claim {ns}/katib-mysql: Pending although pod katib-mysql-0 uses it (WaitForFirstConsumer class "
        f"{DEFAULT_CLASS}); latest event ExternalProvisioning: {EXTERNAL_PROVISIONING}"
    )

    # Back up: the provisioner picks the claim up where the scheduler left it.
    live_cluster.start_component("csi-provisioner")
    bound = wait_claim_bound(cp, ns, "katib-mysql")
    assert annotations(bound)[SELECTED_NODE] == node
    result = audit(live_cluster, tmp_path, "--namespace", ns)
    katib = result.finding("kubeflow_claims", f"PersistentVolumeClaim/{ns}/katib-mysql")
    assert katib["status"] == "pass"
    assert katib["message"] == (
        f"Katib MySQL claim {ns}/katib-mysql is Bound to PersistentVolume {bound['spec']['volumeName']} "
        f"(10Gi, {DEFAULT_CLASS})"
    )


def test_wait_for_first_consumer_waits_without_a_pod_and_binds_with_one(
    live_cluster: Cluster, cp: ControlPlane, ns: str, tmp_path: Path
) -> None:
    cp.create(claim("data", ns))
    event = wait_event(cp, ns, "PersistentVolumeClaim", "data", "WaitForFirstConsumer", count=2)
    assert event["message"] == "waiting for first consumer to be created before binding"
    waiting = get_claim(cp, ns, "data")
    assert phase(waiting) == "Pending"
    assert SELECTED_NODE not in annotations(waiting)

    before = audit(live_cluster, tmp_path)
    health = before.finding("claim_health", f"Namespace/{ns}")
    assert (health["status"], health["message"]) == (
        "pass",
        f"1 healthy claim in namespace {ns}: 1 waiting for their first consumer",
    )
    assert f"PersistentVolumeClaim/{ns}/data" not in before.objects("claim_health")

    cp.create(pod("app", ns, "data"))
    bound = wait_claim_bound(cp, ns, "data")
    assert annotations(bound)[SELECTED_NODE] == wait_pod_running(cp, ns, "app")["spec"]["nodeName"]
    after = audit(live_cluster, tmp_path)
    health = after.finding("claim_health", f"Namespace/{ns}")
    assert (health["status"], health["message"]) == ("pass", f"1 healthy claim in namespace {ns}: 1 Bound")


# --------------------------------------------------------------------------------------------------
# A full zone: ResourceExhausted, and external-provisioner's reschedule
# --------------------------------------------------------------------------------------------------


def claim_writers(cp: ControlPlane, ns: str, name: str) -> dict[str, int]:
    """How many successful updates of the claim (not its status) each component made, by user agent."""
    counts: dict[str, int] = {}
    for event in cp.audit_events():
        ref = event.get("objectRef") or {}
        ok = event.get("responseStatus", {}).get("code", 0) < 300
        this_claim = (ref.get("resource"), ref.get("namespace"), ref.get("name")) == (
            "persistentvolumeclaims",
            ns,
            name,
        )
        if ok and this_claim and event["verb"] in ("update", "patch") and not ref.get("subresource"):
            agent = event["userAgent"].split("/")[0]
            counts[agent] = counts.get(agent, 0) + 1
    return counts


def provisioning_failures(cp: ControlPlane, ns: str, name: str) -> list[dict[str, Any]]:
    return [e for e in events(cp, ns, "PersistentVolumeClaim", name) if e["reason"] == "ProvisioningFailed"]


def normal_is_newest(cp: ControlPlane, ns: str) -> bool:
    found = events(cp, ns, "PersistentVolumeClaim", "mysql-pv-claim")
    failed = max((e["lastTimestamp"] for e in found if e["reason"] == "ProvisioningFailed"), default="")
    # RFC 3339 UTC stamps of one format compare as strings; one second later is strictly greater.
    return bool(failed) and any(e["type"] == "Normal" and e["lastTimestamp"] > failed for e in found)


@dataclass(frozen=True)
class Exhausted:
    ns: str
    pod: str
    failures: list[dict[str, Any]]
    scheduling: list[dict[str, Any]]
    writers: dict[str, int]
    claim: dict[str, Any]
    audit: Audit


@pytest.fixture(scope="module")
def exhausted(live_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exhausted]:
    """Pipelines' MySQL claim (a Deployment's pod, pinned to zone-b) too big for zone-b.

    The scheduler selects node-b1, external-provisioner's CreateVolume fails with
    ResourceExhausted, and the provisioner removes the selected-node annotation so the scheduler
    tries again, which fails the same way, forever. To audit the state between two attempts the
    scheduler is stopped once the provisioner has removed the annotation, and started again after.
    """
    cp = live_cluster.cp
    ns = f"exhausted-{int(time.time() * 1000) % 100000}"
    create_namespace(cp, ns)
    cp.create(claim("mysql-pv-claim", ns, TOO_BIG_FOR_ZONE_B))
    template = {"metadata": {"labels": {"app": "mysql"}}, "spec": pod_spec("mysql-pv-claim", ZONE_B)}
    cp.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "mysql", "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "mysql"}}, "template": template},
        }
    )
    wait_until(
        "two ResourceExhausted provisioning failures",
        lambda: sum(e.get("count") or 1 for e in provisioning_failures(cp, ns, "mysql-pv-claim")) >= 2,
        timeout=90,
    )
    live_cluster.stop_component("kube-scheduler")
    try:
        # A scheduling attempt may have just set the annotation again: the provisioner's next
        # failure removes it, and no scheduler puts it back now.
        current = wait_until(
            "the provisioner to remove the selected node",
            lambda: c if SELECTED_NODE not in annotations(c := get_claim(cp, ns, "mysql-pv-claim")) else None,
            timeout=60,
        )
        # Held still, the claim keeps its last ProvisioningFailed while the PV controller goes on
        # re-emitting its Normal event on each resync: wait until that is the newest, as it
        # usually is in a cluster whose scheduler retries every few seconds.
        wait_until("a Normal event newer than the last ProvisioningFailed", lambda: normal_is_newest(cp, ns), 30)
        pods = cp.call("GET", f"/api/v1/namespaces/{ns}/pods")["items"]
        assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
        pod_name = pods[0]["metadata"]["name"]
        failures = provisioning_failures(cp, ns, "mysql-pv-claim")
        scheduling = [e for e in events(cp, ns, "Pod", pod_name) if e["reason"] == "FailedScheduling"]
        result = audit(live_cluster, tmp_path_factory.mktemp("exhausted"), "--namespace", ns)
    finally:
        live_cluster.start_component("kube-scheduler")
    yield Exhausted(ns, pod_name, failures, scheduling, claim_writers(cp, ns, "mysql-pv-claim"), current, result)
    cp.request("DELETE", f"/api/v1/namespaces/{ns}")


def test_a_full_zone_fails_provisioning_with_resource_exhausted_and_reschedules(exhausted: Exhausted) -> None:
    assert ZONE_CAPACITY["zone-b"] == "40Gi"
    # Free bytes depend on what other tests left in zone-b; never enough for 60Gi.
    pattern = re.compile(
        rf"rpc error: code = ResourceExhausted desc = not enough free capacity for {60 * GI} bytes: "
        r"zone-b has (\d+) bytes free"
    )
    assert exhausted.failures
    for event in exhausted.failures:
        match = pattern.fullmatch(event["message"])
        assert match and int(match.group(1)) <= 40 * GI, event["message"]
        assert event["type"] == "Warning"
        assert event["source"]["component"].startswith(f"{DRIVER}_")
    # The scheduler set the selected node on every attempt and external-provisioner removed it
    # after every failure (updates of the claim, by user agent, from the audit log) ...
    assert exhausted.writers.get("kube-scheduler", 0) >= 2, exhausted.writers
    assert exhausted.writers.get("csi-provisioner", 0) >= 2, exhausted.writers
    # ... so between attempts the claim has no selected node.
    assert phase(exhausted.claim) == "Pending"
    assert SELECTED_NODE not in annotations(exhausted.claim)
    assert exhausted.scheduling, "the scheduler reported no FailedScheduling"
    assert {e["message"] for e in exhausted.scheduling} == {
        'running PreBind plugin "VolumeBinding": binding volumes: provisioning failed for PVC "mysql-pv-claim"'
    }
    # claim_health fails the claim (its consumer exists), whatever the message says.
    finding = exhausted.audit.finding("claim_health", f"PersistentVolumeClaim/{exhausted.ns}/mysql-pv-claim")
    assert finding["status"] == "fail"
    assert finding["message"].startswith(
        f"claim {exhausted.ns}/mysql-pv-claim: Pending although pod {exhausted.pod} uses it "
        f"(WaitForFirstConsumer class {DEFAULT_CLASS}); latest event "
    )


def test_claim_health_names_the_provisioning_failure_not_the_re_emitted_normal_event(exhausted: Exhausted) -> None:
    finding = exhausted.audit.finding("claim_health", f"PersistentVolumeClaim/{exhausted.ns}/mysql-pv-claim")
    assert finding["status"] == "fail"
    assert (
        "ProvisioningFailed: rpc error: code = ResourceExhausted desc = not enough free capacity" in finding["message"]
    )


def test_kubeflow_claims_fails_a_wffc_claim_whose_provisioning_failed(exhausted: Exhausted) -> None:
    finding = exhausted.audit.finding("kubeflow_claims", f"PersistentVolumeClaim/{exhausted.ns}/mysql-pv-claim")
    assert finding["status"] == "fail"
    assert finding["message"].startswith(
        f"Pipelines MySQL (KFP and ML Metadata) claim {exhausted.ns}/mysql-pv-claim is Pending: provisioning by "
        f"{DRIVER} failed (rpc error: code = ResourceExhausted desc = not enough free capacity"
    )


# --------------------------------------------------------------------------------------------------
# Multi-Attach, Released, resize
# --------------------------------------------------------------------------------------------------


def test_a_read_write_once_claim_on_two_nodes_gets_the_attach_detach_controllers_multi_attach_event(
    live_cluster: Cluster, cp: ControlPlane, ns: str, tmp_path: Path
) -> None:
    cp.create(claim("shared", ns))
    cp.create(pod("first", ns, "shared", hostname("node-a1")))
    volume = wait_claim_bound(cp, ns, "shared")["spec"]["volumeName"]
    wait_attached(cp, volume, "node-a1")
    # Same zone, so the scheduler may place it there; the volume is attached elsewhere.
    cp.create(pod("second", ns, "shared", hostname("node-a2")))
    event = wait_event(cp, ns, "Pod", "second", "FailedAttachVolume")
    assert (event["type"], event["source"]["component"]) == ("Warning", "attachdetach-controller")
    assert event["message"] == f'Multi-Attach error for volume "{volume}" Volume is already used by pod(s) first'
    assert get_pod(cp, ns, "second")["spec"]["nodeName"] == "node-a2"
    assert attachment(cp, volume, "node-a2") is None

    result = audit(live_cluster, tmp_path)
    finding = result.finding("rwx_claims", f"PersistentVolumeClaim/{ns}/shared")
    assert finding["status"] == "fail"
    assert finding["message"] == (
        "ReadWriteOnce claim shared is mounted by pods on 2 nodes (first (node node-a1), second (node node-a2)): "
        "the volume attaches to one node only, so the others fail with Multi-Attach (pod second: "
        f'FailedAttachVolume: Multi-Attach error for volume "{volume}" Volume is already used by pod(s) first); '
        "use a ReadWriteMany class, or one pod per claim (Recreate strategy, StatefulSet volumeClaimTemplates)"
    )


def test_deleting_a_claim_under_a_retain_volume_leaves_it_released(
    live_cluster: Cluster, cp: ControlPlane, ns: str, tmp_path: Path
) -> None:
    retain = f"retain-{ns}"
    cp.create(storage_class(retain, reclaim="Retain"))
    try:
        created = cp.create(claim("data", ns, cls=retain))
        cp.create(pod("app", ns, "data"))
        volume = wait_claim_bound(cp, ns, "data")["spec"]["volumeName"]
        cp.call("DELETE", f"/api/v1/namespaces/{ns}/pods/app")
        cp.call("DELETE", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data")
        # The PVC protection controller lets the claim go once no pod uses it; the PV
        # controller then releases the volume.
        released = wait_until(
            f"volume {volume} Released",
            lambda: pv if phase(pv := get_volume(cp, volume)) == "Released" else None,
            timeout=60,
        )
        assert cp.request("GET", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data").status == 404
        assert released["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
        assert released["spec"]["claimRef"]["uid"] == created["metadata"]["uid"]

        result = audit(live_cluster, tmp_path)
        finding = result.finding("claim_health", f"PersistentVolume/{volume}")
        assert finding["status"] == "warn"
        assert finding["message"] == (
            f"PersistentVolume {volume} is Released with reclaim policy Retain: it keeps the data of the deleted "
            f"claim {ns}/data, orphaned; to recover it, pre-bind the claim that should own it: set the volume's "
            f"spec.claimRef to that claim's namespace and name (no uid) and the claim's spec.volumeName to {volume} "
            "(clearing spec.claimRef instead lets any matching claim bind the data); or delete the volume and its "
            "backing storage"
        )
        cp.request("DELETE", f"/api/v1/persistentvolumes/{volume}")
    finally:
        cp.request("DELETE", f"/apis/storage.k8s.io/v1/storageclasses/{retain}")


def _bound_with_pod(cp: ControlPlane, ns: str, node_selector: dict[str, str] | None = None) -> dict[str, Any]:
    cp.create(claim("data", ns))
    cp.create(pod("app", ns, "data", node_selector))
    return wait_claim_bound(cp, ns, "data")


def _resize(cp: ControlPlane, ns: str, size: str) -> None:
    cp.call(
        "PATCH",
        f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data",
        {"spec": {"resources": {"requests": {"storage": size}}}},
    )


def test_a_resize_is_done_by_the_expand_controller_and_external_resizer(
    live_cluster: Cluster, cp: ControlPlane, ns: str, tmp_path: Path
) -> None:
    volume = _bound_with_pod(cp, ns)["spec"]["volumeName"]
    _resize(cp, ns, "2Gi")
    grown = wait_until(
        "claim capacity 2Gi",
        lambda: (
            c if ((c := get_claim(cp, ns, "data"))["status"].get("capacity") or {}).get("storage") == "2Gi" else None
        ),
        timeout=60,
    )
    assert get_volume(cp, volume)["spec"]["capacity"]["storage"] == "2Gi"
    assert not grown["status"].get("conditions")
    assert (
        wait_event(cp, ns, "PersistentVolumeClaim", "data", "VolumeResizeSuccessful")["message"]
        == "Resize volume succeeded"
    )
    assert (
        wait_event(cp, ns, "PersistentVolumeClaim", "data", "ExternalExpanding")["source"]["component"]
        == "volume_expand"
    )

    result = audit(live_cluster, tmp_path)
    health = result.finding("claim_health", f"Namespace/{ns}")
    assert (health["status"], health["message"]) == ("pass", f"1 healthy claim in namespace {ns}: 1 Bound")


def test_a_resize_beyond_the_drivers_maximum_is_infeasible(
    live_cluster: Cluster, cp: ControlPlane, ns: str, tmp_path: Path
) -> None:
    volume = _bound_with_pod(cp, ns)["spec"]["volumeName"]
    _resize(cp, ns, "80Gi")
    assert MAX_VOLUME_SIZE == "64Gi"
    failed = wait_until(
        "ControllerResizeInfeasible",
        lambda: (
            c
            if ((c := get_claim(cp, ns, "data"))["status"].get("allocatedResourceStatuses") or {}).get("storage")
            == "ControllerResizeInfeasible"
            else None
        ),
        timeout=60,
    )
    conditions = {c["type"]: c for c in failed["status"]["conditions"]}
    error = f"rpc error: code = OutOfRange desc = {80 * GI} bytes requested, volumes hold at most {64 * GI} bytes"
    assert conditions["ControllerResizeError"]["message"] == f"failed to expand pvc with {error}"
    assert get_volume(cp, volume)["spec"]["capacity"]["storage"] == "1Gi"

    result = audit(live_cluster, tmp_path)
    # Two problems, one finding each: the error condition, and the resize no driver can satisfy.
    failed_resize = result.finding("claim_health", f"PersistentVolumeClaim/{ns}/data", "KFS-PVC-RESIZE-FAILED")
    assert failed_resize["status"] == "fail"
    assert (
        failed_resize["message"]
        == f"claim {ns}/data: resize failed: ControllerResizeError (failed to expand pvc with {error})"
    )
    infeasible = result.finding("claim_health", f"PersistentVolumeClaim/{ns}/data", "KFS-PVC-RESIZE-INFEASIBLE")
    assert infeasible["status"] == "fail"
    assert infeasible["message"] == (
        f"claim {ns}/data: storage resize is ControllerResizeInfeasible: the driver can never satisfy it; lower "
        "spec.resources.requests back to the current size"
    )
    # The fix names the claim and its real current size: pasting it recovers the claim.
    patch = """'{"spec":{"resources":{"requests":{"storage":"1Gi"}}}}'"""
    assert infeasible["fix"]["commands"] == [f"kubectl -n {ns} patch pvc data -p {patch}"]


@dataclass(frozen=True)
class ResizeExhausted:
    ns: str
    claim: dict[str, Any]
    failure: dict[str, Any]
    audit: Audit


@pytest.fixture(scope="module")
def resize_exhausted(live_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ResizeExhausted]:
    """A 1Gi claim in zone-b asked to grow to 50Gi: more than the zone holds, within the maximum."""
    cp = live_cluster.cp
    ns = f"resize-exhausted-{int(time.time() * 1000) % 100000}"
    create_namespace(cp, ns)
    _bound_with_pod(cp, ns, ZONE_B)
    _resize(cp, ns, "50Gi")
    failure = wait_event(cp, ns, "PersistentVolumeClaim", "data", "VolumeResizeFailed", count=2)
    state = get_claim(cp, ns, "data")
    result = audit(live_cluster, tmp_path_factory.mktemp("resize"))
    yield ResizeExhausted(ns, state, failure, result)
    cp.request("DELETE", f"/api/v1/namespaces/{ns}")


def test_a_resize_failing_for_capacity_is_retried_without_an_error_condition(resize_exhausted: ResizeExhausted) -> None:
    failure = resize_exhausted.failure
    assert (failure["type"], failure["source"]["component"]) == ("Warning", "external-resizer csi.kfstor.test")
    assert "rpc error: code = ResourceExhausted desc = not enough free capacity in zone-b" in failure["message"]
    status = resize_exhausted.claim["status"]
    # ResourceExhausted is not final for external-resizer: it keeps retrying, and writes no
    # ControllerResizeError condition (compare the infeasible resize above).
    assert status["allocatedResourceStatuses"] == {"storage": "ControllerResizeInProgress"}
    assert status["allocatedResources"] == {"storage": "50Gi"}
    assert status["capacity"] == {"storage": "1Gi"}
    assert [c["type"] for c in status.get("conditions") or []] == ["Resizing"]


def test_claim_health_reports_a_resize_failing_for_capacity(resize_exhausted: ResizeExhausted) -> None:
    ns = resize_exhausted.ns
    finding = resize_exhausted.audit.finding("claim_health", f"PersistentVolumeClaim/{ns}/data")
    assert finding["status"] == "fail"
    assert "VolumeResizeFailed" in finding["message"] and "ResourceExhausted" in finding["message"]
