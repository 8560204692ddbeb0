"""Golden files for every renderer, plus the properties each format promises.

One fixed Report: tests/golden/snapshot.yaml run through kfstor.engine.runner.run with a fixed time and
date, the built-in `default_storage_class` check and two checks defined here (so the goldens do
not move when other built-in checks change), and a config with an active, an expired and an
unmatched waiver. The claims check gives its problems codes and fixes, and says a Pending claim is
caused by the unlabelled one, so the goldens show a root cause with the findings under it.
Regenerate the goldens with KFSTOR_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import datetime as dt
import html.parser
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import kfstor
from kfstor import CLUSTER, Cause, Check, Code, Context, Finding, Fix, Ref, Snapshot, fail, ok, skip, warn
from kfstor.collect.snapshot import build, from_files
from kfstor.engine.config import Config
from kfstor.engine.loader import load_checks
from kfstor.engine.runner import run
from kfstor.model import Status, Waiver
from kfstor.render import FORMATS, renderer
from kfstor.render.report import Report

GOLDEN = Path(__file__).resolve().parent / "golden"
SNAPSHOT = GOLDEN / "snapshot.yaml"
SCHEMA_FILE = Path(kfstor.__file__).resolve().parent / "schema" / "report-v1.json"
NOW = "2026-01-01T00:00:00Z"
TODAY = dt.date(2026, 1, 1)
PART_OF = "app.kubernetes.io/part-of"
XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

GOLDEN_FILES = {
    "table": "report.txt",
    "json": "report.json",
    "junit": "report.junit.xml",
    "markdown": "report.md",
    "html": "report.html",
}


# ---------------------------------------------------------------------------------------------
# Two checks that exist only in this file


def _claims(snap: Snapshot, ctx: Context) -> Iterator[Finding]:
    for pvc in snap.of("PersistentVolumeClaim"):
        meta = pvc["metadata"]
        where = f"{meta.get('namespace')}/{meta['name']}"
        phase = (pvc.get("status") or {}).get("phase", "Pending")
        if meta.get("deletionTimestamp"):
            since = meta["deletionTimestamp"]
            yield skip(pvc, f"claim {where} is being deleted since {since}; not evaluated")
        elif phase != "Bound":
            modes = ", ".join(pvc["spec"].get("accessModes", []))
            wanted = pvc["spec"].get("storageClassName")
            yield fail(
                pvc,
                f"claim {where} is {phase}: it asks {wanted} for {modes}",
                code="KFS-GOLDEN-PENDING",
                fix=Fix((f"kubectl -n {meta.get('namespace')} describe pvc {meta['name']}",), GOLDEN_DOCS),
                caused_by=Cause("KFS-GOLDEN-UNLABELLED", Ref("PersistentVolumeClaim", "katib-mysql", "kubeflow")),
            )
        elif PART_OF not in (meta.get("labels") or {}):
            yield warn(
                pvc,
                f"claim {where} is Bound but has no {PART_OF} label | owner unknown",
                code="KFS-GOLDEN-UNLABELLED",
                fix=Fix(
                    (f"kubectl -n {meta.get('namespace')} label pvc {meta['name']} {PART_OF}=kubeflow",),
                    GOLDEN_DOCS,
                ),
            )
        else:
            yield ok(pvc, f"claim {where} is Bound and part of {meta['labels'][PART_OF]}")


def _crash(snap: Snapshot, ctx: Context) -> Iterator[Finding]:
    yield ok(CLUSTER, "never reported: the check crashes before its findings are collected")
    raise RuntimeError("cannot read the parameter table:\n  volumeBindingMode missing")


GOLDEN_DOCS = "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/"
GOLDEN_CODES = (
    Code("KFS-GOLDEN-PENDING", "Claim Pending", "The claim is not Bound.", "Its pod cannot start.", "Describe it."),
    Code("KFS-GOLDEN-UNLABELLED", "Claim without owner", "No part-of label.", "Nobody owns it.", "Label it."),
)
CLAIMS_CHECK = Check(
    id="golden_claims",
    codes=GOLDEN_CODES,
    title="Claims are Bound and labelled with their owner",
    kinds=("PersistentVolumeClaim",),
    evaluate=_claims,
    description="Every claim is Bound and says which application it belongs to.\n\nA test check.",
    remediation="Label each claim with app.kubernetes.io/part-of and fix Pending claims.",
)
CRASH_CHECK = Check(
    id="golden_crash",
    title="A check with a bug",
    kinds=("StorageClass",),
    evaluate=_crash,
    description="Always raises, so the report shows an error result.",
    remediation="Fix the check.",
)

ACTIVE = Waiver(
    "golden_claims",
    "PersistentVolumeClaim/kubeflow-user-example-com/workspace-nb1",
    "notebook nb1 starts on demand (TICKET-42)",
    dt.date(2026, 3, 31),
)
EXPIRED = Waiver(
    "golden_claims",
    "PersistentVolumeClaim/kubeflow/katib-mysql",
    "labels come with the next Katib upgrade",
    dt.date(2025, 12, 1),
)
UNMATCHED = Waiver("default_storage_class", "StorageClass/gp2", "legacy class kept for old volumes", None)
CONFIG = Config(waivers=(ACTIVE, EXPIRED, UNMATCHED), path="kfstor.yaml")


def builtin(check_id: str) -> Check:
    return next(c for c in load_checks(include_plugins=False).checks if c.id == check_id)


def golden_report() -> Report:
    snap = from_files([str(SNAPSHOT)])
    checks = [builtin("default_storage_class"), CLAIMS_CHECK, CRASH_CHECK]
    report = run(checks, snap, config=CONFIG, today=TODAY, now=NOW)
    # The path and version would make the goldens depend on the checkout and the release.
    return replace(
        report, source=replace(report.source, description="tests/golden/snapshot.yaml"), version="0.0.0-golden"
    )


def render(report: Report, fmt: str) -> str:
    out = io.StringIO()
    renderer(fmt)(report, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def report() -> Report:
    return golden_report()


@pytest.fixture(scope="module")
def outputs(report: Report) -> dict[str, str]:
    return {fmt: render(report, fmt) for fmt in FORMATS}


# ---------------------------------------------------------------------------------------------
# The fixed report itself: what the goldens show


def test_the_fixed_report_has_the_expected_statuses(report: Report) -> None:
    by_id = {r.id: r for r in report.results}
    assert [r.id for r in report.results] == ["default_storage_class", "golden_claims", "golden_crash"]
    assert by_id["default_storage_class"].status is Status.PASS
    assert [(str(f.ref), f.status) for f in by_id["default_storage_class"].findings] == [
        ("StorageClass/gp3", Status.PASS)
    ]

    claims = by_id["golden_claims"]
    assert claims.status is Status.FAIL
    got = {str(f.ref): f for f in claims.findings}
    assert {ref: f.status for ref, f in got.items()} == {
        "PersistentVolumeClaim/kubeflow-user-example-com/shared-datasets": Status.FAIL,
        "PersistentVolumeClaim/kubeflow/katib-mysql": Status.WARN,
        "PersistentVolumeClaim/kubeflow/mysql-pv-claim": Status.PASS,
        "PersistentVolumeClaim/kubeflow/seaweedfs-pvc": Status.PASS,
        "PersistentVolumeClaim/kubeflow-user-example-com/workspace-nb1": Status.PASS,
        "PersistentVolumeClaim/kubeflow-user-example-com/scratch-old": Status.SKIP,
    }
    waived = got["PersistentVolumeClaim/kubeflow-user-example-com/workspace-nb1"]
    assert waived.waived == ACTIVE and waived.original_status is Status.FAIL
    expired = got["PersistentVolumeClaim/kubeflow/katib-mysql"]
    assert expired.waived is None
    assert expired.note == "waiver expired on 2025-12-01: labels come with the next Katib upgrade"

    crash = by_id["golden_crash"]
    assert crash.status is Status.ERROR and crash.findings == ()
    assert crash.reason == "RuntimeError: cannot read the parameter table: volumeBindingMode missing"

    assert report.notes == ("waiver for default_storage_class on StorageClass/gp2 matched no warn or fail finding",)
    assert report.exit_status == 1
    assert report.verdict() == "Storage readiness gate FAILED (1 error, 1 fail, 1 pass)"
    assert report.source.context == "arn:aws:eks:eu-west-1:111122223333:cluster/ml-prod"
    assert report.source.server_version == "v1.33.4-eks-1234567"


# ---------------------------------------------------------------------------------------------
# Goldens


@pytest.mark.parametrize("fmt", sorted(GOLDEN_FILES))
def test_golden(fmt: str, outputs: dict[str, str]) -> None:
    path = GOLDEN / GOLDEN_FILES[fmt]
    text = outputs[fmt]
    if os.environ.get("KFSTOR_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8", newline="")
    assert path.exists(), f"{path} is missing: run with KFSTOR_UPDATE_GOLDEN=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{fmt} output differs from {path.name} (KFSTOR_UPDATE_GOLDEN=1 to accept)"


def test_rendering_is_deterministic(report: Report, outputs: dict[str, str]) -> None:
    assert {fmt: render(golden_report(), fmt) for fmt in FORMATS} == outputs


# ---------------------------------------------------------------------------------------------
# Terminal


def test_terminal_to_a_file_is_plain_text(outputs: dict[str, str]) -> None:
    text = outputs["table"]
    assert "\x1b" not in text
    lines = text.splitlines()
    # Written to a file the report is 100 columns wide, long lines wrapped with a hanging indent.
    assert max(len(line) for line in lines) <= 100
    header = " ".join(line.strip() for line in lines[:3])
    assert header == (
        "kfstor 0.0.0-golden · tests/golden/snapshot.yaml (context "
        "arn:aws:eks:eu-west-1:111122223333:cluster/ml-prod) · "
        "Kubernetes v1.33.4-eks-1234567 · Kubeflow namespace kubeflow"
    )
    assert lines[3:6] == [
        "data collected 2025-12-31T23:50:00Z (10 min before this report) · config: kfstor.yaml; waivers",
        "  applied: golden_claims on PersistentVolumeClaim/kubeflow-user-example-com/workspace-nb1 (of 3",
        "  declared)",
    ]
    assert lines[-1] == "Storage readiness gate FAILED (1 error, 1 fail, 1 pass)"
    assert lines[-2] == "1 root cause; fixing it clears 1 finding."
    # The root cause leads, then the checks worst first: error, then fail, then pass.
    assert lines[7] == "ROOT CAUSES — 1 root cause; fixing it clears 1 finding"
    assert lines[8].startswith("WARN  KFS-GOLDEN-UNLABELLED PersistentVolumeClaim/kubeflow/katib-mysql: claim")
    assert "        $ kubectl -n kubeflow label pvc katib-mysql app.kubernetes.io/part-of=kubeflow" in lines
    assert "      causes: golden_claims ×2 (shared-datasets, workspace-nb1)" in lines
    heads = [line.split(" — ")[0] for line in lines if line[:5] in ("ERROR", "FAIL ", "PASS ")]
    assert heads == ["ERROR golden_crash", "FAIL  golden_claims", "PASS  default_storage_class"]
    flat = " ".join(" ".join(text.split("\n")).split())
    assert (
        "WARN KFS-GOLDEN-UNLABELLED PersistentVolumeClaim/kubeflow/katib-mysql: claim kubeflow/katib-mysql is "
        "Bound but has no app.kubernetes.io/part-of label | owner unknown [waiver expired on 2025-12-01: labels "
        "come with the next Katib upgrade] (root cause: its fix is above)"
    ) in flat
    # A waived finding keeps its own line with the waiver; the other caused finding is summarised.
    assert "[waived (fail): notebook nb1 starts on demand (TICKET-42), until 2026-03-31]" in flat
    assert (
        "FAIL 1 caused by KFS-GOLDEN-UNLABELLED on PersistentVolumeClaim/kubeflow/katib-mysql (see root causes): "
        "shared-datasets"
    ) in flat
    assert "      RuntimeError: cannot read the parameter table: volumeBindingMode missing" in lines


def test_terminal_prints_cluster_text_literally() -> None:
    """Rich markup in cluster text is printed as text, not interpreted."""
    report = hostile_report("[bold red]x[/bold red] [link=file:///etc]y[/link]")
    text = render(report, "table")
    assert "[bold red]x[/bold red] [link=file:///etc]y[/link]" in text
    assert "\x1b" not in text


# ---------------------------------------------------------------------------------------------
# JSON


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def test_json_validates_against_the_shipped_schema(outputs: dict[str, str]) -> None:
    doc = json.loads(outputs["json"])
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    validator.validate(doc)
    assert doc["schema"] == "kfstor.report/v1"
    assert doc["summary"] == {
        "pass": 1,
        "warn": 0,
        "not_evaluated": 0,
        "fail": 1,
        "skip": 0,
        "error": 1,
        "total": 3,
        "verdict": "failed",
        "root_causes": 1,
        "cleared_by_root_causes": 1,
    }
    assert doc["root_causes"] == [
        {
            "check": "golden_claims",
            "code": "KFS-GOLDEN-UNLABELLED",
            "object": "PersistentVolumeClaim/kubeflow/katib-mysql",
            "status": "warn",
            "message": "claim kubeflow/katib-mysql is Bound but has no app.kubernetes.io/part-of label | owner unknown",
            "causes": [
                {
                    "check": "golden_claims",
                    "code": "KFS-GOLDEN-PENDING",
                    "object": "PersistentVolumeClaim/kubeflow-user-example-com/shared-datasets",
                    "status": "fail",
                },
                {
                    "check": "golden_claims",
                    "code": "KFS-GOLDEN-PENDING",
                    "object": "PersistentVolumeClaim/kubeflow-user-example-com/workspace-nb1",
                    "status": "pass",
                },
            ],
        }
    ]
    assert doc["config"]["file"] == "kfstor.yaml"
    assert [w["object"] for w in doc["config"]["waivers"]] == [ACTIVE.object, EXPIRED.object, UNMATCHED.object]
    assert doc["gate"] == {
        "fail_on": "fail",
        "allow_partial": False,
        "passed": False,
        "exit_code": 1,
        "verdict": "Storage readiness gate FAILED (1 error, 1 fail, 1 pass)",
        "not_evaluated": [],
    }
    checks = {c["id"]: c for c in doc["checks"]}
    assert checks["golden_crash"]["status"] == "error"
    assert checks["golden_crash"]["findings"] == []
    waived = next(f for f in checks["golden_claims"]["findings"] if f["name"] == "workspace-nb1")
    assert waived == {
        "status": "pass",
        "kind": "PersistentVolumeClaim",
        "namespace": "kubeflow-user-example-com",
        "name": "workspace-nb1",
        "object": "PersistentVolumeClaim/kubeflow-user-example-com/workspace-nb1",
        "message": "claim kubeflow-user-example-com/workspace-nb1 is Pending: it asks gp3 for ReadWriteOnce",
        "original_status": "fail",
        "waiver": {"reason": "notebook nb1 starts on demand (TICKET-42)", "expires": "2026-03-31"},
        "code": "KFS-GOLDEN-PENDING",
        "caused_by": {"code": "KFS-GOLDEN-UNLABELLED", "object": "PersistentVolumeClaim/kubeflow/katib-mysql"},
        "fix": {
            "commands": ["kubectl -n kubeflow-user-example-com describe pvc workspace-nb1"],
            "docs": GOLDEN_DOCS,
            "text": "",
        },
    }
    assert [c["name"] for c in doc["inventory"]["storage_classes"]] == ["efs-sc", "gp2", "gp3"]
    assert [c["name"] for c in doc["inventory"]["kubeflow_claims"]] == [
        "mysql-pv-claim",
        "katib-mysql",
        "seaweedfs-pvc",
    ]


@pytest.mark.parametrize(
    "breakage", ["bad status", "missing summary", "wrong schema", "extra key", "finding without message"]
)
def test_schema_rejects_broken_documents(breakage: str, outputs: dict[str, str]) -> None:
    doc = json.loads(outputs["json"])
    if breakage == "bad status":
        doc["checks"][0]["status"] = "ok"
    elif breakage == "missing summary":
        del doc["summary"]
    elif breakage == "wrong schema":
        doc["schema"] = "kfstor.report/v2"
    elif breakage == "extra key":
        doc["checks"][0]["severity"] = "high"
    else:
        del doc["checks"][1]["findings"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema(), cls=jsonschema.Draft202012Validator)


# ---------------------------------------------------------------------------------------------
# JUnit


def test_junit_has_a_suite_per_check_and_a_case_per_finding(outputs: dict[str, str]) -> None:
    root = ET.fromstring(outputs["junit"])
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "8",
        "failures": "1",
        "errors": "1",
        "skipped": "1",
    }
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["default_storage_class", "golden_claims", "golden_crash"]

    def cases(suite: str) -> dict[str, str]:
        out = {}
        for case in suites[suite].findall("testcase"):
            children = [c.tag for c in case]
            assert len(children) == 1, children
            out[case.get("name")] = children[0]
            assert case.get("classname") == f"kfstor.{suite}"
        return out

    assert cases("default_storage_class") == {"StorageClass/gp3": "system-out"}
    assert cases("golden_claims") == {
        "PersistentVolumeClaim/kubeflow-user-example-com/shared-datasets": "failure",
        "PersistentVolumeClaim/kubeflow/katib-mysql": "system-out",
        "PersistentVolumeClaim/kubeflow-user-example-com/workspace-nb1": "system-out",
        "PersistentVolumeClaim/kubeflow/mysql-pv-claim": "system-out",
        "PersistentVolumeClaim/kubeflow/seaweedfs-pvc": "system-out",
        "PersistentVolumeClaim/kubeflow-user-example-com/scratch-old": "skipped",
    }
    assert cases("golden_crash") == {"check": "error"}
    claims = suites["golden_claims"]
    assert {k: claims.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "6",
        "failures": "1",
        "errors": "0",
        "skipped": "1",
    }
    failure = claims.find("testcase/failure")
    assert failure is not None
    assert failure.get("message") == (
        "KFS-GOLDEN-PENDING: claim kubeflow-user-example-com/shared-datasets is Pending: it asks gp3 for ReadWriteMany"
    )
    assert failure.text == (
        "KFS-GOLDEN-PENDING: claim kubeflow-user-example-com/shared-datasets is Pending: it asks gp3 for "
        "ReadWriteMany\n"
        "Caused by KFS-GOLDEN-UNLABELLED on PersistentVolumeClaim/kubeflow/katib-mysql: "
        "fixing that clears this finding\n"
        "  $ kubectl -n kubeflow-user-example-com describe pvc shared-datasets\n"
        f"Docs: {GOLDEN_DOCS}\n"
        "Remediation: Describe it."  # the code's own fix (kfstor explain), not the whole check's
    )
    nb1 = "PersistentVolumeClaim/kubeflow-user-example-com/workspace-nb1"
    waived = claims.find(f"testcase[@name='{nb1}']/system-out")
    assert waived is not None
    assert waived.text == (
        "pass: KFS-GOLDEN-PENDING: claim kubeflow-user-example-com/workspace-nb1 is Pending: it asks gp3 "
        "for ReadWriteOnce (waived (fail): notebook nb1 starts on demand (TICKET-42), "
        "until 2026-03-31)"
    )
    error = suites["golden_crash"].find("testcase/error")
    assert error is not None
    assert error.get("message") == "RuntimeError: cannot read the parameter table: volumeBindingMode missing"
    skipped = claims.find("testcase/skipped")
    assert skipped is not None
    assert skipped.get("message") == (
        "claim kubeflow-user-example-com/scratch-old is being deleted since 2025-12-31T23:40:00Z; not evaluated"
    )


def test_junit_for_a_check_not_evaluated() -> None:
    snap = build(
        [],
        from_files([str(SNAPSHOT)]).source,
        unavailable={"PersistentVolumeClaim": "forbidden: list persistentvolumeclaims"},
    )
    report = run([CLAIMS_CHECK], snap, today=TODAY, now=NOW)
    root = ET.fromstring(render(report, "junit"))
    (suite,) = root.findall("testsuite")
    (case,) = suite.findall("testcase")
    assert case.get("name") == "check"
    # Not a skip: the panel shows the check could not look, and it counts as an error.
    error = case.find("error")
    assert error is not None
    assert error.get("type") == "not_evaluated"
    assert error.get("message") == "not evaluated: forbidden: list persistentvolumeclaims"
    assert case.find("skipped") is None
    assert (root.get("errors"), root.get("skipped"), root.get("failures")) == ("1", "0", "0")
    # Accepted with --allow-partial: skipped, still saying it was not evaluated.
    allowed = run([CLAIMS_CHECK], snap, today=TODAY, now=NOW, allow_partial=True)
    root = ET.fromstring(render(allowed, "junit"))
    skipped = root.find("testsuite/testcase/skipped")
    assert skipped is not None
    assert skipped.get("message") == (
        "not evaluated (allowed by --allow-partial): forbidden: list persistentvolumeclaims"
    )
    assert (root.get("errors"), root.get("skipped")) == ("0", "1")


# ---------------------------------------------------------------------------------------------
# HTML


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text.append(data)


def parse_html(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    parser.close()
    return parser


def test_html_is_self_contained(outputs: dict[str, str]) -> None:
    text = outputs["html"]
    tags = parse_html(text)
    names = [tag for tag, _ in tags.tags]
    assert "link" not in names
    assert "iframe" not in names and "object" not in names and "embed" not in names
    assert names.count("script") == 1
    assert names.count("style") == 1
    for tag, attrs in tags.tags:
        if tag == "script":
            assert "src" not in attrs
        # Links to documentation navigate when clicked; nothing is ever loaded from them.
        if tag == "a" and not (attrs.get("href") or "").startswith("#"):
            assert attrs.get("rel") == "noreferrer noopener", attrs
        loading = ("src", "srcset", "action", "data", "xlink:href") if tag == "a" else ("src", "href", "srcset")
        for attr in (*loading, "action", "data", "xlink:href"):
            value = (attrs.get(attr) or "").strip().lower()
            assert not value.startswith(("http://", "https://", "//")), (tag, attr, value)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), "CSS must not load anything remote"
    assert "@import" not in text and "@font-face" not in text
    assert "kfstor storage readiness report" in text
    assert "<svg" in text  # the inline chart


def plain_names(text: str) -> str:
    """HTML with the name-wrapping markup (unbreakable parts, break opportunities) removed."""
    return text.replace('<span class="nb">', "").replace("</span>", "").replace("<wbr>", "")


def test_html_header_and_inventory(outputs: dict[str, str]) -> None:
    text = plain_names(outputs["html"])
    assert "<dt>Context</dt><dd>arn:aws:eks:eu-west-1:111122223333:cluster/ml-prod</dd>" in text
    assert "<dt>Server version</dt><dd>v1.33.4-eks-1234567</dd>" in text
    assert "<dt>Report created</dt><dd>2026-01-01T00:00:00Z · kfstor 0.0.0-golden</dd>" in text
    assert "<dt>Data collected</dt><dd>2025-12-31T23:50:00Z (10 min before this report)</dd>" in text
    assert '<dt>Config file</dt><dd id="config">kfstor.yaml</dd>' in text
    assert "<summary>3 declared</summary>" in text
    assert (
        '<div class="verdict failed" id="verdict">Storage readiness gate FAILED (1 error, 1 fail, 1 pass)</div>' in text
    )
    assert '<section class="card check error" data-status="error" id="check-golden_crash">' in text
    assert '<div class="note">waiver expired on 2025-12-01: labels come with the next Katib upgrade</div>' in text
    assert "waived (fail): notebook nb1 starts on demand (TICKET-42) · until 2026-03-31" in text
    sections = re.findall(r'<section class="card check (\w+)" data-status="\w+" id="check-(\w+)"', text)
    assert sections == [("error", "golden_crash"), ("fail", "golden_claims")]
    quiet = re.findall(r'<tr class="check (\w+)" data-status="\w+" id="check-(\w+)"', text)
    assert quiet == [("pass", "default_storage_class")]
    # The root cause with its fix as a code block and a copy button, linked from the summary.
    assert '<div class="card warn root" id="root-golden_claims-1">' in text
    assert '<a href="#root-golden_claims-1"><code>KFS-GOLDEN-UNLABELLED</code></a>' in text
    assert (
        '<div class="cmd"><pre><code>kubectl -n kubeflow label pvc katib-mysql app.kubernetes.io/part-of=kubeflow'
        '</code></pre><button type="button" class="copy" aria-label="Copy this command">Copy</button></div>'
    ) in text
    assert "<strong>1 root cause; fixing it clears 1 finding.</strong>" in text
    # Page numbers and the cluster's name on every printed page.
    assert 'content: "Page " counter(page) " of " counter(pages)' in text
    assert "@bottom-left" in text


def hostile_report(payload: str) -> Report:
    """Cluster text carrying `payload` in a class name, an annotation, a parameter and a message."""
    source = from_files([str(SNAPSHOT)]).source
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": payload,
                "creationTimestamp": "2025-01-01T00:00:00Z",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true", "description": payload},
            },
            "provisioner": "ebs.csi.aws.com",
            "parameters": {"type": payload},
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
        },
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "second",
                "creationTimestamp": "2026-01-01T00:00:00Z",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "ebs.csi.aws.com",
        },
    ]

    def echo(snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        for sc in snap.of("StorageClass"):
            note = (sc["metadata"].get("annotations") or {}).get("description")
            if note:
                yield fail(sc, f"annotation says {note}")

    echo_check = Check(
        id="echo",
        title="Echo " + payload,
        kinds=("StorageClass",),
        evaluate=echo,
        description="Echoes an annotation.",
        remediation="Remove " + payload,
    )
    snap = build(objects, replace(source, description=payload, context=payload))
    return run([builtin("default_storage_class"), echo_check], snap, today=TODAY, now=NOW)


def test_html_escapes_everything_from_the_cluster() -> None:
    report = hostile_report(XSS)
    text = render(report, "html")
    assert XSS not in text
    assert text.count("<script") == 1  # the template's own filter script
    assert "alert(1)" not in "".join(parse_html(text).script_text)
    # name (header, inventory, findings), annotation (finding message), parameter (inventory)
    assert f"annotation says {XSS_ESCAPED}" in text
    pieces = '<span class="nb">&lt;script&gt;alert(1)&lt;/</span><wbr><span class="nb">script&gt;</span>'
    assert f'<td class="obj">{pieces}</td>' in text
    assert '<span class="nb">type=&lt;script&gt;alert(1)&lt;/</span>' in text
    assert f"<dt>Context</dt><dd>{XSS_ESCAPED}</dd>" in plain_names(text)
    assert f'<span class="nb">StorageClass/</span><wbr>{pieces}' in text
    assert text.count(XSS_ESCAPED) >= 5
    # In CSS (the printed page footer) every character but letters and digits is hex-escaped.
    footer = re.search(r"@bottom-left \{ content: (.*?); font-size", text)
    assert footer is not None
    assert "<" not in footer.group(1) and "script" in footer.group(1)
    assert "\\00003c" in footer.group(1)


def test_html_escapes_quotes_in_attributes() -> None:
    payload = '" onmouseover="alert(1)'
    text = render(hostile_report(payload), "html")
    assert 'onmouseover="alert(1)' not in text
    assert "&#34; onmouseover=&#34;alert(1)" in text


# ---------------------------------------------------------------------------------------------
# Markdown


def test_markdown_summary(outputs: dict[str, str]) -> None:
    text = outputs["markdown"]
    lines = text.splitlines()
    assert lines[0] == "## kfstor: Storage readiness gate FAILED (1 error, 1 fail, 1 pass)"
    assert lines[2] == "**❌ failed**"
    headings = [line for line in lines if line.startswith("#")]
    assert headings == [
        lines[0],
        "### Root causes",
        "### Needs attention",
        "#### 💥 `golden_crash` — A check with a bug",
        "#### ❌ `golden_claims` — Claims are Bound and labelled with their owner",
    ]
    # The root cause's fix is a code block; remediation is included; passing checks are collapsed.
    assert "```sh\nkubectl -n kubeflow label pvc katib-mysql app.kubernetes.io/part-of=kubeflow\n```" in text
    assert "<details><summary>Remediation</summary>\n\nLabel each claim with app.kubernetes.io/part-of" in text
    quiet = text.index("<details><summary>Passing and skipped checks (1 pass, 0 skip)</summary>")
    assert text.index("`default_storage_class` A single dynamic default StorageClass exists") > quiet
    assert "owner unknown" in text and "label \\| owner unknown" in text
    assert "(waived: notebook nb1 starts on demand (TICKET-42))" in text
    note = "> Note: waiver for default\\_storage\\_class on StorageClass/gp2 matched no warn or fail finding"
    assert note in lines


def test_markdown_stays_within_the_step_summary_limit() -> None:
    """Thousands of findings: the document is cut below 1 MiB and says what was left out."""
    from kfstor.render import markdown

    source = from_files([str(SNAPSHOT)]).source
    many = [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": f"claim-{i:05d}-" + "x" * 200, "namespace": f"team-{i % 40}"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3"},
            "status": {"phase": "Pending"},
        }
        for i in range(6000)
    ]
    report = run([CLAIMS_CHECK], build(many, source), today=TODAY, now=NOW)
    text = render(report, "markdown")
    assert len(text.encode("utf-8")) < markdown.MAX_BYTES + 64 * 1024 < 1024 * 1024
    assert text.count("<details>") == text.count("</details>")


def unescaped_pipes(row: str) -> int:
    return len(re.findall(r"(?<!\\)\|", row))


def test_markdown_escapes_cluster_text() -> None:
    payload = "a|b <img src=x onerror=alert(1)>" + XSS
    text = render(hostile_report(payload), "markdown")
    # Fenced code blocks are literal text in Markdown; everywhere else markup is escaped.
    outside = re.sub(r"^(`{3,})sh\n.*?^\1$", "", text, flags=re.S | re.M)
    assert "```" not in outside
    assert "<script>" not in outside and "<img" not in outside
    assert "&lt;script&gt;" in text
    assert "a\\|b" in text
    # No cluster text adds a cell: every row of a table has as many cells as its header.
    header_pipes = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header_pipes = None
            continue
        if header_pipes is None:
            header_pipes = unescaped_pipes(line)
        assert unescaped_pipes(line) == header_pipes, line
    counts_header = next(line for line in text.splitlines() if line.startswith("| 💥"))
    assert unescaped_pipes(counts_header) == len(Status) + 1


def test_junit_failures_carry_no_placeholders_and_name_their_cause() -> None:
    """A CI panel shows a failure on its own: the concrete fix, the root cause to fix first, and the
    code's general remedy, never the whole check's prose with CLAIM/NAMESPACE placeholders."""
    example = Path(__file__).resolve().parent.parent / "examples" / "no-default-pending.yaml"
    report = run(list(load_checks(include_plugins=False).checks), from_files([str(example)]))
    buffer = io.StringIO()
    renderer("junit")(report, buffer)
    root = ET.fromstring(buffer.getvalue())
    failures = root.findall(".//failure")
    found = [f for r in report.results for f in r.findings]
    caused = [f for f in found if f.status is Status.FAIL and f.caused_by is not None]
    assert failures and caused
    for failure in failures:
        assert failure.text is not None
        assert not re.search(r"\b(CLAIM|NAMESPACE)\b", failure.text), failure.text
    texts = [f.text or "" for f in failures]
    assert sum("Caused by KFS-DEFAULT-NONE on cluster: fixing that clears this finding" in t for t in texts) == len(
        caused
    )
