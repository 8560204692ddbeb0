"""kfstor packaged like its peers: the kubectl plugin name, -h, `version`, completion, -o, the
in-cluster files (deploy/base, Containerfile), the krew manifest, and the CI integrations (the
GitHub Action's and the GitLab template's scripts are run here for real, on a snapshot file)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "no-default-pending.yaml"  # fails the gate: exit 1


def run_as(argv0: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    code = f"import sys; sys.argv[0] = {argv0!r}; from kfstor.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


# --- kubectl plugin, help, version, completion -------------------------------------------------


def test_both_console_scripts_are_the_cli() -> None:
    scripts = {e.name: e.value for e in entry_points(group="console_scripts") if "kfstor" in e.name}
    assert scripts == {"kfstor": "kfstor.cli:main", "kubectl-kfstor": "kfstor.cli:main"}


def test_as_a_kubectl_plugin_help_and_errors_use_kubectl_kfstor() -> None:
    helped = run_as("/usr/local/bin/kubectl-kfstor", "audit", "--help")
    assert helped.returncode == 0
    assert helped.stdout.startswith("Usage: kubectl kfstor audit [OPTIONS]")
    failed = run_as("/usr/local/bin/kubectl-kfstor", "audit", "--bogus")
    assert failed.returncode == 2
    assert failed.stderr == "kubectl kfstor: error: No such option: --bogus (see 'kubectl kfstor audit --help')\n"
    missing = run_as("kubectl-kfstor", "audit", "--from", "/nonexistent.yaml")
    assert missing.returncode == 2
    assert missing.stderr.startswith("kubectl kfstor: error: ")
    plain = run_as("kfstor", "audit", "--bogus")
    assert plain.stderr == "kfstor: error: No such option: --bogus (see 'kfstor audit --help')\n"


def test_dash_h_is_help_everywhere() -> None:
    for args in ([], ["audit"], ["snapshot"], ["rbac"]):
        short, long = run_as("kfstor", *args, "-h"), run_as("kfstor", *args, "--help")
        assert short.returncode == long.returncode == 0
        assert short.stdout == long.stdout and "Usage: kfstor" in short.stdout


def test_version_command_and_flag() -> None:
    from kfstor import __version__

    assert run_as("kfstor", "version").stdout == f"kfstor {__version__}\n"
    assert run_as("kfstor", "--version").stdout == f"kfstor {__version__}\n"


def test_shell_completion_completes_commands_and_options() -> None:
    assert "--install-completion" in run_as("kfstor", "--help").stdout
    env = {**os.environ, "_KFSTOR_COMPLETE": "complete_bash", "COMP_WORDS": "kfstor au", "COMP_CWORD": "1"}
    assert run_as("kfstor", env=env).stdout.split() == ["audit"]
    env.update(COMP_WORDS="kfstor audit --all-con", COMP_CWORD="2")
    assert run_as("kfstor", env=env).stdout.split() == ["--all-contexts"]


def test_dash_o_is_the_format_flag_of_audit() -> None:
    short = run_as("kfstor", "audit", "--from", str(EXAMPLE), "-o", "json")
    long = run_as("kfstor", "audit", "--from", str(EXAMPLE), "--format", "json")
    assert short.returncode == long.returncode == 1
    first, second = json.loads(short.stdout), json.loads(long.stdout)
    assert first["checks"] == second["checks"]


def test_from_cannot_be_combined_with_a_fleet() -> None:
    result = run_as("kfstor", "audit", "--from", str(EXAMPLE), "--all-contexts")
    assert result.returncode == 2
    assert result.stderr == (
        "kfstor: error: --from audits files: it cannot be combined with several --context or --all-contexts\n"
    )


def test_prometheus_file_from_a_snapshot(tmp_path: Path) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    out = tmp_path / "kfstor.prom"
    result = run_as("kfstor", "audit", "--from", str(EXAMPLE), "--prometheus", str(out), "-o", "json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    families = {f.name: f for f in text_string_to_metric_families(out.read_text())}
    current = {s.labels["check"]: s.labels["status"] for s in families["kfstor_check_status"].samples if s.value}
    assert current == {c["id"]: c["status"] for c in doc["checks"]}
    (duration,) = families["kfstor_audit_duration_seconds"].samples
    assert 0 < duration.value < 60
    prom_stdout = run_as("kfstor", "audit", "--from", str(EXAMPLE), "-o", "prometheus")
    assert prom_stdout.returncode == 1
    assert "kfstor_gate_passed" in {f.name for f in text_string_to_metric_families(prom_stdout.stdout)}


# --- rbac and deploy/ ---------------------------------------------------------------------------


def test_rbac_for_a_service_account_is_deploy_base_rbac() -> None:
    printed = run_as("kfstor", "rbac", "--service-account", "kfstor/kfstor")
    assert printed.returncode == 0
    assert printed.stdout == (REPO / "deploy" / "base" / "rbac.yaml").read_text()
    role, binding = yaml.safe_load_all(run_as("kfstor", "rbac", "--service-account", "ops/audit-bot").stdout)
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "audit-bot", "namespace": "ops"}]
    assert binding["roleRef"]["name"] == role["metadata"]["name"] == "kfstor-auditor"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("kfstor", "expected NAMESPACE/NAME, e.g. kfstor/kfstor"),
        ("/kfstor", "expected NAMESPACE/NAME, e.g. kfstor/kfstor"),
        ("Kfstor/kfstor", "'Kfstor' is not a valid namespace name"),
        ("kfstor/bad name", "'bad name' is not a valid ServiceAccount name"),
    ],
)
def test_rbac_rejects_a_malformed_service_account(value: str, reason: str) -> None:
    result = run_as("kfstor", "rbac", "--service-account", value)
    assert result.returncode == 2
    assert result.stderr == f"kfstor: error: --service-account {value!r}: {reason}\n"


def cronjob() -> dict[str, object]:
    doc = yaml.safe_load((REPO / "deploy" / "base" / "cronjob.yaml").read_text())
    assert isinstance(doc, dict)
    return doc


def test_cronjob_runs_options_kfstor_has_with_the_image_user() -> None:
    spec = cronjob()["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[index]
    (container,) = spec["containers"]
    args = container["args"]
    assert args[0] == "audit"
    help_text = run_as("kfstor", "audit", "--help").stdout
    for arg in args[1:]:
        assert arg.split("=", 1)[0] in help_text
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    written = {str(Path(a.split("=", 1)[1]).parent) for a in args[1:] if a.startswith(("--html", "--json", "--prom"))}
    assert written <= mounts  # every report lands on a mounted volume: the root file system is read-only
    user = re.search(r"^USER (\d+):(\d+)$", (REPO / "Containerfile").read_text(), re.MULTILINE)
    assert user is not None and int(user.group(1)) != 0
    assert spec["securityContext"]["runAsUser"] == int(user.group(1))
    assert container["securityContext"] == {
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }


def test_containerfile_pins_its_base_and_copies_what_exists() -> None:
    text = (REPO / "Containerfile").read_text()
    (base,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base)
    assert re.findall(r"^FROM (\S+)", text, re.MULTILINE) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    for line in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.MULTILINE):
        for source in line.split():
            assert (REPO / source).exists(), source
    assert text.rstrip().splitlines()[-2:] == ['ENTRYPOINT ["kfstor"]', 'CMD ["audit"]']


def test_krew_manifest_template_names_the_plugin_binary() -> None:
    manifest = yaml.safe_load((REPO / "plugins" / "kfstor.yaml").read_text())
    assert manifest["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert manifest["kind"] == "Plugin" and manifest["metadata"]["name"] == "kfstor"
    from kfstor import __version__

    assert manifest["spec"]["version"] == f"v{__version__}"
    (platform,) = manifest["spec"]["platforms"]
    assert platform["bin"] == "kubectl-kfstor"
    assert (platform["uri"], platform["sha256"]) == ("RELEASE_URI", "RELEASE_SHA256")  # filled by build.py


@pytest.mark.slow
def test_krew_archive_runs_as_kubectl_kfstor(tmp_path: Path) -> None:
    """deploy/krew/build.py for real (pip installs the dependencies), then the archive unpacked as
    krew does and run through a link named like the plugin, with no kfstor on PATH."""
    import hashlib
    import tarfile

    out = tmp_path / "dist"
    uri = f"file://{out}/kubectl-kfstor.tar.gz"
    subprocess.run(
        [sys.executable, str(REPO / "deploy" / "krew" / "build.py"), "--out", str(out), "--uri", uri], check=True
    )
    archive = out / "kubectl-kfstor.tar.gz"
    manifest = yaml.safe_load((out / "kfstor.yaml").read_text())
    (platform,) = manifest["spec"]["platforms"]
    assert platform["uri"] == uri
    assert platform["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    unpacked = tmp_path / "store"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    assert not list((unpacked / "lib").rglob("*.so"))
    link = tmp_path / "bin" / "kubectl-kfstor"
    link.parent.mkdir()
    link.symlink_to(unpacked / "kubectl-kfstor")
    # The system's python3 when there is one (nothing of kfstor installed there), else this one.
    system = Path("/usr/bin/python3").exists()
    env = {"PATH": "/usr/bin:/bin" if system else f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    helped = subprocess.run([str(link), "--help"], capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert helped.returncode == 0 and helped.stdout.startswith("Usage: kubectl kfstor")
    audited = subprocess.run(
        [str(link), "audit", "--from", str(EXAMPLE), "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert audited.returncode == 1, audited.stderr
    installed = run_as("kfstor", "audit", "--from", str(EXAMPLE), "-o", "json")
    assert json.loads(audited.stdout)["checks"] == json.loads(installed.stdout)["checks"]


# --- CI integrations, run for real ---------------------------------------------------------------


def test_github_action_writes_summary_reports_and_exit_code(tmp_path: Path) -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    steps = {s.get("id") or s.get("name"): s for s in action["runs"]["steps"]}
    audit = steps["audit"]
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    env = {
        **os.environ,
        "KFSTOR_ARGS": f"--from {EXAMPLE} --check default_storage_class",
        "KFSTOR_FAIL_ON": "fail",
        "KFSTOR_REPORTS": str(tmp_path / "reports"),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
    }
    assert set(audit["env"]) == {"KFSTOR_ARGS", "KFSTOR_FAIL_ON", "KFSTOR_REPORTS"}
    result = subprocess.run(["bash", "-e", "-c", audit["run"]], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr  # the step records the code; the Gate step fails the job
    assert output.read_text() == "exit-code=1\n"
    assert summary.read_text().startswith("## kfstor: Storage readiness gate FAILED (1 fail)")
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "kfstor.html",
        "kfstor.json",
        "kfstor.md",
        "kfstor.prom",
        "kfstor.xml",
    ]
    assert steps["Keep the reports"]["if"] == "always()"
    assert steps["Keep the reports"]["with"]["path"] == "${{ inputs.report-dir }}"
    assert steps["Gate"]["run"] == 'exit "$KFSTOR_EXIT"'


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gitlab_template_script_keeps_reports_and_fails_by_exit_code(tmp_path: Path) -> None:
    template = yaml.safe_load((REPO / "ci" / "gitlab" / "kfstor.gitlab-ci.yml").read_text())
    job = template[".kfstor"]
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["paths"] == ["kfstor-reports/"]
    assert job["artifacts"]["reports"]["junit"] == "kfstor-reports/kfstor.xml"
    script = "set -eo pipefail\n" + "\n".join(job["script"])
    env = {**os.environ, "KFSTOR_ARGS": f"--from {EXAMPLE}", "KFSTOR_FAIL_ON": "fail"}
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    assert "## kfstor: Storage readiness gate FAILED" in result.stdout  # the summary, in the job log
    assert (tmp_path / "kfstor-reports" / "kfstor.xml").is_file()
    env["KFSTOR_FAIL_ON"] = "never"
    passed = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert passed.returncode == 0, passed.stderr
