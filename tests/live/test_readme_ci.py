"""The README's CI examples work as written on a fresh runner.

Both scripts (GitHub Actions' `run:` and GitLab CI's `script:`) are taken from README.md and run,
line for line, with bash in a fresh virtualenv (nothing of kfstor installed) from a fresh copy of
the repository, against the real test control plane seeded with a healthy cluster: they must
install kfstor, pass the gate and write the reports they name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfstor.engine.loader import load_checks

from .controlplane import ControlPlane, start_control_plane
from .scenarios import seed_scenario

pytestmark = [pytest.mark.slow, pytest.mark.live]

REPO = Path(__file__).resolve().parents[2]
IGNORED = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache", ".pytest_cache")


def _blocks(heading: str) -> list[Any]:
    section = (REPO / "README.md").read_text(encoding="utf-8").split(heading, 1)[1].split("\n## ", 1)[0]
    return [yaml.safe_load(chunk.split("```", 1)[0]) for chunk in section.split("```yaml\n")[1:]]


def github_script() -> tuple[str, dict[str, str]]:
    steps = _blocks("## Using it as a CI gate")[0]
    (step,) = [s for s in steps if "run" in s]
    return step["run"], dict(step.get("env") or {})


def gitlab_script() -> tuple[str, dict[str, str]]:
    job = _blocks("## Using it as a CI gate")[1]["kfstor"]
    return "\n".join(job["script"]) + "\n", dict(job.get("variables") or {})


def test_the_examples_are_the_ones_in_the_readme() -> None:
    for script, env in (github_script(), gitlab_script()):
        assert "pip install kfstor" not in script  # not on PyPI
        assert 'pip install "$KFSTOR_SRC"' in script and env == {"KFSTOR_SRC": "."}


@pytest.fixture(scope="module")
def cluster(control_plane: ControlPlane) -> Iterator[ControlPlane]:
    plane = start_control_plane(binaries=control_plane.binaries)
    try:
        seed_scenario(plane, "portworx-kubeflow-1.10-healthy")
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh runner: a new virtualenv with nothing but pip (and the interpreter's stdlib)."""
    venv = tmp_path_factory.mktemp("runner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    return venv


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_ci_example_runs_as_written(cluster: ControlPlane, runner: Path, tmp_path: Path, ci: str) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO, checkout, ignore=IGNORED)
    script, variables = github_script() if ci == "github" else gitlab_script()
    summary = tmp_path / "step-summary.md"
    env = {
        "PATH": f"{runner / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "KUBECONFIG": str(cluster.kubeconfig("admin")),
        "GITHUB_STEP_SUMMARY": str(summary),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        **{k: v for k, v in os.environ.items() if k.startswith(("PIP_INDEX", "PIP_EXTRA", "PIP_TRUSTED"))},
        **variables,
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (runner / "bin" / "kfstor").exists()
    suites = ET.parse(checkout / "kfstor.xml").getroot().findall("testsuite")
    assert len(suites) == len(load_checks(include_plugins=False).checks)  # one per built-in check
    assert (checkout / "kfstor.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    if ci == "github":
        assert summary.read_text(encoding="utf-8").startswith("## kfstor: Storage readiness gate PASSED")
