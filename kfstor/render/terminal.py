"""Terminal report: grouped by check, worst first, one-line verdict at the end.

Colour only on a TTY and when NO_COLOR is unset; otherwise plain text that greps well.
Cluster text is printed as text, never parsed as rich markup.
"""

from __future__ import annotations

import os
from typing import TextIO

from rich.console import Console
from rich.text import Text

from kfstor.model import Status
from kfstor.render.report import Report

STYLES = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.SKIP: "dim",
}
MAX_SHOWN = 20  # findings listed per check; the rest are counted (full detail: --format json/html)


def _console(out: TextIO) -> Console:
    isatty = getattr(out, "isatty", lambda: False)()
    color = isatty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    return Console(
        file=out,
        color_system="auto" if color else None,
        force_terminal=color,
        highlight=False,
        soft_wrap=True,
        emoji=False,
        markup=False,
        width=None if isatty else 100,
    )


def _badge(status: Status) -> Text:
    return Text(f"{status.value.upper():5}", style=STYLES[status])


# --- install plan (issue 11) ---------------------------------------------------------------------


def _plan(console: Console, report: Report) -> None:
    """The claims the install will create and their predicted outcomes, worst first."""
    plan = report.plan
    if plan.source == "none":
        return
    summary = plan.summary()
    head = Text("PLAN ", style="bold")
    head.append(
        f" install plan — {plan.label}: {len(plan.entries)} claim{'s' if len(plan.entries) != 1 else ''}"
        + (f", {summary}" if summary else "")
    )
    console.print(head)
    entries = sorted(plan.entries, key=lambda e: (-e.outcome.status.rank, e.claim.namespace, e.claim.name))
    for entry in entries[:MAX_SHOWN]:
        claim = entry.claim
        row = Text("      ")
        row.append_text(_badge(entry.outcome.status))
        row.append(f" {claim.where}", style="bold" if entry.outcome.status is not Status.PASS else "")
        row.append(
            f"  {claim.size or 'no size'} {'/'.join(claim.access_modes)}  class {entry.class_text}  "
            f"{entry.outcome.label}: {entry.reason}  [{claim.role}; from {claim.source}]"
        )
        console.print(row)
    if len(entries) > MAX_SHOWN:
        console.print(Text(f"      … {len(entries) - MAX_SHOWN} more", style="dim"))
    for note in plan.notes:
        console.print(Text(f"      plan note: {note}", style="cyan"))


def render(report: Report, out: TextIO) -> None:
    console = _console(out)
    src = report.source
    header = Text("kfstor ", style="bold")
    header.append(f"{report.version} · {src.description}")
    if src.context:
        header.append(f" (context {src.context})")
    if src.server_version:
        header.append(f" · Kubernetes {src.server_version}")
    header.append(f" · Kubeflow namespace {report.namespace}")
    console.print(header)
    console.print()
    for result in report.ordered():
        line = Text()
        line.append_text(_badge(result.status))
        line.append(f" {result.id}", style="bold")
        line.append(f" — {result.check.title}")
        console.print(line)
        if not result.findings:
            console.print(Text(f"      {result.reason}", style="dim"))
            continue
        # Waived findings stay visible: an accepted risk is still a risk a reader should see.
        problems = [f for f in result.findings if f.status is not Status.PASS or f.waived]
        passing = [f for f in result.findings if f.status is Status.PASS and not f.waived]
        shown = problems[:MAX_SHOWN] if problems else passing[:MAX_SHOWN]
        for finding in shown:
            row = Text("      ")
            row.append_text(_badge(finding.status))
            row.append(f" {finding.ref}: ", style="bold" if finding.status is not Status.PASS else "")
            row.append(finding.message)
            if finding.waived:
                row.append(f" [waived: {finding.waived.reason}]", style="cyan")
            if finding.note:
                row.append(f" [{finding.note}]", style="cyan")
            console.print(row)
        hidden = len(problems) - len(shown) if problems else len(passing) - len(shown)
        if hidden > 0:
            console.print(Text(f"      … {hidden} more", style="dim"))
        if problems and passing:
            console.print(Text(f"      ({len(passing)} passing)", style="dim"))
        if result.status in (Status.WARN, Status.FAIL):
            console.print(Text(f"      fix: {result.check.remediation}", style="italic"))
    _plan(console, report)
    for note in report.notes:
        console.print(Text(f"note: {note}", style="cyan"))
    console.print()
    verdict = Text(report.verdict(), style="bold red" if report.exit_status else "bold green")
    console.print(verdict)
