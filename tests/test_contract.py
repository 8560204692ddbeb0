"""Contract of every built-in check: documented, remediable, covered by the corpus, and pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kfstor.collect.kinds import KINDS
from kfstor.engine.loader import builtin_dir, load_checks
from tests.corpus import load_cases

CHECKS = load_checks(include_plugins=False).checks
# Third-party libraries a pure check never needs (kfstor's own layers: tests/test_layers.py).
FORBIDDEN_IMPORTS = {"kubernetes", "typer", "rich", "jinja2", "urllib3", "requests"}
CASES = load_cases()

# kfstor 1.0's ids are part of the public interface: renaming one breaks users' configs. New checks
# need no entry here.
PUBLIC_IDS_1_0 = {
    "default_storage_class",
    "provisioner_installed",
    "kubeflow_claims",
    "stateful_storage",
    "stateful_replication",
    "portworx_parameters",
    "rwx_available",
    "rwx_claims",
    "notebook_volumes",
    "claim_health",
    "volume_binding_mode",
    "snapshot_support",
    "storage_capacity",
}


def test_the_public_ids_of_1_0_still_exist() -> None:
    assert {c.id for c in CHECKS} >= PUBLIC_IDS_1_0


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_metadata(check) -> None:  # type: ignore[no-untyped-def]
    assert len(check.description.strip()) > 120, "the docstring is the user documentation"
    assert len(check.remediation.strip()) > 40
    assert check.title[0].isupper()
    unknown = set(check.all_kinds) - set(KINDS)
    assert not unknown, f"kinds the collector cannot list: {unknown}"


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_corpus_covers_pass_and_non_pass(check) -> None:  # type: ignore[no-untyped-def]
    statuses = {case.expected_check for case in CASES if case.check_id == check.id}
    assert "pass" in statuses, f"{check.id}: no corpus case passes"
    assert statuses - {"pass"}, f"{check.id}: no corpus case warns, fails or skips"


@pytest.mark.parametrize("path", sorted(builtin_dir().glob("*.py")), ids=lambda p: p.name)
def test_checks_import_nothing_impure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    bad = {
        name
        for name in imported
        for forbidden in FORBIDDEN_IMPORTS
        if name == forbidden or name.startswith(forbidden + ".")
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_every_check_the_readme_table_names_exists() -> None:
    """The README's table of built-ins may lag behind (`kfstor checks` is the full list), but it
    never names a check that does not exist."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What it checks", 1)[1].split("\n## ", 1)[0]
    named = {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}
    assert named, "the README has a table of built-in checks"
    assert named <= {c.id for c in CHECKS}, sorted(named - {c.id for c in CHECKS})
