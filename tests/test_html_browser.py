"""The HTML report as a reader sees it: headless Chromium at desktop and phone widths, and printed to
PDF (Chromium's print-to-PDF, read back with poppler's pdftotext).

The report of the shipped no-default example (examples/no-default-pending.yaml) must:
- load with no console errors, no page errors and no request but the file itself;
- never scroll sideways, at 1280 and at 390 pixels (long commands scroll inside their block);
- show the root cause first, its fix with a working copy button, and passing/skipped checks collapsed;
- print on at most 2 A4 pages (it printed on 5 before this layout), with "Page N of M" and the
  cluster's name on every page, and names never broken inside a word.
Screenshots and the PDF are saved to $KFSTOR_ARTIFACTS (default <repo>/.artifacts).

Without Chromium, playwright or poppler-utils the test is skipped, unless KFSTOR_REQUIRE_CLUSTER=1 (CI).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kfstor.collect.snapshot import from_files
from kfstor.engine import runner
from kfstor.engine.loader import load_checks
from kfstor.render import renderer

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "no-default-pending.yaml"
CHROMIUM = Path(os.environ.get("KFSTOR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PAGES_BEFORE = 5  # A4 pages the same report printed on before this layout (measured)
FIX = (
    "kubectl patch storageclass longhorn -p "
    '\'{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}\''
)


def unavailable(reason: str) -> None:
    if os.environ.get("KFSTOR_REQUIRE_CLUSTER") == "1":
        pytest.fail(f"{reason} (KFSTOR_REQUIRE_CLUSTER=1 forbids skipping; tests/run.sh installs it)", pytrace=False)
    pytest.skip(reason)


def artifacts_dir() -> Path:
    path = Path(os.environ.get("KFSTOR_ARTIFACTS") or REPO / ".artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    checks = list(load_checks(include_plugins=False).checks)
    report = runner.run(checks, from_files([str(EXAMPLE)]), now="2026-01-01T00:00:00Z")
    out = io.StringIO()
    renderer("html")(report, out)
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install playwright)")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield instance
        finally:
            instance.close()


def open_page(browser: Any, report_file: Path, width: int, height: int) -> tuple[Any, Any, dict[str, list[str]]]:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    seen: dict[str, list[str]] = {"console": [], "errors": [], "requests": []}
    page.on("console", lambda msg: seen["console"].append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
    page.on("request", lambda req: seen["requests"].append(req.url))
    page.goto(report_file.as_uri(), wait_until="load")
    return context, page, seen


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1280, 900), ("narrow", 390, 844)])
def test_the_report_in_chromium(browser: Any, report_file: Path, name: str, width: int, height: int) -> None:
    context, page, seen = open_page(browser, report_file, width, height)
    try:
        # Nothing scrolls sideways: long commands and tables scroll inside their own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # Root causes come before the checks, and the root cause names the class to make default.
        order = page.evaluate(
            "['summary', 'root-causes', 'attention', 'quiet', 'inventory'].map(id => "
            "document.getElementById(id).getBoundingClientRect().top)"
        )
        assert order == sorted(order)
        assert page.locator("#root-causes .cmd code").first.inner_text() == FIX
        # Every link of the table of contents leads somewhere.
        targets = page.evaluate("Array.from(document.querySelectorAll('nav.toc a')).map(a => a.hash.slice(1))")
        assert targets and all(page.evaluate(f"!!document.getElementById({t!r})") for t in targets)
        # Passing and skipped checks are one line each, their findings collapsed.
        quiet = page.locator("#quiet tbody tr")
        assert quiet.count() == 10
        assert page.locator("#quiet details[open]").count() == 0
        assert not page.locator("#quiet details li").first.is_visible()
        page.locator("#quiet details summary").first.click()
        assert page.locator("#quiet details li").first.is_visible()
        # The verdict bar is red for a failed gate.
        assert page.evaluate("getComputedStyle(document.getElementById('verdict')).backgroundColor") == (
            "rgb(198, 40, 40)"
        )
        if name == "desktop":
            context.grant_permissions(["clipboard-read", "clipboard-write"])
            button = page.locator("#root-causes button.copy").first
            button.click()
            page.wait_for_function("document.querySelector('#root-causes button.copy').textContent === 'Copied'")
            assert page.evaluate("navigator.clipboard.readText()") == FIX
        shot = artifacts_dir() / f"report-{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert seen["errors"] == []
        assert [m for m in seen["console"] if m.startswith("error")] == []
        assert seen["requests"] == [report_file.as_uri()]
    finally:
        context.close()


def pdf_text(pdf: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60).stdout


def test_the_report_printed_to_pdf(browser: Any, report_file: Path) -> None:
    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        unavailable("no pdftotext/pdfinfo (apt-get install poppler-utils)")
    context, page, seen = open_page(browser, report_file, 1280, 900)
    pdf = artifacts_dir() / "report-no-default.pdf"
    try:
        page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True)
    finally:
        context.close()
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    assert 1 <= pages <= PAGES_BEFORE // 2, f"{pages} pages"
    for number in range(1, pages + 1):
        text = pdf_text(pdf, number)
        assert f"Page {number} of {pages}" in text
        assert f"kfstor · {EXAMPLE}" in text  # the cluster (here: the snapshot file) on every page
    text = pdf_text(pdf)
    # Names are never broken inside a word (they were: "PersistentVolumeClai / m", "(no defaul t)").
    for name in ("nfs-archive", "(no default)", "longhorn", "mysql-pv-claim", "driver.longhorn.io", FIX):
        assert name in text, name
    # Compact pass/skip: a passing check's findings are not printed, only its line.
    assert "Every StorageClass's provisioner is installed" in text
    assert "CSI driver driver.longhorn.io is registered" not in text
    assert seen["errors"] == []
