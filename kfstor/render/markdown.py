"""A compact Markdown summary for pull-request comments and CI step summaries.

Every string from the cluster, a file or a check passes through sanitize.markdown: it cannot
break the table, mention anyone, link, or render markup or HTML. Check ids are code spans (they
match [a-z][a-z0-9_]*, enforced by the loader).
"""

from __future__ import annotations

import re
from typing import TextIO

from kfstor.model import Status
from kfstor.render.report import Report
from kfstor.render.sanitize import markdown as cell

ICONS = {
    Status.PASS: "✅",
    Status.WARN: "⚠️",
    Status.FAIL: "❌",
    Status.ERROR: "💥",
    Status.NOT_EVALUATED: "🚫",
    Status.SKIP: "⏭️",
}
MAX_FINDINGS = 10
_CHECK_ID = re.compile(r"[a-z][a-z0-9_]*")


def _code(check_id: str) -> str:
    """A check id as a code span, when it is one (the loader enforces the pattern for loaded checks)."""
    return f"`{check_id}`" if _CHECK_ID.fullmatch(check_id) else cell(check_id)


def render(report: Report, out: TextIO, level: int = 2) -> None:
    """`level` is the heading level of the title: 3 inside a fleet summary, under its own heading."""
    counts = report.counts()
    source = report.source
    where = source.description + (f" (context {source.context})" if source.context else "")
    out.write(f"{'#' * level} kfstor: {cell(report.verdict())}\n\n")
    out.write(f"Cluster: {cell(where)}")
    if source.server_version:
        out.write(f", Kubernetes {cell(source.server_version)}")
    out.write(f" · Kubeflow namespace {cell(report.namespace)} · kfstor {report.version} · {cell(report.created)}\n\n")
    if source.insecure_tls:
        out.write("**Warning: TLS verification is off** (insecure-skip-tls-verify): ")
        out.write("the server's identity was not checked.\n\n")
    applied = report.config
    waivers = "; ".join(f"{w.check} on {w.object}: {w.reason}" for w in applied.waivers)
    out.write(f"Config: {cell(applied.path or 'none')} · waivers applied: {cell(waivers or 'none')}\n\n")
    out.write("| " + " | ".join(f"{ICONS[s]} {s.label}" for s in reversed(Status)) + " |\n")
    out.write("|" + "---|" * len(Status) + "\n")
    out.write("| " + " | ".join(str(counts[s.value]) for s in reversed(Status)) + " |\n\n")
    out.write("| Status | Check | Details |\n|---|---|---|\n")
    for result in report.ordered():
        problems = [f for f in result.findings if f.status in (Status.FAIL, Status.WARN)]
        if result.status in (Status.PASS,) or not problems:
            detail = cell(result.reason or (result.findings[0].message if result.findings else ""))
        else:
            shown = [f"**{f.status.value}** {cell(f.ref)}: {cell(f.message)}" for f in problems[:MAX_FINDINGS]]
            if len(problems) > MAX_FINDINGS:
                shown.append(f"… and {len(problems) - MAX_FINDINGS} more")
            detail = "<br>".join(shown)
        status = f"{ICONS[result.status]} {result.status.label}"
        out.write(f"| {status} | {_code(result.id)} {cell(result.check.title)} | {detail} |\n")
    _plan(report, out)
    for note in report.notes:
        out.write(f"\n> Note: {cell(note)}\n")


# --- install plan ---------------------------------------------------------------------
PLAN_ICONS = {"binds": "✅", "waits": "⏳", "pending": "❌", "unknown": "❓"}


def _plan(report: Report, out: TextIO) -> None:
    plan = report.plan
    if plan.source == "none":
        return
    summary = plan.summary()
    out.write(f"\n### Install plan\n\n{cell(plan.label)}" + (f": **{cell(summary)}**" if summary else "") + "\n\n")
    out.write("| Outcome | Claim | Size | Access modes | Class | Why | Source |\n|---|---|---|---|---|---|---|\n")
    for entry in sorted(plan.entries, key=lambda e: (-e.outcome.status.rank, e.claim.namespace, e.claim.name)):
        claim = entry.claim
        out.write(
            f"| {PLAN_ICONS[entry.outcome.value]} {entry.outcome.label} | {cell(claim.where)} ({cell(claim.role)}) "
            f"| {cell(claim.size)} | {cell(', '.join(claim.access_modes))} | {cell(entry.class_text)} "
            f"| {cell(entry.reason)} | {cell(claim.source)} |\n"
        )
    for note in plan.notes:
        out.write(f"\n> Plan note: {cell(note)}\n")
