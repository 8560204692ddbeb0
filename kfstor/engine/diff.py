"""Review over time: compare two kfstor JSON reports (`kfstor diff OLD NEW`, `audit --baseline OLD`).

Problems (warn, fail and crashed checks) are matched by check, code and object, so a reworded
message is the same problem; reports written before codes existed match by message. A file that
is not a kfstor.report/v1 document is a one-line DiffError (exit 2 at the CLI).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kfstor.render.json_report import SCHEMA, report_dict
from kfstor.render.report import Report
from kfstor.render.review import PROBLEM_STATUSES, Review, ReviewItem, compare

MAX_BYTES = 256 * 1024 * 1024  # a report this large is not a kfstor report


class DiffError(Exception):
    """A baseline that cannot be read or is not a kfstor report. The message is one line."""


def load(path: str | Path) -> dict[str, Any]:
    where = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise DiffError(f"{where}: no such file") from None
    except OSError as exc:
        raise DiffError(f"{where}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise DiffError(f"{where}: larger than {MAX_BYTES // 2**20} MiB, not a kfstor report")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DiffError(f"{where}: not JSON ({' '.join(str(exc).split())[:200]})") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise DiffError(f'{where}: not a kfstor JSON report (expected "schema": "{SCHEMA}")')
    if not isinstance(doc.get("checks"), list):
        raise DiffError(f"{where}: the report has no checks list")
    # A damaged baseline must not pass for one that knew fewer problems: its shape is checked.
    for index, check in enumerate(doc["checks"]):
        if not isinstance(check, dict) or not isinstance(check.get("id"), str):
            raise DiffError(f"{where}: checks[{index}] is not a check with an id")
        findings = check.get("findings", [])
        if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
            raise DiffError(f"{where}: checks[{index}].findings is not a list of findings")
    return doc


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def items(doc: Mapping[str, Any]) -> list[ReviewItem]:
    """The problems of one report; malformed entries are skipped, never trusted."""
    found: list[ReviewItem] = []
    for check in doc.get("checks") or []:
        if not isinstance(check, Mapping):
            continue
        check_id = _text(check.get("id"))
        if check.get("status") == "error":
            found.append(ReviewItem(check_id, "", "check", "error", _text(check.get("reason"))))
        for f in check.get("findings") or []:
            if not isinstance(f, Mapping) or f.get("status") not in PROBLEM_STATUSES:
                continue
            found.append(
                ReviewItem(check_id, _text(f.get("code")), _text(f.get("object")), f["status"], _text(f.get("message")))
            )
    return found


def between(old: Mapping[str, Any], new: Mapping[str, Any], baseline: str) -> Review:
    return compare(items(old), items(new), baseline, _text(old.get("created")))


def against(report: Report, old: Mapping[str, Any], baseline: str) -> Review:
    """The review of a fresh audit against an earlier report."""
    return between(old, report_dict(report), baseline)
