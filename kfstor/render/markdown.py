"""A compact Markdown summary for pull-request comments and CI step summaries."""

from __future__ import annotations

from typing import TextIO

from kfstor.model import Status
from kfstor.render.report import Report

ICONS = {Status.PASS: "✅", Status.WARN: "⚠️", Status.FAIL: "❌", Status.ERROR: "💥", Status.SKIP: "⏭️"}
MAX_FINDINGS = 10


def cell(text: str) -> str:
    """Table-cell safe: cluster text must not break the table or inject markup."""
    escaped = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(escaped.split())


def render(report: Report, out: TextIO, level: int = 2) -> None:
    """`level` is the heading level of the title: 3 inside a fleet summary, under its own heading."""
    counts = report.counts()
    source = report.source
    where = source.description + (f" (context {source.context})" if source.context else "")
    out.write(f"{'#' * level} kfstor: {cell(report.verdict())}\n\n")
    out.write(f"Cluster: {cell(where)}")
    if source.server_version:
        out.write(f", Kubernetes {cell(source.server_version)}")
    out.write(f" · Kubeflow namespace `{cell(report.namespace)}` · kfstor {report.version} · {report.created}\n\n")
    out.write("| " + " | ".join(f"{ICONS[s]} {s.value}" for s in reversed(Status)) + " |\n")
    out.write("|" + "---|" * len(Status) + "\n")
    out.write("| " + " | ".join(str(counts[s.value]) for s in reversed(Status)) + " |\n\n")
    out.write("| Status | Check | Details |\n|---|---|---|\n")
    for result in report.ordered():
        problems = [f for f in result.findings if f.status in (Status.FAIL, Status.WARN)]
        if result.status in (Status.PASS,) or not problems:
            detail = result.reason or (result.findings[0].message if result.findings else "")
        else:
            shown = [f"**{f.status.value}** `{f.ref}`: {f.message}" for f in problems[:MAX_FINDINGS]]
            if len(problems) > MAX_FINDINGS:
                shown.append(f"… and {len(problems) - MAX_FINDINGS} more")
            detail = "<br>".join(cell(s) for s in shown)
            out.write(
                f"| {ICONS[result.status]} {result.status.value} | `{result.id}` {cell(result.check.title)} "
                f"| {detail} |\n"
            )
            continue
        out.write(
            f"| {ICONS[result.status]} {result.status.value} | `{result.id}` {cell(result.check.title)} "
            f"| {cell(detail)} |\n"
        )
    for note in report.notes:
        out.write(f"\n> Note: {cell(note)}\n")
