"""Markdown for pull-request comments and CI step summaries (GitHub renders it as it shows issues).

Root causes first with their fixes as code blocks, then the checks that need attention with their
findings and remediation; passing and skipped checks sit inside <details>. The whole document
stays under GitHub's step-summary limit (1 MiB per step): past MAX_BYTES, findings are cut and the
report says how many were left out (the JSON and HTML reports have them all).

Every string from the cluster, a file or a check passes through sanitize.markdown: it cannot
break the table, mention anyone, link, or render markup or HTML. Check ids are code spans (they
match [a-z][a-z0-9_]*, enforced by the loader).
"""

from __future__ import annotations

import re
from typing import TextIO

from kfstor.model import Fix, Status
from kfstor.render import grouping
from kfstor.render.grouping import Grouping, Located
from kfstor.render.report import VERDICT_LABELS, Report
from kfstor.render.review import Review, ReviewItem
from kfstor.render.sanitize import markdown as cell
from kfstor.render.sanitize import terminal

ICONS = {
    Status.PASS: "✅",
    Status.WARN: "⚠️",
    Status.FAIL: "❌",
    Status.ERROR: "💥",
    Status.NOT_EVALUATED: "🚫",
    Status.SKIP: "⏭️",
}
VERDICT_ICONS = {"passed": "✅", "passed_with_warnings": "⚠️", "failed": "❌", "incomplete": "❔"}
MAX_FINDINGS = 10  # per check (or per group of one problem)
MAX_BYTES = 900 * 1024  # below GitHub's 1 MiB step-summary limit, with room for other steps' text
_CHECK_ID = re.compile(r"[a-z][a-z0-9_]*")


def _code(check_id: str) -> str:
    """A check id as a code span, when it is one (the loader enforces the pattern for loaded checks)."""
    return f"`{check_id}`" if _CHECK_ID.fullmatch(check_id) else cell(check_id)


def code_span(text: str) -> str:
    """Inline code for a name (literal in Markdown: no mention, link or markup inside); text that
    could close the span is escaped as plain text instead."""
    clean = " ".join(terminal(text).split())
    if not clean or any(ch in clean for ch in "`<>&|\\"):
        return cell(clean)
    return f"`{clean}`"


def code_block(lines: list[str]) -> str:
    """A fenced block of commands, each line free of control characters; a fence inside the
    commands cannot end it (the fence is longer than any run of backticks)."""
    body = "\n".join(terminal(line) for text in lines for line in text.split("\n"))
    fence = "```"
    while fence in body:
        fence += "`"
    return f"{fence}sh\n{body}\n{fence}\n"


def _fix(fix: Fix | None) -> str:
    if fix is None:
        return ""
    out = ""
    if fix.text:
        out += f"Fix: {cell(fix.text)}\n\n"
    if fix.commands:
        out += code_block(list(fix.commands)) + "\n"
    if fix.docs:
        out += f"Docs: <{fix.docs.replace('>', '%3E').replace(' ', '%20')}>\n\n"
    return out


def _finding_line(item: Located, with_check: bool = False) -> str:
    f = item.finding
    where = f"{_code(item.check)} " if with_check else ""
    code = f"{code_span(f.code)} " if f.code else ""
    extra = ""
    if f.waived:
        extra += f" (waived: {cell(f.waived.reason)})"
    if f.note:
        extra += f" ({cell(f.note)})"
    return f"- {ICONS[f.status]} {where}{code}{code_span(str(f.ref))}: {cell(f.message)}{extra}\n"


def review_section(review: Review) -> str:
    counts = review.counts()
    out = f"### Since the last review\n\n{cell(counts[0].upper() + counts[1:])}\n\n"

    def rows(label: str, items: tuple[ReviewItem, ...], heading: bool = True) -> str:
        if not items:
            return ""
        text = f"**{label}** ({len(items)})\n\n" if heading else ""
        for item in items[:50]:
            was = f" (was {item.previous})" if item.previous else ""
            what = code_span(item.code or item.check)  # from a report file: hostile
            text += f"- {item.status}{was} {what} {code_span(item.object)}: {cell(item.message)}\n"
        if len(items) > 50:
            text += f"- … {len(items) - 50} more\n"
        return text + "\n"

    out += rows("New", review.new) + rows("Resolved", review.resolved)
    if review.unchanged:
        out += f"<details><summary>Unchanged ({len(review.unchanged)})</summary>\n\n"
        out += rows("Unchanged", review.unchanged, heading=False) + "</details>\n\n"
    return out


class _Budget:
    """Stops adding findings once the document nears the step-summary limit."""

    def __init__(self) -> None:
        self.used = 0
        self.dropped = 0

    def take(self, text: str) -> bool:
        size = len(text.encode("utf-8"))
        if self.used + size > MAX_BYTES:
            self.dropped += 1
            return False
        self.used += size
        return True


def _root_causes(groups: Grouping, budget: _Budget) -> str:
    if not groups.roots:
        return ""
    out = f"### Root causes\n\n{cell(groups.headline())}.\n\n"
    for root in groups.roots:
        out += _finding_line(root.root, with_check=True) + "\n"
        out += _fix(root.root.finding.fix)
        parts = [f"{_code(check)} ×{len(items)}" for check, items in root.by_check()]
        out += f"Fixing it clears: {', '.join(parts)}.\n\n"
    budget.take(out)
    return out


def _attention(report: Report, groups: Grouping, budget: _Budget) -> str:
    out = ""
    for result in grouping.ordered(report, groups):
        if result.status not in (Status.WARN, Status.FAIL, Status.ERROR, Status.NOT_EVALUATED) and not any(
            grouping.set_aside(f) for f in result.findings
        ):
            continue
        section = f"#### {ICONS[result.status]} {_code(result.id)} — {cell(result.check.title)}\n\n"
        if not result.findings:
            section += f"{cell(result.reason)}\n\n"
        located = [Located(result.id, i, f) for i, f in enumerate(result.findings)]
        aside = [grouping.set_aside(it.finding) for it in located]
        problems = [it for it in located if it.finding.status in grouping.PROBLEMS or aside[it.index]]
        own = [it for it in problems if groups.root_of(result.id, it.index) is None or aside[it.index]]
        caused: dict[str, list[str]] = {}
        for it in problems:
            root = groups.root_of(result.id, it.index)
            if root is not None and not aside[it.index]:
                label = f"{code_span(root.root.finding.code)} on {code_span(str(root.root.finding.ref))}"
                caused.setdefault(label, []).append(it.finding.ref.name or str(it.finding.ref))
        if len(own) > grouping.GROUP_AT:
            for group in grouping.finding_groups(report, result, own):
                section += (
                    f"**{ICONS[group.status]} {code_span(group.code)} {cell(group.title)} ×{len(group.items)}** — "
                )
                section += f"{cell(group.facet_text())}\n\n"
                for it in group.items[:MAX_FINDINGS]:
                    section += _finding_line(it)
                if len(group.items) > MAX_FINDINGS:
                    section += f"- … {len(group.items) - MAX_FINDINGS} more\n"
                section += "\n" + _fix(group.items[0].finding.fix)
        else:
            for it in own[:MAX_FINDINGS]:
                line = _finding_line(it)
                if groups.is_root(result.id, it.index):
                    line = line.rstrip("\n") + " (root cause, fix above)\n"
                section += line
            if len(own) > MAX_FINDINGS:
                section += f"- … {len(own) - MAX_FINDINGS} more\n"
            section += "\n"
            # One fix said once, under every object it applies to (advice with no object in it
            # repeated per claim read as noise).
            fixes: dict[Fix, list[str]] = {}
            for it in own[:MAX_FINDINGS]:
                if not groups.is_root(result.id, it.index) and it.finding.fix is not None:
                    fixes.setdefault(it.finding.fix, []).append(code_span(str(it.finding.ref)))
            for fix, refs in fixes.items():
                section += f"{', '.join(refs)}:\n\n" + _fix(fix)
        for label, names in caused.items():
            shown = ", ".join(cell(n) for n in names[:MAX_FINDINGS])
            more = f" and {len(names) - MAX_FINDINGS} more" if len(names) > MAX_FINDINGS else ""
            section += f"- {len(names)} caused by {label} (root cause above): {shown}{more}\n"
        if caused:
            section += "\n"
        section += f"<details><summary>Remediation</summary>\n\n{cell(result.check.remediation)}\n\n</details>\n\n"
        if budget.take(section):
            out += section
    return out


def _quiet(report: Report, groups: Grouping, budget: _Budget) -> str:
    """Passing and skipped checks, collapsed."""
    quiet = [
        r
        for r in grouping.ordered(report, groups)
        if r.status in (Status.PASS, Status.SKIP) and not any(grouping.set_aside(f) for f in r.findings)
    ]
    if not quiet:
        return ""
    passing = sum(1 for r in quiet if r.status is Status.PASS)
    out = f"<details><summary>Passing and skipped checks ({passing} pass, {len(quiet) - passing} skip)</summary>\n\n"
    for result in quiet:
        lines = f"- {ICONS[result.status]} {_code(result.id)} {cell(result.check.title)}"
        if not result.findings:
            lines += f": {cell(result.reason)}"
        lines += "\n"
        for i, f in enumerate(result.findings[:MAX_FINDINGS]):
            root = groups.root_of(result.id, i)
            because = f" (because of {root.root.finding.code})" if root is not None else ""
            lines += f"  - {ICONS[f.status]} {code_span(str(f.ref))}: {cell(f.message)}{because}\n"
        if len(result.findings) > MAX_FINDINGS:
            lines += f"  - … {len(result.findings) - MAX_FINDINGS} more\n"
        if budget.take(lines):
            out += lines
    return out + "\n</details>\n"


def render(report: Report, out: TextIO, level: int = 2) -> None:
    """`level` is the heading level of the title: 3 inside a fleet summary, under its own heading."""
    counts = report.counts()
    source = report.source
    groups = grouping.group(report)
    budget = _Budget()
    where = source.description + (f" (context {source.context})" if source.context else "")
    # The heading keeps its plain wording (CI scripts grep it); the verdict's icon and words follow.
    head = f"{'#' * level} kfstor: {cell(report.verdict())}\n\n"
    head += f"**{VERDICT_ICONS[report.verdict_key]} {VERDICT_LABELS[report.verdict_key].lower()}**\n\n"
    head += f"Cluster: {cell(where)}"
    if source.server_version:
        head += f", Kubernetes {cell(source.server_version)}"
    head += f" · Kubeflow namespace {code_span(report.namespace)} · kfstor {report.version} · {cell(report.created)}"
    head += f" · {cell(report.collected_text())}"
    head += "\n\n"
    if source.insecure_tls:
        head += "**Warning: TLS verification is off** (insecure-skip-tls-verify): "
        head += "the server's identity was not checked.\n\n"
    applied = report.config
    waivers = "; ".join(f"{w.target}: {w.reason}" for w in applied.waivers)
    head += f"Config: {cell(applied.path or 'none')} · waivers applied: {cell(waivers or 'none')}\n\n"
    head += "| " + " | ".join(f"{ICONS[s]} {s.label}" for s in reversed(Status)) + " |\n"
    head += "|" + "---|" * len(Status) + "\n"
    head += "| " + " | ".join(str(counts[s.value]) for s in reversed(Status)) + " |\n\n"
    budget.take(head)
    body = head
    if report.review is not None:
        section = review_section(report.review)
        budget.take(section)
        body += section
    body += _root_causes(groups, budget)
    attention = _attention(report, groups, budget)
    if attention:
        body += "### Needs attention\n\n" + attention
    body += _quiet(report, groups, budget)
    plan_text = _plan(report)
    if budget.take(plan_text):
        body += plan_text
    for note in report.notes:
        body += f"\n> Note: {cell(note)}\n"
    if budget.dropped:
        body += (
            f"\n> {budget.dropped} section(s) left out to stay within GitHub's step-summary limit; "
            "the JSON and HTML reports have everything.\n"
        )
    out.write(body)


# --- install plan ---------------------------------------------------------------------
PLAN_ICONS = {"binds": "✅", "waits": "⏳", "pending": "❌", "unknown": "❓"}


def _plan(report: Report) -> str:
    plan = report.plan
    if plan.source == "none":
        return ""
    summary = plan.summary()
    out = f"\n### Install plan\n\n{cell(plan.label)}" + (f": **{cell(summary)}**" if summary else "") + "\n\n"
    out += "| Outcome | Claim | Size | Access modes | Class | Why | Source |\n|---|---|---|---|---|---|---|\n"
    for entry in sorted(plan.entries, key=lambda e: (-e.outcome.status.rank, e.claim.namespace, e.claim.name)):
        claim = entry.claim
        out += (
            f"| {PLAN_ICONS[entry.outcome.value]} {entry.outcome.label} | {cell(claim.where)} ({cell(claim.role)}) "
            f"| {cell(claim.size)} | {cell(', '.join(claim.access_modes))} | {cell(entry.class_text)} "
            f"| {cell(entry.reason)} | {cell(claim.source)} |\n"
        )
    for note in plan.notes:
        out += f"\n> Plan note: {cell(note)}\n"
    return out
