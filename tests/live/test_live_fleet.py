"""Several real clusters in one run: `kfstor audit --context A --context B ...` and `--all-contexts`.

Three real control planes run at once (conftest.fleet_control_planes: a healthy Portworx cluster
that passes, a cluster with no default class that fails, a Ceph cluster that passes with a
warning), plus contexts that cannot be audited: a port nothing listens on (connection refused),
a wrong token (401) and a server that accepts connections but never answers (a deadline).

Proven here, from kfstor's own output in every format:
- each cluster's part of the fleet result is exactly what a single-context audit of it reports;
- an unreachable cluster is reported with its reason and exit code 3 while the others are audited;
- the exit code is the worst of the clusters; --cluster-timeout bounds a hung cluster;
- `kfstor snapshot` with several contexts writes one file per context, each auditable with --from.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
from prometheus_client.parser import text_string_to_metric_families

from kfstor.render import sanitize

from .controlplane import ControlPlane

pytestmark = pytest.mark.live

KFSTOR = [sys.executable, "-c", "from kfstor.cli import main; main()"]
REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Fleet:
    planes: dict[str, ControlPlane]
    kubeconfig: Path
    down_url: str  # nothing listens there
    hung_url: str  # accepts connections, never answers


def write_kubeconfig(path: Path, entries: dict[str, tuple[str, Path, str]]) -> Path:
    """A kubeconfig with one context per entry: name -> (server, CA file, bearer token)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": server, "certificate-authority": str(ca)}}
            for name, (server, ca, _) in entries.items()
        ],
        "users": [{"name": name, "user": {"token": token}} for name, (_, _, token) in entries.items()],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}} for name in entries],
        "current-context": next(iter(entries)),
    }
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def fleet(fleet_control_planes: dict[str, ControlPlane], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    planes = fleet_control_planes
    any_ca = planes["px-healthy"].ca_path
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)  # the kernel completes handshakes; nobody ever reads a byte
    down_url = f"https://127.0.0.1:{_free_port()}"
    hung_url = f"https://127.0.0.1:{hung.getsockname()[1]}"
    entries = {name: (plane.url, plane.ca_path, plane.admin_token) for name, plane in planes.items()}
    entries["down"] = (down_url, any_ca, "unused")
    entries["badauth"] = (planes["px-healthy"].url, any_ca, "not-a-valid-token")
    entries["hung"] = (hung_url, any_ca, "unused")
    path = write_kubeconfig(tmp_path_factory.mktemp("fleet") / "kubeconfig.yaml", entries)
    try:
        yield Fleet(planes, path, down_url, hung_url)
    finally:
        hung.close()


def kfstor(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KFSTOR, *map(str, args)], capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False, env=env
    )


def fleet_validator() -> jsonschema.Draft202012Validator:
    schemas = [
        json.loads((REPO / "kfstor" / "schema" / name).read_text()) for name in ("fleet-v1.json", "report-v1.json")
    ]
    registry = referencing.Registry().with_resources(
        (schema["$id"], referencing.Resource.from_contents(schema)) for schema in schemas
    )
    return jsonschema.Draft202012Validator(schemas[0], registry=registry)


def single(fleet: Fleet, context: str) -> dict[str, Any]:
    """The single-context audit of one cluster, as today: the reference each fleet entry must equal."""
    result = kfstor("audit", "--kubeconfig", fleet.kubeconfig, "--context", context, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    assert doc["schema"] == "kfstor.report/v1"
    return doc


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A report without the fields that differ between two runs (times)."""
    source = {k: v for k, v in report["source"].items() if k != "collected_at"}
    return {**{k: v for k, v in report.items() if k not in ("created", "source")}, "source": source}


# --------------------------------------------------------------------------------------------------


def test_json_has_every_cluster_report_and_the_unreachable_one(fleet: Fleet, tmp_path: Path) -> None:
    contexts = ["px-healthy", "no-default", "ceph", "down"]
    args = [a for c in contexts for a in ("--context", c)]
    out = tmp_path / "fleet.json"
    result = kfstor("audit", "--kubeconfig", fleet.kubeconfig, *args, "--format", "json", "--json", out)
    assert result.returncode == 3, result.stderr  # the worst: one cluster unreachable
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert json.loads(out.read_text()) == doc
    fleet_validator().validate(doc)
    assert doc["schema"] == "kfstor.fleet/v1"
    assert [c["context"] for c in doc["clusters"]] == contexts
    assert [(c["result"], c["exit_code"]) for c in doc["clusters"]] == [
        ("passed", 0),
        ("failed", 1),
        ("passed", 0),
        ("unreachable", 3),
    ], [c.get("error") for c in doc["clusters"]]
    assert doc["summary"] == {"passed": 2, "failed": 1, "incomplete": 0, "unreachable": 1, "error": 0, "total": 4}
    assert doc["gate"] == {
        "fail_on": "fail",
        "passed": False,
        "exit_code": 3,
        "verdict": "Fleet storage readiness gate FAILED (4 clusters: 2 passed, 1 failed, 1 unreachable)",
    }
    down = doc["clusters"][3]
    assert down["server"] == fleet.down_url
    assert down["error"] == f"cannot reach the cluster at {fleet.down_url}: connection refused"
    assert "report" not in down
    for entry in doc["clusters"][:3]:
        plane = fleet.planes[entry["context"]]
        assert entry["server"] == plane.url
        report = entry["report"]
        assert report["source"]["context"] == entry["context"]
        assert report["source"]["description"] == plane.url
        assert report["source"]["server_version"] == plane.server_version
        assert comparable(report) == comparable(single(fleet, entry["context"]))
    statuses = {c["id"]: c["status"] for c in doc["clusters"][1]["report"]["checks"]}
    assert statuses["default_storage_class"] == "fail"
    assert statuses["kubeflow_claims"] == "fail"


@pytest.mark.parametrize(
    ("contexts", "code", "states"),
    [
        (["px-healthy", "ceph"], 0, ["passed", "passed"]),
        (["px-healthy", "no-default"], 1, ["passed", "failed"]),
        (["no-default", "badauth"], 3, ["failed", "unreachable"]),
        (["px-healthy", "px-healthy", "ceph"], 0, ["passed", "passed"]),  # named twice, audited once
    ],
)
def test_exit_code_is_the_worst_of_the_clusters(
    fleet: Fleet, contexts: list[str], code: int, states: list[str]
) -> None:
    args = [a for c in contexts for a in ("--context", c)]
    result = kfstor("audit", "--kubeconfig", fleet.kubeconfig, *args, "-o", "json")
    assert result.returncode == code, result.stderr
    doc = json.loads(result.stdout)
    assert [c["result"] for c in doc["clusters"]] == states
    if "badauth" in contexts:
        (bad,) = [c for c in doc["clusters"] if c["context"] == "badauth"]
        assert bad["error"] == (
            f"authentication failed at {fleet.planes['px-healthy'].url} (401 Unauthorized): "
            "check the credentials of your kubeconfig context"
        )


def test_all_contexts_table_overview_then_each_cluster(fleet: Fleet, tmp_path: Path) -> None:
    planes = fleet.planes
    kubeconfig = write_kubeconfig(
        tmp_path / "three.yaml",
        {
            "no-default": (planes["no-default"].url, planes["no-default"].ca_path, planes["no-default"].admin_token),
            "down": (fleet.down_url, planes["ceph"].ca_path, "unused"),
            "px-healthy": (planes["px-healthy"].url, planes["px-healthy"].ca_path, planes["px-healthy"].admin_token),
        },
    )
    # Wide enough for the servers' column (a narrower terminal puts each under its cluster).
    wide = {**os.environ, "COLUMNS": "200"}
    result = kfstor("audit", "--kubeconfig", kubeconfig, "--all-contexts", "--parallel", "2", env=wide)
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("kfstor 1.0.0 · fleet of 3 clusters · ")
    header = lines[2].split()
    assert header == ["CLUSTER", "SERVER", "RESULT", "ERROR", "FAIL", "NOT_EVALUATED", "WARN", "PASS", "SKIP", "TIME"]
    rows = [line.split() for line in lines[3:7]]
    # kubeconfig order; counts as each cluster's own report says
    alone = single(fleet, "no-default")
    counts = [str(alone["summary"][s]) for s in ("error", "fail", "not_evaluated", "warn", "pass", "skip")]
    assert rows[0][:9] == ["no-default", planes["no-default"].url, "failed", *counts]
    assert rows[1][:9] == ["down", fleet.down_url, "unreachable", "-", "-", "-", "-", "-", "-"]
    assert " ".join(rows[2]) == f"cannot reach the cluster at {fleet.down_url}: connection refused"
    assert rows[3][:3] == ["px-healthy", planes["px-healthy"].url, "passed"]
    titles = [line for line in lines if line.startswith("══ cluster ")]
    assert titles == [
        f"══ cluster no-default ({planes['no-default'].url}) ══",
        f"══ cluster down ({fleet.down_url}) ══",
        f"══ cluster px-healthy ({planes['px-healthy'].url}) ══",
    ]
    # each cluster's details are the single-cluster report, verdict included
    assert alone["gate"]["verdict"] in lines
    assert f"UNREACHABLE  cannot reach the cluster at {fleet.down_url}: connection refused" in lines
    assert lines[-1] == "Fleet storage readiness gate FAILED (3 clusters: 1 passed, 1 failed, 1 unreachable)"


def test_a_hung_cluster_is_cut_off_by_its_own_deadline(fleet: Fleet) -> None:
    started = time.monotonic()
    result = kfstor(
        "audit",
        "--kubeconfig",
        fleet.kubeconfig,
        "--context",
        "hung",
        "--context",
        "px-healthy",
        "--cluster-timeout",
        "3",
        "--format",
        "json",
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 3, result.stderr
    doc = json.loads(result.stdout)
    hung, healthy = doc["clusters"]
    assert (hung["context"], hung["result"], hung["exit_code"]) == ("hung", "unreachable", 3)
    assert hung["error"] == "no complete answer within --cluster-timeout 3s"
    assert 2.9 <= hung["duration_seconds"] < 6
    assert healthy["result"] == "passed"
    assert elapsed < 20  # not --request-timeout's 30 s: the cluster's deadline bounds every request


def test_every_format_in_one_fleet_run(fleet: Fleet, tmp_path: Path) -> None:
    files = {fmt: tmp_path / f"fleet.{fmt}" for fmt in ("html", "junit", "markdown", "prometheus", "json")}
    result = kfstor(
        "audit",
        "--kubeconfig",
        fleet.kubeconfig,
        "--context",
        "px-healthy",
        "--context",
        "no-default",
        "--context",
        "down",
        *(a for fmt, path in files.items() for a in (f"--{fmt}", str(path))),
        "--format",
        "table",
    )
    assert result.returncode == 3, result.stderr
    doc = json.loads(files["json"].read_text())
    checks = {c["context"]: {k["id"]: k["status"] for k in c["report"]["checks"]} for c in doc["clusters"][:2]}

    page = files["html"].read_text()
    assert (
        'id="fleet-verdict">Fleet storage readiness gate FAILED (3 clusters: 1 passed, 1 failed, 1 unreachable)' in page
    )
    for index, context in enumerate(["px-healthy", "no-default", "down"], start=1):
        assert f'<a href="#cluster-{index}">{context}</a>' in page
        assert f'<section class="cluster" id="cluster-{index}"' in page
    for index, context in enumerate(["px-healthy", "no-default"], start=1):
        for check_id, status in checks[context].items():
            assert f'<section class="check {status}" data-status="{status}" id="c{index}-check-{check_id}">' in page
    assert f'<div class="cluster-error">cannot reach the cluster at {fleet.down_url}: connection refused</div>' in page
    assert "<script src" not in page and "http-equiv" in page  # still self-contained

    root = ET.parse(files["junit"]).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    expected = {f"{c}/{k}" for c, ks in checks.items() for k in ks} | {"down"}
    assert set(suites) == expected
    (case,) = suites["down"].iter("testcase")
    error = case.find("error")
    assert error is not None
    assert error.get("message") == f"cannot reach the cluster at {fleet.down_url}: connection refused"
    failures = sum(int(s.get("failures") or 0) for s in suites.values())
    assert root.get("failures") == str(failures) and failures > 0
    assert suites["no-default/default_storage_class"].get("failures") == "1"

    md = files["markdown"].read_text()
    assert md.startswith(
        "## kfstor: Fleet storage readiness gate FAILED (3 clusters: 1 passed, 1 failed, 1 unreachable)\n"
    )
    px = doc["clusters"][0]["report"]["summary"]
    numbers = " | ".join(str(px[s]) for s in ("error", "fail", "not_evaluated", "warn", "pass", "skip"))
    # Markdown neutralizes links in cluster text (sanitize.markdown), URLs included.
    px_url, down_url = (sanitize.markdown(url) for url in (fleet.planes["px-healthy"].url, fleet.down_url))
    assert f"| `px-healthy` | {px_url} | passed | {numbers} | " in md
    assert f"| `down` | {down_url} | unreachable | — | — | — | — | — | — | " in md
    assert f"### Cluster `down`\n\n**unreachable**: cannot reach the cluster at {down_url}: connection refused\n" in md
    verdict = doc["clusters"][1]["report"]["gate"]["verdict"]
    assert f"### Cluster `no-default`\n\n#### kfstor: {verdict}" in md

    families = {f.name: f for f in text_string_to_metric_families(files["prometheus"].read_text())}
    up = {s.labels["cluster"]: s.value for s in families["kfstor_up"].samples}
    assert up == {"px-healthy": 1.0, "no-default": 1.0, "down": 0.0}
    codes = {s.labels["cluster"]: s.value for s in families["kfstor_exit_code"].samples}
    assert codes == {"px-healthy": 0.0, "no-default": 1.0, "down": 3.0}
    current = {
        (s.labels["cluster"], s.labels["check"]): s.labels["status"]
        for s in families["kfstor_check_status"].samples
        if s.value == 1
    }
    assert current == {(c, k): st for c, ks in checks.items() for k, st in ks.items()}
    assert {s.labels["cluster"] for s in families["kfstor_audit_duration_seconds"].samples} == set(up)


def test_snapshot_writes_one_file_per_context(fleet: Fleet, tmp_path: Path) -> None:
    out = tmp_path / "snaps"
    result = kfstor(
        "snapshot",
        "--kubeconfig",
        fleet.kubeconfig,
        "--context",
        "px-healthy",
        "--context",
        "no-default",
        "--context",
        "down",
        "-o",
        f"{out}/",
    )
    assert result.returncode == 3, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["no-default.yaml", "px-healthy.yaml"]
    assert f"kfstor: error: context down: cannot reach the cluster at {fleet.down_url}: connection refused" in (
        result.stderr.splitlines()
    )
    for context in ("px-healthy", "no-default"):
        offline = kfstor("audit", "--from", out / f"{context}.yaml", "--format", "json")
        live = single(fleet, context)
        assert offline.returncode == live["gate"]["exit_code"]
        offline_doc = json.loads(offline.stdout)
        assert offline_doc["source"]["context"] == context
        assert [(c["id"], c["status"], c["findings"]) for c in offline_doc["checks"]] == [
            (c["id"], c["status"], c["findings"]) for c in live["checks"]
        ]


def test_one_context_behaves_as_before(fleet: Fleet) -> None:
    result = kfstor("audit", "--kubeconfig", fleet.kubeconfig, "--context", "down")
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr == f"kfstor: error: cannot reach the cluster at {fleet.down_url}: connection refused\n"
    doc = single(fleet, "no-default")
    assert doc["gate"]["exit_code"] == 1 and doc["source"]["context"] == "no-default"


def test_an_unknown_context_is_a_usage_error_before_anything_runs(fleet: Fleet) -> None:
    result = kfstor("audit", "--kubeconfig", fleet.kubeconfig, "--context", "px-healthy", "--context", "nope")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "kfstor: error: kubeconfig has no context 'nope' "
        "(contexts: badauth, ceph, down, hung, no-default, px-healthy)\n"
    )
