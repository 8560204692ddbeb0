"""The live collector at its HTTP seam: a small local HTTP server speaks the Kubernetes list API.

No mocks: kfstor.collect.cluster loads a real kubeconfig, the kubernetes client makes real HTTP
requests, and the server below answers with pages, 403s and 404s like kube-apiserver does.
(The real kube-apiserver tests live in tests/live.)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kfstor.collect.cluster import PAGE_SIZE, ClusterError, KubeconfigError, Target, collect

TOKEN = "seam-test-token"


def _pvc(i: int) -> dict[str, Any]:
    return {
        "metadata": {"name": f"data-{i:04d}", "namespace": f"team-{i % 7}", "managedFields": [{"manager": "kubectl"}]},
        "spec": {"accessModes": ["ReadWriteOnce"]},
        "status": {"phase": "Bound"},
    }


class FakeAPI:
    """State of the fake server: which paths exist, which are forbidden, what was requested."""

    def __init__(self) -> None:
        self.pvcs = [_pvc(i) for i in range(PAGE_SIZE * 2 + 17)]  # three pages
        self.forbidden = {"/api/v1/persistentvolumes"}
        self.groups = ["storage.k8s.io", "apps"]  # no snapshot.storage.k8s.io, no kubeflow.org
        self.requests: list[tuple[str, str, dict[str, list[str]], str]] = []
        self.lock = threading.Lock()

    def respond(self, method: str, path: str, query: dict[str, list[str]], auth: str) -> tuple[int, Any]:
        with self.lock:
            self.requests.append((method, path, query, auth))
        if auth != f"Bearer {TOKEN}":
            return 401, {"kind": "Status", "code": 401, "reason": "Unauthorized"}
        if path == "/version":
            return 200, {"gitVersion": "v1.34.9-seam"}
        if path == "/apis":
            return 200, {"groups": [{"name": g, "versions": [{"version": "v1"}]} for g in self.groups]}
        if path in self.forbidden:
            return 403, {"kind": "Status", "code": 403, "reason": "Forbidden"}
        if path == "/api/v1/persistentvolumeclaims":
            limit = int(query.get("limit", ["0"])[0])
            start = int(query.get("continue", ["0"])[0] or 0)
            page = self.pvcs[start : start + limit]
            more = start + limit < len(self.pvcs)
            return 200, {
                "kind": "PersistentVolumeClaimList",
                "apiVersion": "v1",
                "metadata": {"continue": str(start + limit) if more else ""},
                "items": page,
            }
        if path.startswith(("/api/v1/", "/apis/storage.k8s.io/v1/", "/apis/apps/v1/")):
            return 200, {"kind": "List", "metadata": {}, "items": []}
        return 404, {"kind": "Status", "code": 404, "reason": "NotFound"}


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeAPI, str]]:
    api = FakeAPI()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, body = api.respond("GET", parts.path, parse_qs(parts.query), self.headers.get("Authorization", ""))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def kubeconfig(tmp_path: Path, server: str, token: str = TOKEN) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "seam",
                "clusters": [{"name": "seam", "cluster": {"server": server}}],
                "users": [{"name": "auditor", "user": {"token": token}}],
                "contexts": [{"name": "seam", "context": {"cluster": "seam", "user": "auditor"}}],
            }
        )
    )
    return str(path)


KINDS = ["PersistentVolumeClaim", "PersistentVolume", "StorageClass", "VolumeSnapshotClass", "Notebook"]


def test_pagination_reads_every_page_once(fake_api: tuple[FakeAPI, str], tmp_path: Path) -> None:
    api, server = fake_api
    snap = collect(KINDS, Target(kubeconfig(tmp_path, server)))
    names = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in snap.of("PersistentVolumeClaim")]
    assert len(names) == len(api.pvcs) == 1017
    assert len(set(names)) == 1017
    pvc_requests = [q for _, path, q, _ in api.requests if path == "/api/v1/persistentvolumeclaims"]
    assert [q.get("continue", [""])[0] for q in pvc_requests] == ["", "500", "1000"]
    assert all(q["limit"] == [str(PAGE_SIZE)] for q in pvc_requests)
    first = snap.get("PersistentVolumeClaim", "data-0000", "team-0")
    assert first is not None
    # Items get apiVersion/kind as kubectl shows them, and lose managedFields as kubectl hides them.
    assert first["kind"] == "PersistentVolumeClaim" and first["apiVersion"] == "v1"
    assert "managedFields" not in first["metadata"]


def test_forbidden_and_missing_apis_are_recorded_not_guessed(fake_api: tuple[FakeAPI, str], tmp_path: Path) -> None:
    api, server = fake_api
    snap = collect(KINDS, Target(kubeconfig(tmp_path, server)))
    assert snap.unavailable == {
        "PersistentVolume": "forbidden: list persistentvolumes",
        "VolumeSnapshotClass": "not installed: snapshot.storage.k8s.io API (volumesnapshotclasses) is not served",
        "Notebook": "not installed: kubeflow.org API (notebooks) is not served",
    }
    assert snap.collected == frozenset({"PersistentVolumeClaim", "StorageClass"})
    assert snap.source.server_version == "v1.34.9-seam"
    assert snap.source.context == "seam"
    # Discovery decided the optional APIs: their list paths were never requested.
    paths = {path for _, path, _, _ in api.requests}
    assert not any("snapshot.storage.k8s.io" in p or "kubeflow.org" in p for p in paths)
    assert {method for method, _, _, _ in api.requests} == {"GET"}


def test_forbidden_kind_makes_dependent_check_not_evaluated(fake_api: tuple[FakeAPI, str], tmp_path: Path) -> None:
    from kfstor.engine import runner
    from kfstor.engine.loader import load_checks

    _, server = fake_api
    checks = {c.id: c for c in load_checks(include_plugins=False).checks}
    snap = collect(["PersistentVolume", "StorageClass"], Target(kubeconfig(tmp_path, server)))
    report = runner.run([checks["kubeflow_claims"], checks["default_storage_class"]], snap)
    by_id = {r.id: r for r in report.results}
    assert by_id["kubeflow_claims"].status.value == "not_evaluated"
    assert by_id["kubeflow_claims"].reason == "forbidden: list persistentvolumes"
    assert by_id["default_storage_class"].status.value == "fail"  # judged: no StorageClass at all
    # The evaluated failure wins over the gap: exit 1, and the verdict names what was not seen.
    assert report.exit_status == 1
    assert report.verdict() == (
        "Storage readiness gate FAILED (1 fail, 1 not evaluated); "
        "incomplete: 1 check not evaluated: forbidden: list persistentvolumes"
    )


def test_wrong_token_is_an_authentication_error(fake_api: tuple[FakeAPI, str], tmp_path: Path) -> None:
    _, server = fake_api
    with pytest.raises(ClusterError, match=r"authentication failed at http://127\.0\.0\.1:\d+ \(401"):
        collect(KINDS, Target(kubeconfig(tmp_path, server, token="wrong")))


def test_connection_refused(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match=r"^cannot reach the cluster at http://127\.0\.0\.1:1: connection refused$"):
        collect(KINDS, Target(kubeconfig(tmp_path, "http://127.0.0.1:1"), request_timeout=5))


def test_missing_kubeconfig_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="no such file"):
        collect(KINDS, Target(str(tmp_path / "absent")))


def test_unknown_context_is_a_usage_error(fake_api: tuple[FakeAPI, str], tmp_path: Path) -> None:
    _, server = fake_api
    with pytest.raises(KubeconfigError, match="nope"):
        collect(KINDS, Target(kubeconfig(tmp_path, server), context="nope"))


def test_credentials_never_reach_the_source(tmp_path: Path) -> None:
    from kfstor.collect.cluster import _safe_url

    assert _safe_url("https://admin:s3cret@10.0.0.1:6443/path") == "https://10.0.0.1:6443/path"
    assert _safe_url("https://10.0.0.1:6443") == "https://10.0.0.1:6443"


def test_exec_auth_plugin_supplies_the_token(fake_api: tuple[FakeAPI, str], tmp_path: Path) -> None:
    # kubectl-style exec credential plugin: kfstor must run it and send the token it prints.
    plugin = tmp_path / "cred-plugin.sh"
    plugin.write_text(
        '#!/bin/sh\necho \'{"apiVersion": "client.authentication.k8s.io/v1", '
        f'"kind": "ExecCredential", "status": {{"token": "{TOKEN}"}}}}\'\n'
    )
    plugin.chmod(0o755)
    path = tmp_path / "kubeconfig-exec"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "exec",
                "clusters": [{"name": "c", "cluster": {"server": fake_api[1]}}],
                "users": [
                    {
                        "name": "u",
                        "user": {
                            "exec": {
                                "apiVersion": "client.authentication.k8s.io/v1",
                                "command": str(plugin),
                                "interactiveMode": "Never",
                            }
                        },
                    }
                ],
                "contexts": [{"name": "exec", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    snap = collect(["StorageClass"], Target(str(path)))
    assert snap.collected == frozenset({"StorageClass"})
    assert {auth for _, _, _, auth in fake_api[0].requests} == {f"Bearer {TOKEN}"}


def test_audit_lists_only_what_the_selected_checks_need(fake_api: tuple[FakeAPI, str], tmp_path: Path) -> None:
    import subprocess
    import sys

    api, server = fake_api
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kfstor",
            "audit",
            "--kubeconfig",
            kubeconfig(tmp_path, server),
            "--check",
            "default_storage_class",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr  # no StorageClass at all: fail
    listed = {path for _, path, query, _ in api.requests if "limit" in query}
    assert listed == {"/apis/storage.k8s.io/v1/storageclasses"}
