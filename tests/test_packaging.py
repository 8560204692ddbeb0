"""The wheel as users get it: built from this tree, installed into a fresh virtualenv outside the
repository, with a third-party check package from tests/plugin_pkg installed beside it.

Slow (a wheel build, a virtualenv and the dependencies from the package index): one virtualenv
serves every assertion.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kfstor.engine.loader import load_checks

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SNAPSHOT = TESTS / "golden" / "snapshot.yaml"
PLUGIN = TESTS / "plugin_pkg"
BROKEN_EP = "entry point example_missing = kfstor_example_plugin.checks:NO_SUCH_CHECK"


def clean_env() -> dict[str, str]:
    """The environment without anything that would let the venv see this checkout or its packages."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONUSERBASE")
    }
    env["PYTHONNOUSERSITE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["NO_COLOR"] = "1"
    return env


def run(cmd: list[str | Path], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@dataclass(frozen=True)
class Venv:
    root: Path
    work: Path  # a working directory outside the repository, holding the example snapshot

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def kfstor(self) -> Path:
        return self.root / "bin" / "kfstor"

    def pip_install(self, *args: str | Path) -> None:
        ok(run([self.python, "-m", "pip", "install", "--quiet", *args], cwd=self.work, timeout=600))


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("packaging")
    assert ROOT not in path.parents
    return path


@pytest.fixture(scope="module")
def wheel(tmp: Path) -> Path:
    dist = tmp / "dist"
    ok(run([sys.executable, "-m", "build", "--wheel", "--outdir", dist, ROOT], cwd=tmp, timeout=600))
    (built,) = dist.glob("kfstor-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(tmp: Path, wheel: Path) -> Iterator[Venv]:
    root = tmp / "venv"
    ok(run([sys.executable, "-m", "venv", root], cwd=tmp))
    work = tmp / "work"
    work.mkdir()
    shutil.copy(SNAPSHOT, work / "eks-kubeflow-1.11.yaml")
    env = Venv(root, work)
    env.pip_install(wheel)
    yield env


@pytest.fixture(scope="module")
def with_plugin(venv: Venv, tmp: Path) -> Venv:
    source = tmp / "plugin-src"  # build from a copy: nothing is written into tests/
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    venv.pip_install(source)
    return venv


# ---------------------------------------------------------------------------------------------


def test_wheel_ships_checks_and_templates_under_kfstor(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "kfstor/checks/default_storage_class.py" in names
    assert "kfstor/templates/report.html.j2" in names
    assert "kfstor/schema/report-v1.json" in names
    assert "kfstor/cli.py" in names
    top_level = {name.split("/", 1)[0] for name in names}
    assert "checks" not in top_level, sorted(top_level)
    assert "reports" not in top_level and "tests" not in top_level, sorted(top_level)
    shipped = {
        n.removeprefix("kfstor/checks/").removesuffix(".py")
        for n in names
        if n.startswith("kfstor/checks/") and not n.endswith("__init__.py")
    }
    assert shipped == {c.id for c in load_checks(include_plugins=False).checks}
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "kfstor = kfstor.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_audits_a_snapshot_into_html(venv: Venv) -> None:
    result = run([venv.kfstor, "audit", "--from", "eks-kubeflow-1.11.yaml", "--html", "report.html"], cwd=venv.work)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    html = (venv.work / "report.html").read_text(encoding="utf-8")
    assert "kfstor storage readiness report" in html
    assert 'id="check-default_storage_class"' in html
    assert result.stdout.splitlines()[-1].startswith("Storage readiness gate ")


def test_installed_wheel_finds_its_built_in_checks(venv: Venv) -> None:
    result = ok(run([venv.kfstor, "checks"], cwd=venv.work))
    listed = {line.split()[0] for line in result.stdout.splitlines()}
    assert {c.id for c in load_checks(include_plugins=False).checks} <= listed
    origin = ok(run([venv.kfstor, "checks", "default_storage_class"], cwd=venv.work)).stdout
    assert origin.splitlines()[-1] == "Source: builtin"


def test_no_generic_checks_package_is_importable(venv: Venv) -> None:
    result = run([venv.python, "-c", "import checks"], cwd=venv.work)
    assert result.returncode != 0
    assert "ModuleNotFoundError: No module named 'checks'" in result.stderr
    where = ok(run([venv.python, "-c", "import kfstor; print(kfstor.__file__)"], cwd=venv.work)).stdout
    assert Path(where.strip()).is_relative_to(venv.root), where


def test_plugin_check_is_listed(with_plugin: Venv) -> None:
    result = run([with_plugin.kfstor, "checks"], cwd=with_plugin.work)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert rows["example_pvc_labels"].endswith("Claims say which application they belong to  [PersistentVolumeClaim]")
    assert "example_missing" not in rows
    assert result.stderr.startswith(f"kfstor: warning: check not loaded: {BROKEN_EP}: AttributeError")
    doc = ok(run([with_plugin.kfstor, "checks", "example_pvc_labels"], cwd=with_plugin.work)).stdout
    assert doc.splitlines()[0] == "example_pvc_labels: Claims say which application they belong to"
    assert doc.splitlines()[-1] == "Source: plugin kfstor-example-plugin"


def test_plugin_check_runs_and_the_broken_one_is_only_a_warning(with_plugin: Venv) -> None:
    result = run(
        [with_plugin.kfstor, "audit", "--from", "eks-kubeflow-1.11.yaml", "--format", "json"], cwd=with_plugin.work
    )
    assert result.returncode in (0, 1), result.stderr
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith(f"kfstor: warning: check not loaded: {BROKEN_EP}: AttributeError: ")
    assert "NO_SUCH_CHECK" in warnings[0]
    doc = json.loads(result.stdout)
    assert doc["gate"]["exit_code"] == result.returncode
    assert any(note.startswith(f"check not loaded: {BROKEN_EP}") for note in doc["notes"])
    check = next(c for c in doc["checks"] if c["id"] == "example_pvc_labels")
    assert check["status"] == "warn"
    assert check["origin"] == "plugin kfstor-example-plugin"
    assert {f["object"]: f["status"] for f in check["findings"]} == {
        "PersistentVolumeClaim/kubeflow/mysql-pv-claim": "pass",
        "PersistentVolumeClaim/kubeflow/katib-mysql": "warn",
        "PersistentVolumeClaim/kubeflow/seaweedfs-pvc": "pass",
        "PersistentVolumeClaim/kubeflow-user-example-com/workspace-nb1": "warn",
        "PersistentVolumeClaim/kubeflow-user-example-com/shared-datasets": "pass",
        "PersistentVolumeClaim/kubeflow-user-example-com/scratch-old": "warn",
    }
    messages = {f["name"]: f["message"] for f in check["findings"]}
    assert messages["katib-mysql"] == (
        "claim kubeflow/katib-mysql has no app.kubernetes.io/part-of label: "
        "nobody can tell which application owns its data"
    )
    assert messages["shared-datasets"] == ("claim kubeflow-user-example-com/shared-datasets is part of team-datasets")
    assert {c["id"] for c in doc["checks"]} >= {"default_storage_class", "example_pvc_labels"}


def test_plugin_check_alone_through_the_gate(with_plugin: Venv) -> None:
    base = [with_plugin.kfstor, "audit", "--from", "eks-kubeflow-1.11.yaml", "--check", "example_pvc_labels"]
    assert run(base, cwd=with_plugin.work).returncode == 0  # warn passes the default gate
    assert run([*base, "--fail-on", "warn"], cwd=with_plugin.work).returncode == 1
