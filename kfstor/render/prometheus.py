"""Prometheus text exposition format (version 0.0.4), for the node-exporter textfile collector or a
Pushgateway (`curl --data-binary @kfstor.prom $PUSHGATEWAY/metrics/job/kfstor`).

Every series carries `cluster`: the kubeconfig context (for a snapshot file, its description), so
one file can hold a whole fleet and Prometheus' own `instance`/`job` labels stay the scraper's.
A cluster that could not be audited has `kfstor_up 0` and its exit code, and no check series: a
check that was not evaluated has no status to report, rather than a stale or invented one.

    kfstor_check_status{cluster, check, status}  1 for the check's status, 0 for the other four
    kfstor_findings{cluster, check, status}      findings of each status
    kfstor_problems{cluster, check, code, status} warn/fail/not-evaluated findings of each problem code
    kfstor_verdict{cluster, verdict}             1 for the report's verdict (passed, passed_with_warnings,
                                                 failed, incomplete), 0 for the other three
    kfstor_checks{cluster, status}               checks of each status
    kfstor_up / kfstor_gate_passed / kfstor_exit_code {cluster}
    kfstor_last_run_timestamp_seconds{cluster}   when the audit ended (Unix time)
    kfstor_audit_duration_seconds{cluster}       how long it took
    kfstor_cluster_info{cluster, server, kubernetes_version} 1
    kfstor_build_info{version} 1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TextIO

from kfstor.model import EXIT_OK, Status
from kfstor.render.fleet_report import ClusterRun, FleetReport
from kfstor.render.report import FAILED, INCOMPLETE, PASSED, PASSED_WITH_WARNINGS, Report

STATUSES = tuple(s.value for s in Status)
VERDICTS = (PASSED, PASSED_WITH_WARNINGS, FAILED, INCOMPLETE)
PROBLEMS = (Status.WARN, Status.FAIL, Status.NOT_EVALUATED)
METRICS: tuple[tuple[str, str], ...] = (
    ("kfstor_check_status", "Status of each check: 1 for its current status, 0 for the others."),
    ("kfstor_findings", "Findings of each check, by status."),
    ("kfstor_problems", "Problem findings (warn, fail, not evaluated) of each problem code (kfstor explain CODE)."),
    ("kfstor_verdict", "The report's verdict: 1 for the current one, 0 for the others."),
    ("kfstor_checks", "Checks by status."),
    ("kfstor_up", "1 when the cluster could be audited, 0 when it was unreachable or its audit failed."),
    ("kfstor_gate_passed", "1 when the cluster passed the storage readiness gate (--fail-on)."),
    ("kfstor_exit_code", "The exit code kfstor gives this cluster: 0 passed, 1 gate failed, 2 usage, 3 unreachable."),
    ("kfstor_last_run_timestamp_seconds", "Unix time the cluster's audit ended."),
    ("kfstor_audit_duration_seconds", "Seconds the cluster's audit took."),
    ("kfstor_cluster_info", "The audited cluster's server and Kubernetes version."),
    ("kfstor_build_info", "The kfstor version that wrote these metrics."),
)


def _label(value: str) -> str:
    """A label value as the exposition format quotes it: backslash, double quote and line feed
    escaped. Anything else (cluster-controlled text included) is literal UTF-8 and cannot end the
    string early."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{key}="{_label(value)}"' for key, value in labels.items()) + "}"


def _timestamp(iso: str) -> float | None:
    try:
        return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _cluster_name(run: ClusterRun) -> str:
    return run.context or run.server or "unknown"


def _samples(run: ClusterRun, created: str) -> dict[str, list[str]]:
    cluster = _cluster_name(run)
    series: dict[str, list[str]] = {name: [] for name, _ in METRICS}
    report = run.report
    if report is not None:
        for result in sorted(report.results, key=lambda r: r.id):
            for status in STATUSES:
                value = 1 if result.status.value == status else 0
                series["kfstor_check_status"].append(
                    f"kfstor_check_status{_labels(cluster=cluster, check=result.id, status=status)} {value}"
                )
            by_status = {s: 0 for s in STATUSES}
            for finding in result.findings:
                by_status[finding.status.value] += 1
            for status in STATUSES:
                series["kfstor_findings"].append(
                    f"kfstor_findings{_labels(cluster=cluster, check=result.id, status=status)} {by_status[status]}"
                )
            by_code: dict[tuple[str, str], int] = {}
            for finding in result.findings:
                if finding.code and finding.status in PROBLEMS:
                    key = (finding.code, finding.status.value)
                    by_code[key] = by_code.get(key, 0) + 1
            for (code, status), count in sorted(by_code.items()):
                labels = _labels(cluster=cluster, check=result.id, code=code, status=status)
                series["kfstor_problems"].append(f"kfstor_problems{labels} {count}")
        for verdict in VERDICTS:
            value = 1 if report.verdict_key == verdict else 0
            series["kfstor_verdict"].append(f"kfstor_verdict{_labels(cluster=cluster, verdict=verdict)} {value}")
        counts = report.counts()
        for status in STATUSES:
            series["kfstor_checks"].append(f"kfstor_checks{_labels(cluster=cluster, status=status)} {counts[status]}")
        series["kfstor_cluster_info"].append(
            "kfstor_cluster_info"
            + _labels(cluster=cluster, server=run.server, kubernetes_version=report.source.server_version)
            + " 1"
        )
    one = _labels(cluster=cluster)
    series["kfstor_up"].append(f"kfstor_up{one} {1 if report is not None else 0}")
    passed = report is not None and run.exit_code == EXIT_OK
    series["kfstor_gate_passed"].append(f"kfstor_gate_passed{one} {1 if passed else 0}")
    series["kfstor_exit_code"].append(f"kfstor_exit_code{one} {run.exit_code}")
    ended = _timestamp(report.created if report is not None else created)
    if ended is not None:
        series["kfstor_last_run_timestamp_seconds"].append(f"kfstor_last_run_timestamp_seconds{one} {_number(ended)}")
    series["kfstor_audit_duration_seconds"].append(
        f"kfstor_audit_duration_seconds{one} {_number(round(run.duration, 3))}"
    )
    return series


def _write(runs: Iterable[ClusterRun], created: str, version: str, out: TextIO) -> None:
    merged: dict[str, list[str]] = {name: [] for name, _ in METRICS}
    seen: set[str] = set()
    for run in runs:
        name = _cluster_name(run)
        if name in seen:  # two series with the same labels would make the whole file invalid
            continue
        seen.add(name)
        for metric, lines in _samples(run, created).items():
            merged[metric].extend(lines)
    merged["kfstor_build_info"].append(f"kfstor_build_info{_labels(version=version)} 1")
    for metric, help_text in METRICS:
        if not merged[metric]:
            continue
        out.write(f"# HELP {metric} {help_text}\n# TYPE {metric} gauge\n")
        for line in merged[metric]:
            out.write(line + "\n")


def render_fleet(fleet: FleetReport, out: TextIO) -> None:
    _write(fleet.runs, fleet.created, fleet.version, out)


def render_run(report: Report, out: TextIO, duration: float) -> None:
    """One cluster (or snapshot file), with the audit's measured duration."""
    source = report.source
    name = source.context or source.description
    run = ClusterRun(name, source.description, report.exit_status, duration, report=report)
    _write([run], report.created, report.version, out)


def render(report: Report, out: TextIO) -> None:
    """The renderer-table signature, for callers that did not time the audit (duration 0)."""
    render_run(report, out, 0.0)
