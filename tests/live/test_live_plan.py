"""Live end to end for the install plan (--manifests) against a real kube-apiserver.

The plan predicts what the API server will do with each planned claim; here the real server
decides: the DefaultStorageClass admission plugin assigns the class the plan named, and the
ResourceQuota admission plugin rejects the claim the plan said would exceed the quota. The live
audit's plan equals the plan of auditing the same cluster from its file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from .controlplane import Binaries, ControlPlane, start_control_plane
from .scenarios import SCENARIOS_DIR, seed_objects, seed_scenario
from .test_live_audit import kfstor

pytestmark = pytest.mark.live

MANIFESTS = Path(__file__).resolve().parents[1] / "manifests"
KF_2603 = MANIFESTS / "kubeflow-26.03.yaml"
VENDOR = MANIFESTS / "vendor-postgres.yaml"
VENDOR_CLUSTER = MANIFESTS / "cluster-vendor.yaml"
EKS = SCENARIOS_DIR / "pre-install-eks.yaml"


def plan_rows(report: dict[str, Any]) -> list[tuple[str, str, str | None, str]]:
    return [(f"{e['namespace']}/{e['name']}", e["size"], e["storage_class"], e["outcome"]) for e in report["plan"]]


def manifest_claims(path: Path) -> list[dict[str, Any]]:
    objects = []
    for doc in yaml.safe_load_all(path.read_text()):
        for obj in doc.get("items", [doc]) if doc else []:
            if obj.get("kind") == "PersistentVolumeClaim":
                objects.append(obj)
    return objects


def ensure_namespace(cp: ControlPlane, name: str) -> None:
    resp = cp.request(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    assert resp.status in (201, 409), resp.text


@pytest.fixture()
def eks(control_plane_binaries: Binaries) -> Iterator[ControlPlane]:
    cp = start_control_plane(binaries=control_plane_binaries)
    try:
        seed_scenario(cp, "pre-install-eks")
        yield cp
    finally:
        cp.stop()


def test_live_plan_matches_the_file_and_the_admission_plugin(eks: ControlPlane, tmp_path: Path) -> None:
    admin = str(eks.kubeconfig("admin"))
    live = kfstor("audit", "--kubeconfig", admin, "--manifests", str(KF_2603), "--format", "json", cwd=tmp_path)
    assert live.stderr == ""
    report = live.report()
    assert report["source"]["kind"] == "cluster"
    assert plan_rows(report) == [
        ("kubeflow/mysql-pv-claim", "20Gi", "gp3", "waits"),
        ("kubeflow/seaweedfs-pvc", "20Gi", "gp3", "waits"),
        ("kubeflow/katib-mysql", "10Gi", "gp3", "waits"),
        ("kubeflow-user-example-com/{notebook-name}-workspace", "5Gi", "gp3", "waits"),
        ("kubeflow-user-example-com/{experiment-name}-pbt", "5Gi", "gp3", "pending"),
    ]
    assert live.code == report["gate"]["exit_code"] == 1  # the PBT claim cannot bind on EBS
    offline = kfstor("audit", "--from", str(EKS), "--manifests", str(KF_2603), "--format", "json", cwd=tmp_path)
    assert offline.report()["plan"] == report["plan"]
    assert [(c["id"], c["status"]) for c in offline.report()["checks"]] == [
        (c["id"], c["status"]) for c in report["checks"]
    ]

    # Apply the manifests' claims: the real DefaultStorageClass admission plugin assigns each the
    # class the plan predicted.
    ensure_namespace(eks, "kubeflow")
    for claim in manifest_claims(KF_2603):
        stored = eks.create(claim)
        predicted = next(e for e in report["plan"] if e["name"] == claim["metadata"]["name"])
        assert stored["spec"].get("storageClassName") == predicted["storage_class"] == "gp3"

    # Now they exist: the plan leaves them as they are and says how they wait.
    again = kfstor("audit", "--kubeconfig", admin, "--manifests", str(KF_2603), "--format", "json", cwd=tmp_path)
    existing = {e["name"]: e for e in again.report()["plan"] if e["exists"]}
    assert set(existing) == {"mysql-pv-claim", "seaweedfs-pvc", "katib-mysql"}
    assert {e["outcome"] for e in existing.values()} == {"waits"}
    assert existing["katib-mysql"]["reason"] == "exists in the cluster and waits for its first consumer"


@pytest.fixture()
def vendor(control_plane_binaries: Binaries) -> Iterator[ControlPlane]:
    cp = start_control_plane(binaries=control_plane_binaries)
    try:
        seed_objects(cp, yaml.safe_load(VENDOR_CLUSTER.read_text())["items"])
        yield cp
    finally:
        cp.stop()


def test_live_quota_rejects_the_claim_the_plan_said_it_would(vendor: ControlPlane, tmp_path: Path) -> None:
    admin = str(vendor.kubeconfig("admin"))
    live = kfstor(
        "audit",
        "--kubeconfig",
        admin,
        "-n",
        "ml-platform",
        "--manifests",
        str(VENDOR),
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert live.stderr == ""
    by_name = {e["name"]: e for e in live.report()["plan"]}
    assert by_name["kfp-pg-data"]["outcome"] == "pending"
    assert "exceeds ResourceQuota ml-platform/storage" in by_name["kfp-pg-data"]["reason"]
    offline = kfstor(
        "audit",
        "--from",
        str(VENDOR_CLUSTER),
        "-n",
        "ml-platform",
        "--manifests",
        str(VENDOR),
        "-f",
        "json",
        cwd=tmp_path,
    )
    assert json.dumps(offline.report()["plan"]) == json.dumps(live.report()["plan"])
    # The planned premium-rwo claims ask 30Gi + 15Gi of a 40Gi quota: the server takes the first
    # and rejects the second, as "claims past the limit are rejected" says.
    first = next(c for c in manifest_claims(VENDOR) if c["metadata"]["name"] == "kfp-pg-data")
    vendor.create(first)
    second = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "pgdata-katib-db-0", "namespace": "ml-platform"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "premium-rwo",
            "resources": {"requests": {"storage": by_name["pgdata-katib-db-0"]["size"]}},
        },
    }
    resp = vendor.request("POST", "/api/v1/namespaces/ml-platform/persistentvolumeclaims", second)
    assert resp.status == 403, resp.text
    assert "exceeded quota: storage" in resp.text
