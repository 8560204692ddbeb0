"""Check discovery: --checks-dir drop-ins, validation, and broken third-party checks reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfstor.engine.loader import CheckLoadError, load_checks, select

GOOD = '''"""Claims should carry a team label so costs can be charged back to someone."""
from kfstor import Check, ok, warn


def evaluate(snap, ctx):
    for pvc in snap.of("PersistentVolumeClaim"):
        labels = (pvc.get("metadata") or {}).get("labels") or {}
        yield (ok if "team" in labels else warn)(pvc, "team label" + (" set" if "team" in labels else " missing"))


CHECK = Check(id="team_label", title="Claims have a team label", kinds=("PersistentVolumeClaim",),
              evaluate=evaluate, description=__doc__, remediation="kubectl label pvc <name> team=<team>")
'''


def test_drop_in_directory(tmp_path: Path) -> None:
    (tmp_path / "team_label.py").write_text(GOOD)
    (tmp_path / "broken.py").write_text("import does_not_exist\n")
    (tmp_path / "misnamed.py").write_text(GOOD)  # id team_label != module misnamed
    (tmp_path / "_helper.py").write_text("raise SystemExit('never imported')\n")
    loaded = load_checks([tmp_path], include_plugins=False)
    ids = [c.id for c in loaded.checks]
    assert "team_label" in ids and "default_storage_class" in ids
    origin = next(c.origin for c in loaded.checks if c.id == "team_label")
    assert origin == f"dir {tmp_path}"
    problems = {Path(p.origin).name: p.message for p in loaded.problems}
    assert problems == {
        "broken.py": "ModuleNotFoundError: No module named 'does_not_exist'",
        "misnamed.py": f"{tmp_path / 'misnamed.py'}: check id 'team_label' must equal its module name 'misnamed'",
    }


def test_drop_in_cannot_shadow_a_builtin(tmp_path: Path) -> None:
    (tmp_path / "default_storage_class.py").write_text(GOOD.replace("team_label", "default_storage_class"))
    loaded = load_checks([tmp_path], include_plugins=False)
    assert next(c.origin for c in loaded.checks if c.id == "default_storage_class") == "builtin"
    assert [p.message for p in loaded.problems] == ["check id 'default_storage_class' already defined by builtin"]


def test_missing_directory_and_unknown_selection(tmp_path: Path) -> None:
    with pytest.raises(CheckLoadError, match="not a directory"):
        load_checks([tmp_path / "nope"], include_plugins=False)
    checks = load_checks(include_plugins=False).checks
    with pytest.raises(CheckLoadError, match=r"unknown check id: bogus \(see `kfstor checks`\)"):
        select(checks, ["bogus"], [])
    chosen = select(checks, [], ["default_storage_class"])
    assert "default_storage_class" not in {c.id for c in chosen}
    assert [c.id for c in select(checks, ["rwx_claims"], [])] == ["rwx_claims"]
