"""Self-contained HTML report for platform reviews (no external CSS, JS, fonts or CDNs).

An executive summary and a table of contents, root causes first with their fixes as copyable code
blocks, the checks that need attention (many findings grouped by problem with counts per
namespace, class and phase), passing and skipped checks collapsed, and the inventory. It prints
to PDF with page numbers and the cluster's name on every page.

Jinja2 autoescaping is on for the whole template: every string from the cluster is escaped, and
every value printed passes through sanitize.html first (no control characters, no lone surrogates). The
one place cluster text enters CSS (the page footer) goes through css_string, which hex-escapes
everything but letters and digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TextIO

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from kfstor.model import NOT_EVALUATED_FIX, CheckResult, Status
from kfstor.render import grouping, sanitize
from kfstor.render.grouping import FindingGroup, Grouping, Located, RootCause
from kfstor.render.report import Report
from kfstor.resources import resource_dir

TEMPLATE = "report.html.j2"
COLORS = {
    "pass": "#2e7d32",
    "warn": "#b26a00",
    "fail": "#c62828",
    "error": "#6a1b9a",
    "not_evaluated": "#ad1457",
    "skip": "#757575",
}


def _finalize(value: Any) -> Any:
    """Runs on every {{ expression }} before autoescaping: strings, and objects printed through
    str() (a finding's Ref), lose their control characters; already-escaped Markup (the output of
    |join) stays Markup."""
    if isinstance(value, Markup):
        return Markup(sanitize.html(str(value)))
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return sanitize.html(str(value))


VERDICT_COLORS = {
    "passed": COLORS["pass"],
    "passed_with_warnings": COLORS["warn"],
    "failed": COLORS["fail"],
    "incomplete": COLORS["not_evaluated"],
}
MAX_ROWS = 200  # findings listed per group before "… N more" (the JSON report has them all)


def templates_dir() -> str:
    return str(resource_dir("templates", "reports/templates"))


def css_string(value: object) -> Markup:
    """A CSS string literal for `content:` that no cluster text can break out of."""
    out = []
    for ch in str(value)[:120]:
        out.append(ch if ch.isascii() and ch.isalnum() else f"\\{ord(ch):06x}")
    return Markup('"' + "".join(out) + '"')


def wbr(value: object) -> Markup:
    """An object name that may break after its slashes, colons and dots and nowhere else: each part
    is unbreakable (a browser would otherwise break `nfs-archive` at its hyphen in a narrow column)."""
    parts = [p for p in re.split(r"(?<=[/:.])", str(value)) if p]
    out = Markup("<wbr>").join(Markup('<span class="nb">{}</span>').format(part) for part in parts)
    return out or Markup("")


def names(values: object) -> Markup:
    """A comma-separated list of names, each unbreakable, breaking only after the commas."""
    items = list(values) if isinstance(values, (list, tuple)) else [values]
    return Markup(", ").join(wbr(v) for v in items)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=True,  # every variable, not only .html files: the template is .j2
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["css_string"] = css_string
    env.filters["wbr"] = wbr
    env.filters["names"] = names
    return env


def bars(report: Report) -> list[dict[str, Any]]:
    """Bars for the fleet page's per-cluster chart: one per status, width proportional to its count."""
    counts = report.counts()
    total = max(1, len(report.results))
    out = []
    for n, status in enumerate(reversed(Status)):
        count = counts[status.value]
        out.append(
            {
                "status": status.label,
                "count": count,
                "y": 22 * n,
                "width": round(300 * count / total),
                "color": COLORS[status.value],
            }
        )
    return out


def _chart(report: Report) -> list[dict[str, Any]]:
    """Segments of one stacked bar: checks per status, widths proportional to the counts."""
    counts = report.counts()
    total = max(1, len(report.results))
    segments = []
    x = 0
    for status in reversed(Status):
        count = counts[status.value]
        width = round(400 * count / total)
        segments.append({"status": status.value, "count": count, "x": x, "width": width, "color": COLORS[status.value]})
        x += width
    return segments


@dataclass
class CaughtBy:
    """Findings of one check that sit under one root cause."""

    root: RootCause
    items: list[Located] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return root_anchor(self.root)


@dataclass
class CheckView:
    result: CheckResult
    own: list[Located]
    groups: list[FindingGroup]
    caused: list[CaughtBy]
    passing: list[Located]
    skipped: list[Located]
    roots: dict[int, str]  # finding index -> anchor of the root cause it is


def root_anchor(root: RootCause) -> str:
    return f"root-{root.root.check}-{root.root.index}"


def _view(report: Report, groups: Grouping, result: CheckResult) -> CheckView:
    located = [Located(result.id, i, f) for i, f in enumerate(result.findings)]
    problems = [it for it in located if it.finding.status in grouping.PROBLEMS or it.finding.waived]
    # A waived finding stays on its own row with its waiver, even when a root cause explains it.
    own = [it for it in problems if groups.root_of(result.id, it.index) is None or it.finding.waived]
    caused: dict[tuple[str, int], CaughtBy] = {}
    for it in problems:
        root = groups.root_of(result.id, it.index)
        if root is not None and not it.finding.waived:
            caused.setdefault((root.root.check, root.root.index), CaughtBy(root)).items.append(it)
    return CheckView(
        result=result,
        own=own,
        groups=grouping.finding_groups(report, result, own) if len(own) > grouping.GROUP_AT else [],
        caused=list(caused.values()),
        passing=[it for it in located if it.finding.status is Status.PASS and not it.finding.waived],
        skipped=[it for it in located if it.finding.status is Status.SKIP and not it.finding.waived],
        roots={r.root.index: root_anchor(r) for r in groups.roots if r.root.check == result.id},
    )


def render(report: Report, out: TextIO) -> None:
    groups = grouping.group(report)
    ordered = grouping.ordered(report, groups)
    attention = [
        _view(report, groups, r)
        for r in ordered
        if r.status in (Status.WARN, Status.FAIL, Status.ERROR, Status.NOT_EVALUATED)
        or any(f.waived for f in r.findings)
    ]
    attention_ids = {v.result.id for v in attention}
    quiet = [_view(report, groups, r) for r in ordered if r.id not in attention_ids]
    usage = {row.storage_class: row for row in report.inventory.usage}
    template = _environment().get_template(TEMPLATE)
    out.write(
        template.render(
            report=report,
            groups=groups,
            attention=attention,
            quiet=quiet,
            usage=usage,
            unclassed=[row for name, row in usage.items() if name not in {c.name for c in report.inventory.classes}],
            counts=report.counts(),
            chart=_chart(report),
            colors=COLORS,
            verdict_color=VERDICT_COLORS[report.verdict_key],
            root_anchor=root_anchor,
            max_rows=MAX_ROWS,
            statuses=[s.value for s in reversed(Status)],
            not_evaluated_fix=NOT_EVALUATED_FIX,
        )
    )
