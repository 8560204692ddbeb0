"""The layer contract: dependencies run one way, cli -> engine -> render -> facts -> collect -> model.

Every import counts: module level, inside functions (lazy imports), and under TYPE_CHECKING.
Checks import only the public check API (kfstor, kfstor.api, kfstor.model, kfstor.facts.*).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kfstor"
CHECKS = ROOT / "checks"

# What each room may import of kfstor (besides itself). kfstor.resources and kfstor.model are leaves.
ALLOWED: dict[str, set[str]] = {
    "kfstor.model": set(),
    "kfstor.resources": set(),
    "kfstor.collect": {"kfstor.model", "kfstor.resources"},
    "kfstor.facts": {"kfstor.model", "kfstor.collect.snapshot", "kfstor.collect.kinds", "kfstor.collect.manifests"},
    "kfstor.render": {"kfstor", "kfstor.model", "kfstor.resources", "kfstor.collect.snapshot", "kfstor.facts"},
    "kfstor.engine": {
        "kfstor",
        "kfstor.model",
        "kfstor.resources",
        "kfstor.collect",
        "kfstor.facts",
        "kfstor.render",
    },
    "kfstor.api": {"kfstor.model", "kfstor.collect.snapshot", "kfstor.facts"},
}
# The top of the stack may import anything of kfstor.
UNRESTRICTED = {"kfstor", "kfstor.cli", "kfstor.__main__"}
CHECK_ALLOWED = {"kfstor", "kfstor.api", "kfstor.model", "kfstor.facts"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def kfstor_imports(path: Path) -> set[str]:
    """Every kfstor module a file imports, wherever the import statement stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from kfstor.facts import k8s` imports the module kfstor.facts.k8s
            found.update(f"{base}.{alias.name}" for alias in node.names if not alias.name.startswith("__"))
    return {name for name in found if name == "kfstor" or name.startswith("kfstor.")}


def room(module: str) -> str:
    for prefix in sorted(ALLOWED, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return module


def allowed(target: str, permitted: set[str]) -> bool:
    # "kfstor" permits the package itself (its version, its lazy facade), not everything below it.
    return any(target == p or (p != "kfstor" and target.startswith(p + ".")) for p in permitted)


def violations(path: Path) -> list[str]:
    module = module_name(path)
    if module in UNRESTRICTED:
        return []
    own = room(module)
    permitted = ALLOWED.get(own)
    if permitted is None:
        return [f"{module} is in no layer: add it to a room"]
    bad = []
    for target in sorted(kfstor_imports(path)):
        if allowed(target, {own}) or allowed(target, permitted):
            continue
        bad.append(f"{module} imports {target}")
    return bad


def check_violations(path: Path) -> list[str]:
    return [
        f"checks/{path.name} imports {target}"
        for target in sorted(kfstor_imports(path))
        if not allowed(target, CHECK_ALLOWED)
    ]


PACKAGE_FILES = sorted(PACKAGE.rglob("*.py"))
CHECK_FILES = sorted(CHECKS.glob("*.py"))


@pytest.mark.parametrize("path", PACKAGE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_package_layers(path: Path) -> None:
    assert violations(path) == []


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda p: p.name)
def test_checks_use_only_the_public_api(path: Path) -> None:
    assert check_violations(path) == []


def test_the_contract_catches_every_kind_of_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model that imports the snapshot under TYPE_CHECKING, a renderer that imports the cluster
    lazily, and a check that imports the runner are each reported."""
    fake_root = tmp_path
    (fake_root / "kfstor" / "render").mkdir(parents=True)
    (fake_root / "checks").mkdir()
    model = fake_root / "kfstor" / "model.py"
    model.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from kfstor.collect.snapshot import Snapshot\n"
    )
    renderer = fake_root / "kfstor" / "render" / "html.py"
    renderer.write_text("def render():\n    from kfstor.collect import cluster\n")
    relative = fake_root / "kfstor" / "render" / "junit.py"
    relative.write_text("from ..engine import runner\n")
    check = fake_root / "checks" / "bad.py"
    check.write_text("from kfstor.engine.runner import run\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    assert violations(model) == [
        "kfstor.model imports kfstor.collect.snapshot",
        "kfstor.model imports kfstor.collect.snapshot.Snapshot",
    ]
    assert violations(renderer) == [
        "kfstor.render.html imports kfstor.collect",
        "kfstor.render.html imports kfstor.collect.cluster",
    ]
    assert violations(relative) == [
        "kfstor.render.junit imports kfstor.engine",
        "kfstor.render.junit imports kfstor.engine.runner",
    ]
    assert check_violations(check) == [
        "checks/bad.py imports kfstor.engine.runner",
        "checks/bad.py imports kfstor.engine.runner.run",
    ]
