"""Adding a check is its module plus its case files, nothing else.

A copy of the project gets one more built-in check (default_storage_class under a new id and its own
problem codes, with its case folder), and nothing else is touched; its whole suite, live tests included when a control
plane is available, must stay green and must run the new check's cases.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NEW_ID = "default_storage_class_again"
IGNORED = shutil.ignore_patterns(
    ".git", ".artifacts", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "*.egg-info", "build", "dist"
)


def add_check(copy: Path) -> None:
    module = (ROOT / "checks" / "default_storage_class.py").read_text(encoding="utf-8")
    module, count = re.subn(r'id="default_storage_class"', f'id="{NEW_ID}"', module)
    assert count == 1
    # A new check reports its own problems: its codes are its own (tests/test_codes.py keeps them unique).
    module, count = re.subn(r'"KFS-DEFAULT-', '"KFS-AGAIN-', module)
    assert count == 4
    (copy / "checks" / f"{NEW_ID}.py").write_text(module, encoding="utf-8")
    cases = copy / "tests" / "cases" / NEW_ID
    cases.mkdir()
    for case in sorted((ROOT / "tests" / "cases" / "default_storage_class").glob("*.yaml")):
        text = case.read_text(encoding="utf-8")
        # Only the header's check id changes: "#   default_storage_class:" under expect/messages.
        text, count = re.subn(r"(?m)^#   default_storage_class:", f"#   {NEW_ID}:", text)
        assert count >= 1, case
        (cases / case.name).write_text(text, encoding="utf-8")


@pytest.mark.slow
def test_a_new_check_needs_only_its_module_and_cases(tmp_path: Path) -> None:
    copy = tmp_path / "kfstor-copy"
    shutil.copytree(ROOT, copy, ignore=IGNORED)
    add_check(copy)
    env = {**os.environ, "PYTHONPATH": str(copy)}
    listed = subprocess.run(
        [sys.executable, "-c", "from kfstor.cli import main; main()", "checks"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert NEW_ID in listed.stdout
    # The printed report's page budget (at most half the pages of the layout before issue 10) is a
    # property of the shipped report: the copied check doubles its root cause, so it prints longer.
    printed = "tests/test_html_browser.py::test_the_report_printed_to_pdf"
    suite = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not slow",
            "-x",
            "--deselect",
            printed,
            "tests",
        ],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        stdin=subprocess.DEVNULL,
    )
    tail = "\n".join(suite.stdout.splitlines()[-30:])
    assert suite.returncode == 0, tail + suite.stderr[-2000:]
    # The copy's corpus ran the new check's cases: pytest -q lists nothing, so count them by collecting.
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only", "tests/test_corpus.py"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    new_cases = [line for line in collected.stdout.splitlines() if f"::{NEW_ID}]" in line]
    assert len(new_cases) == len(list((ROOT / "tests" / "cases" / "default_storage_class").glob("*.yaml")))
