"""Terminal report: grouped by check, worst first, one-line verdict at the end.

Colour only on a TTY and when NO_COLOR is unset; otherwise plain text that greps well.
Cluster text is printed as text, never parsed as rich markup, and every string passes through
sanitize.terminal: no control character from the cluster or a file reaches the terminal.
"""

from __future__ import annotations

import os
from typing import TextIO

from rich.console import Console
from rich.text import Text

from kfstor.model import NOT_EVALUATED_FIX, Status
from kfstor.render.report import Report
from kfstor.render.sanitize import terminal as clean

STYLES = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.NOT_EVALUATED: "bold magenta",
    Status.SKIP: "dim",
}
BADGES = {status: status.value.upper() for status in Status} | {Status.NOT_EVALUATED: "NOT EVALUATED"}
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
    return Text(f"{BADGES[status]:5}", style=STYLES[status])


# --- install plan ---------------------------------------------------------------------


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
    header.append(f"{report.version} · {clean(src.description)}")
    if src.context:
        header.append(f" (context {clean(src.context)})")
    if src.server_version:
        header.append(f" · Kubernetes {clean(src.server_version)}")
    header.append(f" · Kubeflow namespace {clean(report.namespace)}")
    console.print(header)
    if src.insecure_tls:
        console.print(Text(f"warning: {INSECURE_TLS}", style="bold yellow"))
    console.print(Text(config_line(report), style="dim"))
    console.print()
    for result in report.ordered():
        line = Text()
        line.append_text(_badge(result.status))
        line.append(f" {clean(result.id)}", style="bold")
        line.append(f" — {clean(result.check.title)}")
        console.print(line)
        if not result.findings:
            console.print(Text(f"      {clean(result.reason)}", style="dim"))
            if result.status is Status.NOT_EVALUATED:
                console.print(Text(f"      fix: {NOT_EVALUATED_FIX}", style="italic"))
            continue
        # Waived findings stay visible: an accepted risk is still a risk a reader should see.
        problems = [f for f in result.findings if f.status is not Status.PASS or f.waived]
        passing = [f for f in result.findings if f.status is Status.PASS and not f.waived]
        shown = problems[:MAX_SHOWN] if problems else passing[:MAX_SHOWN]
        for finding in shown:
            row = Text("      ")
            row.append_text(_badge(finding.status))
            row.append(f" {clean(finding.ref)}: ", style="bold" if finding.status is not Status.PASS else "")
            row.append(clean(finding.message))
            if finding.waived:
                row.append(f" [waived: {clean(finding.waived.reason)}]", style="cyan")
            if finding.note:
                row.append(f" [{clean(finding.note)}]", style="cyan")
            console.print(row)
        hidden = len(problems) - len(shown) if problems else len(passing) - len(shown)
        if hidden > 0:
            console.print(Text(f"      … {hidden} more", style="dim"))
        if problems and passing:
            console.print(Text(f"      ({len(passing)} passing)", style="dim"))
        if result.status in (Status.WARN, Status.FAIL):
            console.print(Text(f"      fix: {clean(result.check.remediation)}", style="italic"))
    _plan(console, report)
    for note in report.notes:
        console.print(Text(f"note: {clean(note)}", style="cyan"))
    console.print()
    style = "bold green" if report.exit_status == 0 else "bold red"
    console.print(Text(clean(report.verdict()), style=style))


INSECURE_TLS = "TLS verification is off (insecure-skip-tls-verify): the server's identity was not checked"


def config_line(report: Report) -> str:
    """Which config file and which waivers the verdicts rest on (one line, sanitized)."""
    applied = report.config
    if not applied.path:
        return "config: none (no kfstor.yaml)"
    waivers = ", ".join(f"{w.check} on {w.object}" for w in applied.waivers)
    return clean(f"config: {applied.path}; waivers applied: {waivers or 'none'}")
