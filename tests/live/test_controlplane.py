"""Live tests of the test control plane itself: it must behave like a real cluster
in exactly the ways kfstor's other live tests rely on.

Every test creates uniquely named objects, so the tests are independent of order
and of whatever else ran in the same session.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from .controlplane import (
    ControlPlane,
    install_crds,
    pinned_k8s_version,
)

pytestmark = pytest.mark.live


def _name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def _namespace(cp: ControlPlane) -> str:
    name = _name("t")
    cp.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def _storage_class(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": "example.com/fake",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    }


def _poll(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    """RBAC and the audit log update asynchronously (milliseconds, normally)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_version_is_the_pinned_release(control_plane: ControlPlane) -> None:
    if not control_plane.binaries.pinned_build:
        pytest.skip(f"binaries from {control_plane.binaries.source} are not the pinned kfstor-testcp build")
    pinned = pinned_k8s_version()
    version = control_plane.call("GET", "/version")
    assert version["gitVersion"] == pinned
    assert (version["major"], version["minor"]) == ("1", pinned.split(".")[1])
    assert version["gitTreeState"] == "clean"
    assert control_plane.server_version == pinned


def test_admin_seeds_a_bound_pvc_through_the_status_subresource(control_plane: ControlPlane) -> None:
    cp = control_plane
    ns = _namespace(cp)
    sc_name = _name("sc")
    cp.create(_storage_class(sc_name))
    pvc = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": ns},
        "spec": {
            "storageClassName": sc_name,
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
        },
    }
    created = cp.create(pvc)
    # The apiserver drops status on create and defaults the phase; only the (absent)
    # PV binder would move it on.
    assert cp.get(pvc)["status"] == {"phase": "Pending"}
    # StorageObjectInUseProtection is disabled, so nothing would block deletion later.
    assert created["metadata"].get("finalizers", []) == []

    cp.set_status(pvc, {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]})

    stored = cp.get(pvc)
    assert stored["status"] == {
        "phase": "Bound",
        "capacity": {"storage": "1Gi"},
        "accessModes": ["ReadWriteOnce"],
    }
    assert stored["spec"]["storageClassName"] == sc_name
    listed = cp.call("GET", f"/api/v1/namespaces/{ns}/persistentvolumeclaims")
    assert [(p["metadata"]["name"], p["status"]["phase"]) for p in listed["items"]] == [("data", "Bound")]

    # Without the protection finalizer a delete completes at once, controller or not.
    cp.call("DELETE", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data")
    assert cp.request("GET", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data").status == 404


def test_auditor_is_limited_by_rbac(control_plane: ControlPlane) -> None:
    cp = control_plane
    pvs = "/api/v1/persistentvolumes"
    assert cp.request("GET", pvs, user="auditor").status == 403

    role, binding = _name("pv-reader"), _name("pv-reader-auditor")
    cp.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": role},
            "rules": [{"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["get", "list"]}],
        }
    )
    cp.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": binding},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "auditor"}],
        }
    )
    try:
        assert _poll(lambda: cp.request("GET", pvs, user="auditor").status == 200)
        assert cp.call("GET", pvs, user="auditor")["kind"] == "PersistentVolumeList"
        # The grant is exactly that: pods stay forbidden.
        assert cp.request("GET", "/api/v1/pods", user="auditor").status == 403
    finally:
        # Leave the session's auditor as unprivileged as we found it.
        cp.call("DELETE", f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{binding}")
        cp.call("DELETE", f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{role}")
    assert _poll(lambda: cp.request("GET", pvs, user="auditor").status == 403)


def test_audit_log_records_who_listed_what(control_plane: ControlPlane) -> None:
    cp = control_plane
    resp = cp.request("GET", "/api/v1/persistentvolumes", user="auditor")
    audit_id = resp.headers["Audit-Id"]

    def event() -> dict[str, Any] | None:
        return next((e for e in cp.audit_events() if e["auditID"] == audit_id), None)

    assert _poll(lambda: event() is not None, timeout=5.0), f"no audit event {audit_id}"
    found = event()
    assert found is not None
    assert found["level"] == "Metadata"
    assert found["stage"] == "ResponseComplete"
    assert found["user"]["username"] == "auditor"
    assert found["verb"] == "list"
    assert found["objectRef"]["resource"] == "persistentvolumes"
    assert found["responseStatus"]["code"] == resp.status
    # Metadata level: no request or response bodies.
    assert "requestObject" not in found
    assert "responseObject" not in found


def test_crds_for_snapshots_and_notebooks(control_plane: ControlPlane) -> None:
    cp = control_plane
    install_crds(cp)
    for crd in ("volumesnapshotclasses.snapshot.storage.k8s.io", "notebooks.kubeflow.org"):
        conditions = cp.wait_for_crd_established(crd)["status"]["conditions"]
        assert {"Established": "True"}.items() <= {c["type"]: c["status"] for c in conditions}.items()

    vsc_name = _name("vsc")
    cp.create(
        {
            "apiVersion": "snapshot.storage.k8s.io/v1",
            "kind": "VolumeSnapshotClass",
            "metadata": {"name": vsc_name},
            "driver": "hostpath.csi.k8s.io",
            "deletionPolicy": "Delete",
            "parameters": {"tier": "fast"},
        }
    )
    classes = cp.call("GET", "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses")["items"]
    mine = [c for c in classes if c["metadata"]["name"] == vsc_name]
    assert [(c["driver"], c["deletionPolicy"], c["parameters"]) for c in mine] == [
        ("hostpath.csi.k8s.io", "Delete", {"tier": "fast"})
    ]
    # The schema is enforced, so seeded fixtures cannot drift from the real API's shape.
    bad = {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshotClass",
        "metadata": {"name": _name("bad")},
        "driver": "x",
        "deletionPolicy": "Sometimes",
    }
    assert cp.request("POST", "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses", bad).status == 422

    ns = _namespace(cp)
    notebook = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "metadata": {"name": "nb", "namespace": ns},
        "spec": {"template": {"spec": {"containers": [{"name": "nb", "image": "jupyter"}]}}},
    }
    cp.create(notebook)
    cp.set_status(notebook, {"readyReplicas": 1})
    for version in ("v1", "v1beta1"):
        items = cp.call("GET", f"/apis/kubeflow.org/{version}/namespaces/{ns}/notebooks")["items"]
        assert [(n["apiVersion"], n["metadata"]["name"], n["status"]) for n in items] == [
            (f"kubeflow.org/{version}", "nb", {"readyReplicas": 1})
        ]
        assert items[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "jupyter"


def test_kubectl_works_with_the_admin_kubeconfig(control_plane: ControlPlane) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    sc_name = _name("sc")
    control_plane.create(_storage_class(sc_name))
    result = subprocess.run(
        [kubectl, "--kubeconfig", str(control_plane.kubeconfig("admin")), "get", "sc", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    names = {item["metadata"]["name"] for item in json.loads(result.stdout)["items"]}
    assert sc_name in names


def test_python_client_honours_the_auditor_kubeconfig(control_plane: ControlPlane) -> None:
    # kfstor talks to clusters through the official client; its kubeconfig loader
    # must accept ours (CA file + bearer token) and map 403s to ApiException.
    client = pytest.importorskip("kubernetes.client")
    config = pytest.importorskip("kubernetes.config")
    api_client = config.new_client_from_config(config_file=str(control_plane.kubeconfig("auditor")))
    with api_client:
        version = client.VersionApi(api_client).get_code()
        assert version.git_version == control_plane.server_version
        with pytest.raises(client.ApiException) as excinfo:
            client.CoreV1Api(api_client).list_persistent_volume()
        assert excinfo.value.status == 403
