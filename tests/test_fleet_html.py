"""The fleet HTML report in a real browser (Debian's Chromium through playwright): it loads with no
error and no request, its overview links reach each cluster's section, and each cluster's status
filter acts on that cluster only. Skipped without Chromium, a failure under KFSTOR_REQUIRE_CLUSTER=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kfstor.render.fleet import rendered
from kfstor.render.fleet_report import FleetReport
from tests.test_fleet import fleet_report as fleet_report

CHROMIUM = Path(os.environ.get("KFSTOR_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
VISIBLE_JS = """(scope) => Array.from(document.querySelectorAll(scope + ' section.check'))
  .filter(s => s.checkVisibility()).map(s => s.dataset.status)"""


def browser_or_skip() -> None:
    reason = ""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "the playwright package is not installed"
    if not reason and not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        reason = f"no Chromium at {CHROMIUM}"
    if reason:
        if os.environ.get("KFSTOR_REQUIRE_CLUSTER") == "1":
            pytest.fail(f"{reason} (KFSTOR_REQUIRE_CLUSTER=1 forbids skipping)", pytrace=False)
        pytest.skip(reason)


def test_fleet_page_links_and_scoped_filters(fleet_report: FleetReport, tmp_path: Path) -> None:
    browser_or_skip()
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "fleet.html"
    page_file.write_text(rendered(fleet_report, "html"), encoding="utf-8")
    prod, dev = fleet_report.runs[0].report, fleet_report.runs[1].report
    assert prod is not None and dev is not None
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS, timeout=60_000)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda req: requests.append(req.url))
            page.goto(page_file.as_uri(), wait_until="load")
            assert errors == [] and requests == [page_file.as_uri()]
            assert page.inner_text("#fleet-verdict") == fleet_report.verdict()
            page.click("#fleet-overview a[href='#cluster-3']")
            assert page.evaluate("location.hash") == "#cluster-3"
            assert "cannot reach the cluster at https://dr.example:6443" in page.inner_text("#cluster-3")

            everything = page.evaluate(VISIBLE_JS, "#cluster-1")
            assert sorted(everything) == sorted(r.status.value for r in prod.results)
            page.click("#cluster-2 button[data-filter='fail']")
            assert set(page.evaluate(VISIBLE_JS, "#cluster-2")) == {"fail"}
            assert len(page.evaluate(VISIBLE_JS, "#cluster-2")) == sum(r.status.value == "fail" for r in dev.results)
            assert page.evaluate(VISIBLE_JS, "#cluster-1") == everything  # the other cluster is untouched
            assert page.get_attribute("#cluster-1 button[data-filter='all']", "aria-pressed") == "true"
            page.click("#cluster-2 button[data-filter='all']")
            assert len(page.evaluate(VISIBLE_JS, "#cluster-2")) == len(dev.results)
        finally:
            browser.close()
