"""One renderer per format, all with the signature render(report, out) -> None.

Renderers only format: statuses, order and the gate are decided by the runner and the Report.
Modules are imported on first use so `kfstor --help` never pays for rich or Jinja2.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TextIO

from kfstor.render.report import Report

Renderer = Callable[[Report, TextIO], None]

FORMATS: dict[str, str] = {
    "table": "kfstor.render.terminal",
    "json": "kfstor.render.json_report",
    "junit": "kfstor.render.junit",
    "html": "kfstor.render.html",
    "markdown": "kfstor.render.markdown",
    "prometheus": "kfstor.render.prometheus",
}


def renderer(fmt: str) -> Renderer:
    module = importlib.import_module(FORMATS[fmt])
    render: Renderer = module.render
    return render
