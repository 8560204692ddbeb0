"""Live access tests: kfstor is read-only, and needs exactly what `kfstor rbac` grants.

These tests run on their own control plane (not the session one), because they grant and
revoke RBAC for the `auditor` user and read the API server's audit log, where nobody else's
requests may interfere. A small realistic Kubeflow-on-Portworx cluster is seeded through the
API, with status written through the /status subresource as the missing controllers would.

Proven here, from kfstor's own output and from the API server's audit log:
- `kfstor rbac`'s ClusterRole, bound to User auditor, gives no 403 at all and the same checks
  as an admin's run; kfstor's requests (audit and snapshot, as auditor and as admin) are only
  get/list/watch and never touch Secrets.
- Without persistentvolumes and csidrivers, exactly the checks that need them are not evaluated,
  with the forbidden kind named, the rest are judged, and the exit code follows the gate contract:
  an evaluated failure is 1, otherwise the gaps are 4 (0 only with --allow-partial).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfstor.engine.loader import load_checks

from .controlplane import ControlPlane, install_crds, start_control_plane

pytestmark = pytest.mark.live

KFSTOR = [sys.executable, "-c", "from kfstor.cli import main; main()"]
RUN_TIMEOUT_S = 60
READ_VERBS = {"get", "list", "watch"}
NS = "kubeflow"
USER_NS = "kubeflow-user-example-com"
ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
DRIVER = "pxd.portworx.com"
# The claims Kubeflow 1.10 creates (MinIO variant), with their size and the Deployment using them.
PLATFORM_CLAIMS = {
    "mysql-pv-claim": ("20Gi", "mysql"),
    "minio-pvc": ("20Gi", "minio"),
    "katib-mysql": ("10Gi", "katib-mysql"),
}
# Checks whose required kinds include PersistentVolume or CSIDriver (see `kfstor checks`).
BUILTIN = load_checks(include_plugins=False).checks
NEEDS_PV = {c.id for c in BUILTIN if "PersistentVolume" in c.kinds}
NEEDS_CSIDRIVER = {c.id for c in BUILTIN if "CSIDriver" in c.kinds}


# --------------------------------------------------------------------------------------------------
# Seeding a small realistic cluster
# --------------------------------------------------------------------------------------------------


def _meta(name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **extra}
    if namespace:
        meta["namespace"] = namespace
    return meta


def _seed(cp: ControlPlane) -> None:
    for ns in (NS, USER_NS):
        cp.create(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": _meta(ns, labels={"app.kubernetes.io/part-of": "kubeflow"}),
            }
        )
    for i, zone in enumerate(ZONES):
        node = cp.create(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": _meta(
                    f"worker-{i}",
                    labels={
                        "kubernetes.io/hostname": f"worker-{i}",
                        "kubernetes.io/os": "linux",
                        "topology.kubernetes.io/region": "eu-west-1",
                        "topology.kubernetes.io/zone": zone,
                    },
                ),
            }
        )
        cp.set_status(
            node,
            {
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "kubelet is posting ready status",
                    }
                ]
            },
        )
    cp.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSIDriver",
            "metadata": _meta(DRIVER),
            "spec": {"attachRequired": False, "podInfoOnMount": False, "volumeLifecycleModes": ["Persistent"]},
        }
    )
    cp.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": _meta("px-db", annotations={"storageclass.kubernetes.io/is-default-class": "true"}),
            "provisioner": DRIVER,
            "reclaimPolicy": "Retain",
            "allowVolumeExpansion": True,
            "volumeBindingMode": "WaitForFirstConsumer",
            "parameters": {"repl": "3", "io_profile": "db_remote", "priority_io": "high"},
        }
    )
    cp.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": _meta("px-shared"),
            "provisioner": DRIVER,
            "reclaimPolicy": "Delete",
            "allowVolumeExpansion": True,
            "volumeBindingMode": "Immediate",
            "parameters": {"repl": "2", "sharedv4": "true"},
        }
    )
    cp.create(
        {
            "apiVersion": "snapshot.storage.k8s.io/v1",
            "kind": "VolumeSnapshotClass",
            "metadata": _meta("px-snapshots", annotations={"snapshot.storage.kubernetes.io/is-default-class": "true"}),
            "driver": DRIVER,
            "deletionPolicy": "Delete",
        }
    )

    for claim, (size, app) in PLATFORM_CLAIMS.items():
        # No storageClassName, as in Kubeflow's manifests: DefaultStorageClass admission fills it in.
        pvc = cp.create(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": _meta(claim, NS, labels={"application-crd-id": "kubeflow-pipelines"}),
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
            }
        )
        assert pvc["spec"]["storageClassName"] == "px-db"
        volume = f"pvc-{pvc['metadata']['uid']}"
        pv = cp.create(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": _meta(volume, annotations={"pv.kubernetes.io/provisioned-by": DRIVER}),
                "spec": {
                    "capacity": {"storage": size},
                    "accessModes": ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Retain",
                    "storageClassName": "px-db",
                    "volumeMode": "Filesystem",
                    "claimRef": {
                        "apiVersion": "v1",
                        "kind": "PersistentVolumeClaim",
                        "namespace": NS,
                        "name": claim,
                        "uid": pvc["metadata"]["uid"],
                    },
                    "csi": {"driver": DRIVER, "volumeHandle": volume, "fsType": "ext4"},
                },
            }
        )
        cp.set_status(pv, {"phase": "Bound"})
        cp.call("PATCH", f"/api/v1/namespaces/{NS}/persistentvolumeclaims/{claim}", {"spec": {"volumeName": volume}})
        cp.set_status(pvc, {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}})
        labels = {"app": app}
        template: dict[str, Any] = {
            "metadata": {"labels": labels},
            "spec": {
                "containers": [
                    {
                        "name": app,
                        "image": f"example.com/{app}:1",
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                    }
                ],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
            },
        }
        cp.create(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": _meta(app, NS, labels=labels),
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": labels},
                    "strategy": {"type": "Recreate"},
                    "template": template,
                },
            }
        )
        pod = cp.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": _meta(f"{app}-7d9f8b6c5d-x2x4q", NS, labels=labels),
                "spec": {**template["spec"], "nodeName": "worker-0"},
            }
        )
        cp.set_status(pod, {"phase": "Running"})
    # One user's scratch claim on the Immediate class never bound: provisioning keeps failing.
    cp.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta("scratch", USER_NS),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "px-shared",
                "resources": {"requests": {"storage": "5Gi"}},
            },
        }
    )
    cp.create(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": _meta("scratch.1800a1b2c3d4e5f7", USER_NS),
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": USER_NS,
                "name": "scratch",
            },
            "reason": "ProvisioningFailed",
            "type": "Warning",
            "count": 12,
            "message": 'failed to provision volume with StorageClass "px-shared": rpc error: '
            "code = Internal desc = pool capacity exhausted",
            "source": {"component": f"{DRIVER}_px-csi-ext-0"},
            "firstTimestamp": "2025-05-01T10:00:00Z",
            "lastTimestamp": "2025-05-01T11:00:00Z",
        }
    )
    cp.create(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": _meta("mysql-pv-claim.1800a1b2c3d4e5f6", NS),
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": NS,
                "name": "mysql-pv-claim",
            },
            "reason": "ProvisioningSucceeded",
            "type": "Normal",
            "count": 1,
            "message": f"Successfully provisioned volume for claim {NS}/mysql-pv-claim",
            "source": {"component": f"{DRIVER}_px-csi-ext-0"},
            "firstTimestamp": "2025-05-01T10:00:00Z",
            "lastTimestamp": "2025-05-01T10:00:00Z",
        }
    )


@pytest.fixture(scope="module")
def cp(control_plane: ControlPlane, request: pytest.FixtureRequest) -> Iterator[ControlPlane]:
    """A control plane of this module's own: grants to `auditor` and the audit log stay ours.

    It uses the session fixture's binaries, so finding them (and skipping, or failing under
    KFSTOR_REQUIRE_CLUSTER=1, when there are none) follows exactly the session's rules.
    """
    plane = start_control_plane(binaries=control_plane.binaries)
    failed = True
    try:
        install_crds(plane)
        _seed(plane)
        yield plane
        failed = False
    finally:
        # Keep logs and the audit log for a post-mortem when anything failed.
        plane.stop(keep_workdir=failed or request.session.testsfailed > 0)


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _kfstor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KFSTOR, *args], capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)


def _audit(kubeconfig: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = _kfstor("audit", "--kubeconfig", str(kubeconfig), "--format", "json", *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def _by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in report["checks"]}


def _poll(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _allowed(cp: ControlPlane, user: str, resource: str, group: str = "", verb: str = "list") -> bool:
    """Ask the authorizer (as admin, via SubjectAccessReview) whether ``user`` may ``verb`` ``resource``.

    Done as admin so that waiting for RBAC to settle adds nothing to the user's audit trail.
    """
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {"user": user, "resourceAttributes": {"verb": verb, "group": group, "resource": resource}},
    }
    answer = cp.call("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", review, expect=201)
    return bool(answer["status"].get("allowed"))


def _role_rules(role: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (group, resource) for rule in role["rules"] for group in rule["apiGroups"] for resource in rule["resources"]
    ]


@contextlib.contextmanager
def _granted(cp: ControlPlane, role: dict[str, Any], binding_name: str) -> Iterator[None]:
    """Create ``role`` and bind it to User auditor; afterwards delete both and wait until RBAC forgets."""
    cp.create(role)
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": binding_name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role["metadata"]["name"]},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "auditor"}],
    }
    try:
        cp.create(binding)
        granted = _role_rules(role)
        assert _poll(lambda: all(_allowed(cp, "auditor", r, g) for g, r in granted)), "RBAC grant never applied"
        yield
    finally:
        base = "/apis/rbac.authorization.k8s.io/v1"
        for path in (f"{base}/clusterrolebindings/{binding_name}", f"{base}/clusterroles/{role['metadata']['name']}"):
            resp = cp.request("DELETE", path)
            assert resp.status in (200, 404), resp.text
        assert _poll(lambda: not any(_allowed(cp, "auditor", r, g) for g, r in _role_rules(role))), (
            "RBAC grant never went away"
        )


def _printed_rbac() -> tuple[dict[str, Any], dict[str, Any]]:
    result = _kfstor("rbac")
    assert result.returncode == 0, result.stderr
    docs = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert [d["kind"] for d in docs] == ["ClusterRole", "ClusterRoleBinding"]
    role, binding = docs
    # The binding is an example for a ServiceAccount; the tests bind User auditor themselves.
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kfstor", "namespace": "kfstor"}]
    assert binding["roleRef"]["name"] == role["metadata"]["name"] == "kfstor-auditor"
    return role, binding


class _AuditWindow:
    """The API server's audit events written between enter and exit (the log backend is
    blocking: an event is in the file once the request completed; wait for it to settle)."""

    def __init__(self, cp: ControlPlane) -> None:
        self.cp = cp
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> _AuditWindow:
        self.start = len(self.cp.audit_events())
        return self

    def __exit__(self, *exc: object) -> None:
        previous = -1
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            count = len(self.cp.audit_events())
            if count == previous:
                break
            previous = count
            time.sleep(0.3)
        self.events = self.cp.audit_events()[self.start :]

    def by(self, username: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["user"]["username"] == username]


def _resource(event: dict[str, Any]) -> str:
    return str((event.get("objectRef") or {}).get("resource") or "")


def _code(event: dict[str, Any]) -> int:
    return int((event.get("responseStatus") or {}).get("code") or 0)


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------


def test_kfstor_rbac_role_is_enough_read_only_and_gives_the_admins_report(cp: ControlPlane, tmp_path: Path) -> None:
    role, _ = _printed_rbac()
    granted = {r for _, r in _role_rules(role)}
    assert "secrets" not in granted
    assert all(set(rule["verbs"]) == READ_VERBS for rule in role["rules"])
    # Without a grant the auditor really is restricted (so the later "no 403" means something).
    assert not _allowed(cp, "auditor", "storageclasses", "storage.k8s.io")

    with _AuditWindow(cp) as admin_window:
        admin_code, admin_report, admin_err = _audit(cp.kubeconfig("admin"))
    assert admin_err == ""

    snapshot = tmp_path / "auditor-snapshot.yaml"
    with _granted(cp, role, "kfstor-auditor-test"):
        with _AuditWindow(cp) as auditor_window:
            auditor_code, auditor_report, auditor_err = _audit(cp.kubeconfig("auditor"))
            snap = _kfstor("snapshot", "--kubeconfig", str(cp.kubeconfig("auditor")), "-o", str(snapshot))
        assert snap.returncode == 0, snap.stderr
        assert snap.stderr.startswith("kfstor: wrote "), snap.stderr

    # The report: judged on everything (nothing forbidden) and identical to the admin's.
    assert auditor_err == ""
    assert auditor_code == admin_code == 1  # the Pending scratch claim fails claim_health
    assert auditor_report["checks"] == admin_report["checks"]
    assert auditor_report["gate"] == admin_report["gate"]
    assert not [c["id"] for c in auditor_report["checks"] if "forbidden" in c["reason"]]
    statuses = {c["id"]: c["status"] for c in auditor_report["checks"]}
    assert statuses["kubeflow_claims"] == "pass"
    assert statuses["provisioner_installed"] == "pass"
    assert statuses["default_storage_class"] == "pass"
    assert statuses["claim_health"] == "fail"
    health = {f["object"]: f["status"] for f in _by_id(auditor_report)["claim_health"]["findings"]}
    assert health[f"PersistentVolumeClaim/{USER_NS}/scratch"] == "fail"
    claims = {f["object"]: f["status"] for f in _by_id(auditor_report)["kubeflow_claims"]["findings"]}
    for claim in PLATFORM_CLAIMS:
        assert claims[f"PersistentVolumeClaim/{NS}/{claim}"] == "pass"
    snapshot_doc = yaml.safe_load(snapshot.read_text())
    assert "forbidden" not in json.dumps(snapshot_doc.get("metadata", {}))
    code, from_snapshot, _ = _audit(cp.kubeconfig("admin"), "--from", str(snapshot))
    assert code == 1 and from_snapshot["checks"] == admin_report["checks"]

    # The audit log: every request the auditor made during kfstor's runs was a read, none was
    # refused, none touched Secrets; and it really listed every kind the role grants.
    auditor_events = auditor_window.by("auditor")
    assert auditor_events, "no auditor requests in the audit log"
    assert {e["userAgent"] for e in auditor_events} == {"kfstor"}
    assert sorted({e["verb"] for e in auditor_events}) == ["get", "list"]
    assert not [e["requestURI"] for e in auditor_events if e["verb"] not in READ_VERBS]
    assert not [e["requestURI"] for e in auditor_events if _code(e) == 403]
    assert {_code(e) for e in auditor_events} == {200}
    assert not [e["requestURI"] for e in auditor_events if _resource(e) == "secrets"]
    listed = {_resource(e) for e in auditor_events if e["verb"] == "list"}
    assert listed == granted
    # Two runs (audit, snapshot), each listing every granted kind once (one page each here).
    assert len([e for e in auditor_events if e["verb"] == "list"]) == 2 * len(granted)

    # The admin run: kfstor's requests (by User-Agent) are reads only and never touch Secrets.
    kfstor_events = [e for e in admin_window.events if e.get("userAgent") == "kfstor"]
    assert {e["user"]["username"] for e in kfstor_events} == {"admin"}
    assert {e["verb"] for e in kfstor_events} <= READ_VERBS
    assert not [e["requestURI"] for e in kfstor_events if _resource(e) == "secrets"]
    assert {_resource(e) for e in kfstor_events if e["verb"] == "list"} == granted
    # ... and over the whole life of this control plane, nothing with kfstor's User-Agent wrote.
    everything = [e for e in cp.audit_events() if e.get("userAgent") == "kfstor"]
    assert {e["verb"] for e in everything} <= READ_VERBS
    assert not [e for e in everything if _resource(e) == "secrets"]


def test_without_persistentvolumes_and_csidrivers_only_their_checks_are_not_evaluated(cp: ControlPlane) -> None:
    full, _ = _printed_rbac()
    removed = {"persistentvolumes", "csidrivers"}
    rules = []
    for rule in full["rules"]:
        kept = [r for r in rule["resources"] if r not in removed]
        if kept:
            rules.append({**rule, "resources": kept})
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "kfstor-auditor-limited"},
        "rules": rules,
    }
    assert {r for _, r in _role_rules(role)} == {r for _, r in _role_rules(full)} - removed

    with _granted(cp, role, "kfstor-auditor-limited-test"):
        assert not _allowed(cp, "auditor", "persistentvolumes")
        assert not _allowed(cp, "auditor", "csidrivers", "storage.k8s.io")
        with _AuditWindow(cp) as window:
            code, report, stderr = _audit(cp.kubeconfig("auditor"))
            rest_code, rest, rest_err = _audit(cp.kubeconfig("auditor"), "--skip", "claim_health")
            partial_code, partial, _ = _audit(cp.kubeconfig("auditor"), "--skip", "claim_health", "--allow-partial")
    assert stderr == ""
    # Revoked again: the shared `auditor` user keeps no grant from this test.
    assert not _allowed(cp, "auditor", "storageclasses", "storage.k8s.io")

    checks = _by_id(report)
    assert checks["kubeflow_claims"]["status"] == "not_evaluated"
    assert checks["kubeflow_claims"]["reason"] == "forbidden: list persistentvolumes"
    assert checks["kubeflow_claims"]["findings"] == []
    assert checks["provisioner_installed"]["status"] == "not_evaluated"
    assert checks["provisioner_installed"]["reason"] == "forbidden: list csidrivers"
    assert checks["provisioner_installed"]["findings"] == []
    not_evaluated = {cid for cid, c in checks.items() if c["status"] == "not_evaluated"}
    assert not_evaluated == NEEDS_PV | NEEDS_CSIDRIVER
    # The skips are the cluster's own (nothing to judge), exactly as in the admin's run.
    assert {cid for cid, c in checks.items() if c["status"] == "skip"} == {"notebook_volumes", "storage_capacity"}

    # The rest are judged on what could be read: exact statuses, objects and messages.
    assert checks["default_storage_class"]["status"] == "pass"
    assert [(f["object"], f["status"]) for f in checks["default_storage_class"]["findings"]] == [
        ("StorageClass/px-db", "pass")
    ]
    assert checks["volume_binding_mode"]["status"] == "pass"
    assert checks["portworx_parameters"]["status"] == "pass"
    assert {f["object"]: f["status"] for f in checks["portworx_parameters"]["findings"]} == {
        "StorageClass/px-db": "pass",
        "StorageClass/px-shared": "pass",
    }
    assert checks["stateful_storage"]["status"] == "pass"
    # claim_health still sees claims and events: the Pending scratch claim fails it, and the
    # volumes it could not read are named as not checked instead of being passed.
    health = {f["object"]: (f["status"], f["message"]) for f in checks["claim_health"]["findings"]}
    assert checks["claim_health"]["status"] == "fail"
    assert health[f"PersistentVolumeClaim/{USER_NS}/scratch"][0] == "fail"
    assert "pool capacity exhausted" in health[f"PersistentVolumeClaim/{USER_NS}/scratch"][1]
    assert health["cluster"] == ("skip", "PersistentVolumes were not checked (forbidden: list persistentvolumes)")
    statuses = [c["status"] for c in report["checks"]]
    assert report["summary"] == {
        **{s: statuses.count(s) for s in ("skip", "not_evaluated", "pass", "warn", "fail", "error")},
        "total": len(BUILTIN),
        "verdict": "failed",
        "root_causes": 0,
        "cleared_by_root_causes": 0,
    }
    assert [statuses.count(s) for s in ("not_evaluated", "fail", "warn", "error")] == [2, 1, 0, 0]

    # The gate contract (README "Exit codes"): with --fail-on fail, exit 1 when a check is fail or
    # error; else 4 when a check was not evaluated, unless --allow-partial; else 0. Skips never count.
    # Here claim_health fails, so 1 ...
    def expected_exit(rep: dict[str, Any], allow_partial: bool = False) -> int:
        statuses = {c["status"] for c in rep["checks"]}
        if statuses & {"fail", "error"}:
            return 1
        return 4 if "not_evaluated" in statuses and not allow_partial else 0

    assert code == report["gate"]["exit_code"] == expected_exit(report) == 1
    assert report["gate"]["passed"] is False
    passing = sum(c["status"] == "pass" for c in report["checks"])  # 8 of the built-ins; more if checks are added
    assert report["gate"]["verdict"] == (
        f"Storage readiness gate FAILED (1 fail, 2 not evaluated, {passing} pass, 2 skip); incomplete: "
        "2 checks not evaluated: forbidden: list csidrivers, persistentvolumes"
    )
    # ... and without it, the two checks not evaluated never pass the gate: 4, ...
    assert rest_code == rest["gate"]["exit_code"] == expected_exit(rest) == 4
    assert rest["gate"]["passed"] is False
    rest_passing = sum(c["status"] == "pass" for c in rest["checks"])
    assert rest["gate"]["verdict"] == (
        f"Storage readiness gate INCOMPLETE (2 not evaluated, {rest_passing} pass, 2 skip); incomplete: "
        "2 checks not evaluated: forbidden: list csidrivers, persistentvolumes"
    )
    assert rest["gate"]["not_evaluated"] == [
        {"id": "kubeflow_claims", "reason": "forbidden: list persistentvolumes"},
        {"id": "provisioner_installed", "reason": "forbidden: list csidrivers"},
    ]
    assert {c["id"]: c["status"] for c in rest["checks"]} == {
        cid: c["status"] for cid, c in checks.items() if cid != "claim_health"
    }
    assert rest_err == ""
    # ... unless the gap is accepted: 0, and the report still says what was not evaluated.
    assert partial_code == partial["gate"]["exit_code"] == expected_exit(partial, allow_partial=True) == 0
    assert partial["gate"]["allow_partial"] is True
    assert partial["gate"]["verdict"].endswith("(allowed by --allow-partial)")

    # The refusals the audit log shows are exactly the two withheld kinds, nothing else.
    refused = sorted((_resource(e), e["verb"]) for e in window.by("auditor") if _code(e) == 403)
    assert refused == [
        ("csidrivers", "list"),
        ("csidrivers", "list"),
        ("csidrivers", "list"),
        ("persistentvolumes", "list"),
        ("persistentvolumes", "list"),
        ("persistentvolumes", "list"),
    ]
    assert {e["verb"] for e in window.by("auditor")} <= READ_VERBS


def test_a_snapshot_by_a_user_who_can_read_nothing_audits_as_not_evaluated(cp: ControlPlane, tmp_path: Path) -> None:
    """Every kind forbidden: the snapshot is written and says so on stderr, and auditing it gives
    the live verdict (every check not evaluated, exit 4), not an "empty input" error."""
    assert not _allowed(cp, "auditor", "storageclasses", "storage.k8s.io")
    path = tmp_path / "nothing.yaml"
    taken = _kfstor("snapshot", "--kubeconfig", str(cp.kubeconfig("auditor")), "-o", str(path))
    assert taken.returncode == 0, taken.stderr
    lines = taken.stderr.splitlines()
    assert lines[0] == f"kfstor: wrote 0 objects to {path}"
    assert lines[1].startswith("kfstor: warning: could not read ")
    assert lines[1].endswith(
        "auditing this snapshot reports the checks that need them as not evaluated (exit 4); see kfstor rbac"
    )
    assert "StorageClass" in lines[1] and "PersistentVolumeClaim" in lines[1]
    live_code, live, _ = _audit(cp.kubeconfig("auditor"))
    offline = _kfstor("audit", "--from", str(path), "--format", "json")
    assert "Traceback" not in offline.stderr, offline.stderr
    assert (offline.returncode, live_code) == (4, 4), offline.stderr
    report = json.loads(offline.stdout)
    assert {c["id"]: c["status"] for c in report["checks"]} == {c["id"]: c["status"] for c in live["checks"]}
    assert {c["status"] for c in report["checks"]} == {"not_evaluated"}
    assert report["summary"]["verdict"] == "incomplete"
