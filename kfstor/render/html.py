"""Self-contained HTML report (no external CSS, JS, fonts or CDNs), for review meetings.

Jinja2 autoescaping is on for the whole template: every string from the cluster is escaped, and
every value printed passes through sanitize.html first (no control characters, no lone surrogates).
"""

from __future__ import annotations

from typing import Any, TextIO

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from kfstor.model import EXIT_INCOMPLETE, NOT_EVALUATED_FIX, Status
from kfstor.render import sanitize
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


def templates_dir() -> str:
    return str(resource_dir("templates", "reports/templates"))


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=True,  # every variable, not only .html files: the template is .j2
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )


def _chart(report: Report) -> list[dict[str, Any]]:
    """Bars for the inline SVG chart: one per status, width proportional to its count."""
    counts = report.counts()
    total = max(1, len(report.results))
    bars = []
    y = 0
    for status in reversed(Status):
        count = counts[status.value]
        bars.append(
            {
                "status": status.label,
                "count": count,
                "y": y,
                "width": round(300 * count / total),
                "color": COLORS[status.value],
            }
        )
        y += 22
    return bars


def render(report: Report, out: TextIO) -> None:
    template = _environment().get_template(TEMPLATE)
    out.write(
        template.render(
            report=report,
            results=report.ordered(),
            counts=report.counts(),
            chart=_chart(report),
            colors=COLORS,
            statuses=[s for s in reversed(Status)],
            not_evaluated_fix=NOT_EVALUATED_FIX,
            gate_class={0: "passed", EXIT_INCOMPLETE: "incomplete"}.get(report.exit_status, "failed"),
        )
    )
