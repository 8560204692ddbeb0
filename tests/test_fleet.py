"""Fleet runs without a cluster: the scheduler (parallelism, deadlines, error isolation), the
combined gate, every fleet format and the Prometheus exposition, on real reports of the shipped
example snapshots. Live fleets of real control planes: tests/live/test_live_fleet.py."""

from __future__ import annotations

import io
import json
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import referencing
from prometheus_client.parser import text_string_to_metric_families

from kfstor.collect.cluster import ClusterError, KubeconfigError
from kfstor.collect.contexts import KubeContext, list_contexts, select
from kfstor.collect.snapshot import from_files
from kfstor.engine import fleet
from kfstor.engine.loader import load_checks
from kfstor.engine.runner import run
from kfstor.model import FailOn, Status, worst_exit
from kfstor.render import prometheus
from kfstor.render.fleet import render, rendered
from kfstor.render.fleet_report import ClusterRun, FleetReport
from kfstor.render.report import Report

REPO = Path(__file__).resolve().parents[1]
NOW = "2026-05-01T12:00:00Z"


def example(name: str, context: str) -> Report:
    from dataclasses import replace

    checks = load_checks(include_plugins=False).checks
    report = run(checks, from_files([str(REPO / "examples" / name)]), now=NOW)
    return replace(report, source=replace(report.source, context=context))


@pytest.fixture(scope="module")
def fleet_report() -> FleetReport:
    good = example("portworx-kubeflow-1.10.yaml", "prod")
    bad = example("no-default-pending.yaml", "dev")
    runs = (
        ClusterRun("prod", "https://prod.example:6443", good.exit_status, 1.25, report=good),
        ClusterRun("dev", "https://dev.example:6443", bad.exit_status, 0.5, report=bad),
        ClusterRun(
            "dr",
            "https://dr.example:6443",
            3,
            30.0,
            error="cannot reach the cluster at https://dr.example:6443: connection refused",
        ),
    )
    return FleetReport(runs=runs, created=NOW, version="1.0.0", fail_on=FailOn.FAIL, duration=30.5)


# --- the combined gate -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "worst"),
    [
        ([], 0),
        ([0, 0], 0),
        ([0, 1], 1),
        ([1, 3, 0], 3),
        ([3, 2, 1], 2),
        ([0, 4], 4),
        ([4, 3], 3),
        # a failure is certain, a gap is not: 1 wins over 4, as it does for one cluster
        ([1, 4], 1),
        ([4, 1, 0], 1),
        ([4, 2], 2),
    ],
)
def test_worst_exit_orders_pass_incomplete_gate_unreachable_usage(codes: list[int], worst: int) -> None:
    assert worst_exit(codes) == worst


def test_fleet_verdict_and_exit(fleet_report: FleetReport) -> None:
    assert [r.state for r in fleet_report.runs] == ["passed", "failed", "unreachable"]
    assert fleet_report.exit_status == 3
    assert (
        fleet_report.verdict() == "Fleet storage readiness gate FAILED (3 clusters: 1 passed, 1 failed, 1 unreachable)"
    )


def test_a_failed_cluster_outranks_an_incomplete_one(fleet_report: FleetReport) -> None:
    from dataclasses import replace

    prod, dev, _ = fleet_report.runs
    assert dev.exit_code == 1
    blind = replace(prod, context="blind", exit_code=4)  # its checks could not look: exit 4
    assert blind.state == "incomplete"
    both = replace(fleet_report, runs=(blind, dev))
    assert both.exit_status == 1  # as for one cluster: a failure is certain, a gap is not
    assert both.verdict() == "Fleet storage readiness gate FAILED (2 clusters: 1 failed, 1 incomplete)"
    alone = replace(fleet_report, runs=(prod, blind))
    assert alone.exit_status == 4
    assert alone.verdict() == "Fleet storage readiness gate FAILED (2 clusters: 1 passed, 1 incomplete)"


# --- the scheduler -----------------------------------------------------------------------------

MEMBERS = [KubeContext(f"c{i}", f"https://c{i}.example") for i in range(6)]


def test_run_all_never_exceeds_parallel_and_keeps_order() -> None:
    lock = threading.Lock()
    running, peak = 0, 0

    def work(member: KubeContext, checkpoint: Callable[[], None]) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.2)
        with lock:
            running -= 1
        return member.name.upper()

    started = time.monotonic()
    outcomes, abandoned = fleet.run_all(MEMBERS, work, parallel=3, timeout=10)
    elapsed = time.monotonic() - started
    assert [o.value for o in outcomes] == ["C0", "C1", "C2", "C3", "C4", "C5"]
    assert peak == 3
    assert abandoned == 0
    assert 0.4 <= elapsed < 1.5  # two waves of 0.2 s, not six


def test_each_failure_stays_with_its_cluster() -> None:
    def work(member: KubeContext, checkpoint: Callable[[], None]) -> str:
        if member.name == "c1":
            raise ClusterError("cannot reach the cluster at https://c1.example: connection refused")
        if member.name == "c2":
            raise KubeconfigError("kubeconfig: user entry of c2 is broken")
        if member.name == "c3":
            raise ZeroDivisionError("division by zero")
        return "ok"

    outcomes, _ = fleet.run_all(MEMBERS[:4], work, parallel=2, timeout=10)
    assert [(o.member.name, o.value, o.exit_code, o.error) for o in outcomes] == [
        ("c0", "ok", 0, ""),
        ("c1", None, 3, "cannot reach the cluster at https://c1.example: connection refused"),
        ("c2", None, 2, "kubeconfig: user entry of c2 is broken"),
        ("c3", None, 1, "audit crashed: ZeroDivisionError: division by zero"),
    ]


def test_a_cluster_past_its_deadline_is_reported_and_frees_its_turn() -> None:
    release = threading.Event()

    def work(member: KubeContext, checkpoint: Callable[[], None]) -> str:
        if member.name == "c0":
            release.wait(5)  # stuck where checkpoint() is never called (a hung request)
            return "late"
        if member.name == "c1":
            while True:  # cooperative: stops at its next checkpoint
                checkpoint()
                time.sleep(0.01)
        return "ok"

    started = time.monotonic()
    outcomes, abandoned = fleet.run_all(MEMBERS[:3], work, parallel=2, timeout=0.5)
    elapsed = time.monotonic() - started
    release.set()
    assert [(o.value, o.exit_code, o.error) for o in outcomes] == [
        (None, 3, "no complete answer within --cluster-timeout 0.5s"),
        (None, 3, "no complete answer within --cluster-timeout 0.5s"),
        ("ok", 0, ""),
    ]
    assert elapsed < 2  # c2 got a turn as soon as the deadline freed one
    assert abandoned >= 1  # c0 was still running when run_all returned


# --- snapshot file names ----------------------------------------------------------------------


def test_snapshot_paths_directory_and_template(tmp_path: Path) -> None:
    names = ["prod", "arn:aws:eks:eu-west-1:123:cluster/kf", "admin@dev"]
    paths = fleet.snapshot_paths(f"{tmp_path}/", names, None)
    assert {c: (p.name, f) for c, (p, f) in paths.items()} == {
        "prod": ("prod.yaml", "yaml"),
        "arn:aws:eks:eu-west-1:123:cluster/kf": ("arn_aws_eks_eu-west-1_123_cluster_kf.yaml", "yaml"),
        "admin@dev": ("admin_dev.yaml", "yaml"),
    }
    templated = fleet.snapshot_paths(str(tmp_path / "snap-{context}.json"), ["prod"], None)
    assert templated["prod"] == (tmp_path / "snap-prod.json", "json")
    with pytest.raises(ValueError, match="give a directory"):
        fleet.snapshot_paths(str(tmp_path / "one.yaml"), names, None)
    with pytest.raises(ValueError, match="not stdout"):
        fleet.snapshot_paths("-", names, None)
    with pytest.raises(ValueError, match="would both be written to"):
        fleet.snapshot_paths(f"{tmp_path}/", ["a/b", "a:b"], None)


# --- contexts ---------------------------------------------------------------------------------


def test_contexts_merge_kubeconfig_lists_and_drop_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = tmp_path / "one.yaml"
    second = tmp_path / "two.yaml"
    first.write_text(
        json.dumps(
            {
                "clusters": [{"name": "p", "cluster": {"server": "https://user:secret@prod.example:6443"}}],
                "contexts": [{"name": "prod", "context": {"cluster": "p", "user": "u"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
            }
        )
    )
    second.write_text(
        json.dumps(
            {
                "clusters": [{"name": "d", "cluster": {"server": "https://dev.example"}}],
                "contexts": [
                    {"name": "dev", "context": {"cluster": "d", "user": "u"}},
                    {"name": "prod", "context": {"cluster": "d", "user": "u"}},  # the first file wins
                    {"name": "orphan", "context": {"cluster": "missing", "user": "u"}},
                ],
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", f"{first}:{second}")
    found = list_contexts()
    assert found == [
        KubeContext("prod", "https://prod.example:6443"),
        KubeContext("dev", "https://dev.example"),
        KubeContext("orphan", ""),
    ]
    assert select(found, ["dev", "prod", "dev"], False) == [found[1], found[0]]
    assert select(found, [], True) == found
    with pytest.raises(KubeconfigError, match=r"^kubeconfig has no context 'nope' \(contexts: dev, orphan, prod\)$"):
        select(found, ["prod", "nope"], False)
    with pytest.raises(KubeconfigError, match="no such file"):
        list_contexts(str(tmp_path / "absent.yaml"))


# --- fleet formats ----------------------------------------------------------------------------


def validator() -> jsonschema.Draft202012Validator:
    schemas = [json.loads((REPO / "kfstor" / "schema" / n).read_text()) for n in ("fleet-v1.json", "report-v1.json")]
    registry = referencing.Registry().with_resources((s["$id"], referencing.Resource.from_contents(s)) for s in schemas)
    return jsonschema.Draft202012Validator(schemas[0], registry=registry)


def test_json_validates_and_nests_each_report(fleet_report: FleetReport) -> None:
    doc = json.loads(rendered(fleet_report, "json"))
    validator().validate(doc)
    assert [(c["context"], c["result"], "report" in c, c.get("error")) for c in doc["clusters"]] == [
        ("prod", "passed", True, None),
        ("dev", "failed", True, None),
        ("dr", "unreachable", False, "cannot reach the cluster at https://dr.example:6443: connection refused"),
    ]
    assert doc["clusters"][0]["report"]["schema"] == "kfstor.report/v1"
    broken = json.loads(json.dumps(doc))
    del broken["clusters"][0]["report"]["checks"]  # the nested report is held to its own schema
    with pytest.raises(jsonschema.ValidationError):
        validator().validate(broken)
    both = json.loads(json.dumps(doc))
    both["clusters"][2]["report"] = doc["clusters"][0]["report"]  # a report or an error, never both
    with pytest.raises(jsonschema.ValidationError):
        validator().validate(both)


def test_table_overview_then_details(fleet_report: FleetReport, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    lines = rendered(fleet_report, "table").splitlines()
    assert lines[0] == f"kfstor 1.0.0 · fleet of 3 clusters · {NOW}"
    assert lines[2].split() == [
        "CLUSTER", "SERVER", "RESULT", "ERROR", "FAIL", "NOT_EVALUATED", "WARN", "PASS", "SKIP", "TIME"
    ]  # fmt: skip
    prod = fleet_report.runs[0].report
    assert prod is not None
    c = prod.counts()
    assert lines[3].split() == [
        "prod", "https://prod.example:6443", "passed",
        *(str(c[s]) for s in ("error", "fail", "not_evaluated", "warn", "pass", "skip")), "1.2s",
    ]  # fmt: skip
    assert lines[5].split() == ["dr", "https://dr.example:6443", "unreachable", "-", "-", "-", "-", "-", "-", "30.0s"]
    assert lines[6].strip() == "cannot reach the cluster at https://dr.example:6443: connection refused"
    assert "══ cluster dr (https://dr.example:6443) ══" in lines
    assert "UNREACHABLE  cannot reach the cluster at https://dr.example:6443: connection refused" in lines
    assert lines[-1] == fleet_report.verdict()


def test_a_narrow_overview_puts_servers_and_errors_under_their_cluster(
    fleet_report: FleetReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    lines = rendered(fleet_report, "table").splitlines()
    overview = lines[2 : lines.index("══ cluster prod (https://prod.example:6443) ══")]
    assert overview[0].split() == [
        "CLUSTER", "RESULT", "ERROR", "FAIL", "NOT_EVALUATED", "WARN", "PASS", "SKIP", "TIME"
    ]  # fmt: skip
    assert overview[1].split()[:2] == ["prod", "passed"]
    under = " " * (len("CLUSTER") + 2)  # the cluster column's width and its gap
    assert overview[2] == f"{under}server https://prod.example:6443"
    down = overview.index(next(line for line in overview if line.startswith("dr ")))
    assert overview[down].split() == ["dr", "unreachable", "-", "-", "-", "-", "-", "-", "30.0s"]
    assert overview[down + 1] == f"{under}server https://dr.example:6443"
    # the error wraps under its cluster at the width, its words intact
    error = [line for line in overview[down + 2 :] if line.startswith(under) and line.strip()]
    refused = "cannot reach the cluster at https://dr.example:6443: connection refused"
    assert " ".join(" ".join(error).split()) == refused
    assert [line for line in overview if len(line) > 80] == []


def test_hostile_names_cannot_break_any_format() -> None:
    good = example("portworx-kubeflow-1.10.yaml", 'x"}\n\x1b[31m<b>evil</b>')
    run_ = ClusterRun('x"}\n\x1b[31m<b>evil</b>', "https://h", good.exit_status, 1.0, report=good)
    down = ClusterRun("</td><script>alert(1)</script>", "https://d", 3, 1.0, error="refused <img src=x>\n| col")
    report = FleetReport((run_, down), NOW, "1.0.0", FailOn.FAIL, 2.0)
    table = rendered(report, "table")
    assert "\x1b" not in table
    page = rendered(report, "html")
    assert "<script>alert(1)</script>" not in page and "<img src=x>" not in page
    assert "&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    md = rendered(report, "markdown")
    assert "<img" not in md
    assert "refused &lt;img src=x&gt; \\| col" in md  # one table cell, the pipe escaped
    ET.fromstring(rendered(report, "junit"))  # well-formed
    families = {f.name: f for f in text_string_to_metric_families(rendered(report, "prometheus"))}
    assert {s.labels["cluster"] for s in families["kfstor_up"].samples} == {run_.context, down.context}


def test_junit_and_markdown_per_cluster(fleet_report: FleetReport) -> None:
    root = ET.fromstring(rendered(fleet_report, "junit"))
    names = [s.get("name") for s in root.iter("testsuite")]
    prod, dev = fleet_report.runs[0].report, fleet_report.runs[1].report
    assert prod is not None and dev is not None
    assert names == [f"prod/{r.id}" for r in prod.results] + [f"dev/{r.id}" for r in dev.results] + ["dr"]
    assert int(root.get("tests") or 0) == sum(int(s.get("tests") or 0) for s in root.iter("testsuite"))
    md = rendered(fleet_report, "markdown")
    assert md.count("\n### Cluster `") == 3
    assert "#### kfstor: " + dev.verdict() in md


def test_markdown_context_names_are_literal_code_spans() -> None:
    """Context names as kubeconfigs spell them (GKE's underscores, an @ user): in a code span they
    are shown as written, copyable, with no backslash or zero-width space; a name that could end
    the span is escaped text instead."""
    gke, user, tricky = "gke_my-proj_us-central1_prod", "admin@kfstor-test", "a`b|c"
    good = example("portworx-kubeflow-1.10.yaml", gke)
    runs = (
        ClusterRun(gke, "https://gke", good.exit_status, 1.0, report=good),
        ClusterRun(user, "https://u", 3, 1.0, error="refused"),
        ClusterRun(tricky, "https://t", 3, 1.0, error="refused"),
    )
    md = rendered(FleetReport(runs, NOW, "1.0.0", FailOn.FAIL, 2.0), "markdown")
    lines = md.splitlines()
    assert "| `gke_my-proj_us-central1_prod` | https:\u200b//gke | passed |" in md
    assert lines.count("### Cluster `gke_my-proj_us-central1_prod`") == 1
    assert "| `admin@kfstor-test` | https:\u200b//u | unreachable |" in md
    assert lines.count("### Cluster `admin@kfstor-test`") == 1
    assert lines.count("### Cluster a\\`b\\|c") == 1  # not a span: it would end at the backtick
    assert "\\_" not in md.split("\n---\n")[0]  # the overview holds no escaped underscore


# --- Prometheus -------------------------------------------------------------------------------


def families(text: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_prometheus_single_report_has_every_check_once_hot() -> None:
    report = example("no-default-pending.yaml", "")
    out = io.StringIO()
    prometheus.render_run(report, out, 2.5)
    text = out.getvalue()
    parsed = {f.name: f for f in text_string_to_metric_families(text)}
    cluster = report.source.description  # a file: named by its description
    status = {}
    for sample in parsed["kfstor_check_status"].samples:
        assert sample.labels["cluster"] == cluster
        status.setdefault(sample.labels["check"], {})[sample.labels["status"]] = sample.value
    assert {c: next(s for s, v in st.items() if v == 1) for c, st in status.items()} == {
        r.id: r.status.value for r in report.results
    }
    assert all(sum(st.values()) == 1 and len(st) == len(Status) for st in status.values())
    findings = {(s.labels["check"], s.labels["status"]): s.value for s in parsed["kfstor_findings"].samples if s.value}
    expected: dict[tuple[str, str], float] = {}
    for result in report.results:
        for finding in result.findings:
            expected[(result.id, finding.status.value)] = expected.get((result.id, finding.status.value), 0) + 1
    assert findings == expected
    (duration,) = parsed["kfstor_audit_duration_seconds"].samples
    assert duration.value == 2.5
    (stamp,) = parsed["kfstor_last_run_timestamp_seconds"].samples
    assert stamp.value == 1777636800.0  # NOW
    (gate,) = parsed["kfstor_gate_passed"].samples
    assert gate.value == 0
    assert "# TYPE kfstor_check_status gauge\n" in text
    # The problem codes, as every other format names them: the root cause and the claims it leaves Pending.
    problems = {
        (s.labels["check"], s.labels["code"], s.labels["status"]): s.value for s in parsed["kfstor_problems"].samples
    }
    expected_problems: dict[tuple[str, str, str], float] = {}
    for result in report.results:
        for finding in result.findings:
            if finding.code and finding.status in (Status.WARN, Status.FAIL, Status.NOT_EVALUATED):
                key = (result.id, finding.code, finding.status.value)
                expected_problems[key] = expected_problems.get(key, 0) + 1
    assert problems == expected_problems
    assert problems[("default_storage_class", "KFS-DEFAULT-NONE", "fail")] == 1
    assert problems[("claim_health", "KFS-PVC-PENDING-NO-DEFAULT", "fail")] == 3
    assert problems[("kubeflow_claims", "KFS-PLATFORM-PENDING-NO-DEFAULT", "fail")] == 3
    verdicts = {s.labels["verdict"]: s.value for s in parsed["kfstor_verdict"].samples}
    assert verdicts == {"passed": 0, "passed_with_warnings": 0, "failed": 1, "incomplete": 0}


def test_prometheus_fleet_marks_the_unreachable_cluster_down(fleet_report: FleetReport) -> None:
    parsed = {f.name: f for f in text_string_to_metric_families(rendered(fleet_report, "prometheus"))}
    assert {s.labels["cluster"]: s.value for s in parsed["kfstor_up"].samples} == {"prod": 1, "dev": 1, "dr": 0}
    assert {s.labels["cluster"] for s in parsed["kfstor_check_status"].samples} == {"prod", "dev"}
    assert {s.labels["cluster"]: s.value for s in parsed["kfstor_exit_code"].samples} == {"prod": 0, "dev": 1, "dr": 3}


def test_render_dispatch_covers_every_audit_format(fleet_report: FleetReport) -> None:
    from kfstor.cli import OutputFormat

    for fmt in OutputFormat:
        out = io.StringIO()
        render(fleet_report, out, fmt.value)
        assert out.getvalue()
