"""Renderers for a fleet run (several clusters): render(fleet, out, fmt) for every --format.

Each format states the combined verdict first and then every cluster, in the order they were
named: an overview (cluster, result, check counts, time) and the per-cluster details written by
the single-cluster renderers, so one cluster reads the same alone or in a fleet. A cluster with no
report (unreachable, broken credentials, out of time) is shown with its one-line reason.
"""

from __future__ import annotations

import io
import json
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TextIO

from kfstor.model import Status
from kfstor.render import html, junit, markdown, sanitize, terminal
from kfstor.render.fleet_report import ClusterRun, FleetReport
from kfstor.render.json_report import report_dict

SCHEMA = "kfstor.fleet/v1"
TEMPLATE = "fleet.html.j2"
STATE_STYLES = {
    "passed": "green",
    "failed": "bold red",
    "incomplete": "bold yellow",
    "unreachable": "bold magenta",
    "error": "bold magenta",
}
COUNTED = tuple(reversed(Status))  # error, fail, warn, pass, skip: worst first, as every report


def clean(text: str) -> str:
    """One line with no control characters: kubeconfig names and server errors are not trusted."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _counts(run: ClusterRun) -> dict[str, int] | None:
    return run.report.counts() if run.report is not None else None


# --- table -------------------------------------------------------------------------------------


def render_table(fleet: FleetReport, out: TextIO) -> None:
    from rich.text import Text

    console = terminal._console(out)
    console.soft_wrap = True  # the overview is a table: its rows are never wrapped
    console.print(Text(f"kfstor {fleet.version} · fleet of {len(fleet.runs)} clusters · {fleet.created}", style="bold"))
    console.print()
    header = ["CLUSTER", "SERVER", "RESULT", *(s.value.upper() for s in COUNTED), "TIME"]
    rows = []
    for run in fleet.runs:
        counts = _counts(run)
        numbers = [str(counts[s.value]) if counts else "-" for s in COUNTED]
        rows.append([clean(run.context), clean(run.server) or "-", run.state, *numbers, f"{run.duration:.1f}s"])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    # Too wide for the terminal with the servers in a column: each server goes under its cluster.
    servers_below = sum(widths) + 2 * (len(widths) - 1) > console.width
    if servers_below:
        header.pop(1)
        rows = [row[:1] + row[2:] for row in rows]
        widths.pop(1)
    numeric = set(range(2 if servers_below else 3, len(header)))
    state_at = widths[0] + 2 if servers_below else sum(widths[:2]) + 4
    indent = " " * (widths[0] + 2)

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    def below(text: str) -> None:
        wrapped = textwrap.wrap(
            text,
            max(console.width, len(indent) + 20),
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for piece in wrapped:
            console.print(Text(piece, style="dim"))

    console.print(Text(line(header), style="bold"))
    for run, row in zip(fleet.runs, rows, strict=True):
        text = Text(line(row))
        text.stylize(STATE_STYLES[run.state], state_at, state_at + len(run.state))
        console.print(text)
        if servers_below and run.server:
            below(f"server {clean(run.server)}")
        if run.error:
            below(clean(run.error))
    for run in fleet.runs:
        console.print()
        title = f"══ cluster {clean(run.context)}" + (f" ({clean(run.server)})" if run.server else "") + " ══"
        console.print(Text(title, style="bold"))
        if run.report is not None:
            # The kubeconfig's context name is printed in the report's header: one clean line.
            source = run.report.source
            tidy = replace(source, context=clean(source.context), description=clean(source.description))
            terminal.render(replace(run.report, source=tidy), out)
        else:
            console.print(Text(f"{run.state.upper()}  {clean(run.error)}", style=STATE_STYLES[run.state]))
    console.print()
    console.print(Text(fleet.verdict(), style="bold red" if fleet.exit_status else "bold green"))


# --- json --------------------------------------------------------------------------------------


def fleet_dict(fleet: FleetReport) -> dict[str, Any]:
    clusters = []
    for run in fleet.runs:
        entry: dict[str, Any] = {
            "context": run.context,
            "server": run.server,
            "result": run.state,
            "exit_code": run.exit_code,
            "duration_seconds": round(run.duration, 3),
        }
        if run.report is not None:
            entry["report"] = report_dict(run.report)
        else:
            entry["error"] = run.error
        clusters.append(entry)
    return {
        "schema": SCHEMA,
        "kfstor_version": fleet.version,
        "created": fleet.created,
        "duration_seconds": round(fleet.duration, 3),
        "gate": {
            "fail_on": fleet.fail_on.value,
            "passed": fleet.exit_status == 0,
            "exit_code": fleet.exit_status,
            "verdict": fleet.verdict(),
        },
        "summary": {**fleet.states(), "total": len(fleet.runs)},
        "clusters": clusters,
    }


def render_json(fleet: FleetReport, out: TextIO) -> None:
    json.dump(fleet_dict(fleet), out, indent=2, ensure_ascii=False)
    out.write("\n")


# --- junit -------------------------------------------------------------------------------------


def render_junit(fleet: FleetReport, out: TextIO) -> None:
    """Per cluster: a testsuite per check named `<context>/<check>`; a cluster that could not be
    audited is one testsuite `<context>` whose single testcase is an error."""
    root = ET.Element("testsuites", name="kfstor fleet", tests="0", failures="0", errors="0", skipped="0")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for run in fleet.runs:
        context = clean(run.context)
        if run.report is not None:
            for key, value in junit.add_suites(root, run.report, prefix=f"{context}/").items():
                totals[key] += value
            continue
        suite = ET.SubElement(root, "testsuite", name=context, tests="1", failures="0", errors="1", skipped="0")
        case = ET.SubElement(suite, "testcase", classname=f"kfstor.{context}", name="audit")
        ET.SubElement(case, "error", message=clean(run.error), type=run.state).text = clean(run.error)
        totals["tests"] += 1
        totals["errors"] += 1
    junit.write(root, totals, out)


# --- markdown ----------------------------------------------------------------------------------


def render_markdown(fleet: FleetReport, out: TextIO) -> None:
    cell = sanitize.markdown
    out.write(f"## kfstor: {cell(fleet.verdict())}\n\n")
    out.write(f"kfstor {fleet.version} · {fleet.created} · {fleet.duration:.1f}s\n\n")
    out.write("| Cluster | Server | Result | " + " | ".join(f"{markdown.ICONS[s]} {s.value}" for s in COUNTED))
    out.write(" | Time |\n|" + "---|" * (len(COUNTED) + 4) + "\n")
    for run in fleet.runs:
        counts = _counts(run)
        numbers = " | ".join(str(counts[s.value]) if counts else "—" for s in COUNTED)
        name = markdown.code_span(run.context)  # as the kubeconfig spells it: copyable, no escapes
        out.write(f"| {name} | {cell(run.server) or '—'} | {run.state} | {numbers} | {run.duration:.1f}s |\n")
    for run in fleet.runs:
        out.write(f"\n---\n\n### Cluster {markdown.code_span(run.context)}\n\n")
        if run.report is not None:
            markdown.render(run.report, out, level=4)
        else:
            out.write(f"**{run.state}**: {cell(run.error)}\n")


# --- html --------------------------------------------------------------------------------------


def render_html(fleet: FleetReport, out: TextIO) -> None:
    template = html._environment().get_template(TEMPLATE)
    clusters = []
    for index, run in enumerate(fleet.runs, start=1):
        clusters.append(
            {
                "run": run,
                "anchor": f"cluster-{index}",
                "prefix": f"c{index}-",
                "counts": _counts(run),
                "results": run.report.ordered() if run.report is not None else (),
                "chart": html.bars(run.report) if run.report is not None else [],
            }
        )
    out.write(
        template.render(
            fleet=fleet,
            clusters=clusters,
            colors=html.COLORS,
            statuses=[s.value for s in COUNTED],
        )
    )


# --- dispatch ----------------------------------------------------------------------------------

FleetRenderer = Callable[[FleetReport, TextIO], None]


def _prometheus(fleet: FleetReport, out: TextIO) -> None:
    from kfstor.render import prometheus

    prometheus.render_fleet(fleet, out)


RENDERERS: dict[str, FleetRenderer] = {
    "table": render_table,
    "json": render_json,
    "junit": render_junit,
    "markdown": render_markdown,
    "html": render_html,
    "prometheus": _prometheus,
}


def render(fleet: FleetReport, out: TextIO, fmt: str) -> None:
    RENDERERS[fmt](fleet, out)


def rendered(fleet: FleetReport, fmt: str) -> str:
    buffer = io.StringIO()
    render(fleet, buffer, fmt)
    return buffer.getvalue()
