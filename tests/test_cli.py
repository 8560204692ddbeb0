"""The command line: every exit code, one-line errors, several report files in one run, and the
`checks`, `rbac` and `--help` commands.

Error cases run the real entry point (kfstor.cli:main) in a subprocess, so what is asserted is
exactly what a user or a CI job sees on stderr; the rest uses typer's CliRunner in-process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from kfstor.cli import app
from kfstor.engine.loader import load_checks

HERE = Path(__file__).resolve().parent
SNAPSHOT = HERE / "golden" / "snapshot.yaml"  # one dynamic default (gp3): default_storage_class passes
ENTRY = "import sys; sys.argv[0] = 'kfstor'; from kfstor.cli import main; main()"
EXIT_CODES = (
    "Exit codes: 0 gate passed; 1 gate failed (a check at or above --fail-on, or any check error; with "
    "--baseline, a new problem at or above --fail-on); "
    "2 usage or input error (bad flag, unreadable or malformed file, config or kubeconfig); "
    "3 cluster unreachable or authentication failed; "
    "4 incomplete: a check could not be evaluated (a kind it needs was forbidden or unreadable), "
    "unless --allow-partial; 130 interrupted; 143 terminated."
)


def kfstor(*args: str | Path, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console entry point as `kfstor ...` would, writing to a pipe at the default width."""
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *map(str, args)],
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")},
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stderr.endswith("\n")
    assert lines[0].startswith("kfstor: error: "), lines[0]
    return lines[0]


def storage_class(
    name: str, default: bool, provisioner: str = "ebs.csi.aws.com", created: str = "2025-01-01T00:00:00Z"
) -> str:
    value = "true" if default else "false"
    return textwrap.dedent(f"""\
        - apiVersion: storage.k8s.io/v1
          kind: StorageClass
          metadata:
            name: {name}
            creationTimestamp: "{created}"
            annotations: {{storageclass.kubernetes.io/is-default-class: "{value}"}}
          provisioner: {provisioner}
          reclaimPolicy: Delete
          volumeBindingMode: WaitForFirstConsumer
        """)


def snapshot_file(tmp_path: Path, name: str, *classes: str) -> Path:
    path = tmp_path / name
    path.write_text("apiVersion: v1\nkind: List\nitems:\n" + "".join(classes), encoding="utf-8")
    return path


@pytest.fixture
def failing(tmp_path: Path) -> Path:
    """No default StorageClass: default_storage_class fails."""
    return snapshot_file(tmp_path, "no-default.yaml", storage_class("gp2", False), storage_class("efs", False))


@pytest.fixture
def warn_only(tmp_path: Path) -> Path:
    """Two defaults: default_storage_class warns (and passes the newest)."""
    return snapshot_file(
        tmp_path,
        "two-defaults.yaml",
        storage_class("old", True, created="2024-01-01T00:00:00Z"),
        storage_class("new", True, created="2025-06-01T00:00:00Z"),
    )


@pytest.fixture
def crashing_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "local-checks"
    folder.mkdir()
    (folder / "boom.py").write_text(
        textwrap.dedent('''\
        """A drop-in check with a bug."""
        from kfstor import Check


        def evaluate(snap, ctx):
            return [1 / 0]


        CHECK = Check(id="boom", title="Crashes", kinds=("StorageClass",), evaluate=evaluate,
                      description="Divides by zero.", remediation="Fix the check.")
        '''),
        encoding="utf-8",
    )
    return folder


# ---------------------------------------------------------------------------------------------
# 0 and 1: the gate


def test_exit_0_when_the_gate_passes() -> None:
    result = kfstor("audit", "--from", SNAPSHOT, "--check", "default_storage_class")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "PASS  default_storage_class — A single dynamic default StorageClass exists" in result.stdout
    assert result.stdout.splitlines()[-1] == "Storage readiness gate PASSED (1 pass)"


def test_exit_0_reading_the_snapshot_from_stdin() -> None:
    result = kfstor(
        "audit",
        "--from",
        "-",
        "--check",
        "default_storage_class",
        "--format",
        "json",
        stdin=SNAPSHOT.read_text(encoding="utf-8"),
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["source"]["description"] == "stdin"
    assert [(c["id"], c["status"]) for c in doc["checks"]] == [("default_storage_class", "pass")]


def test_stdin_named_twice_is_a_usage_error() -> None:
    """The second read of stdin would find it empty: say so, not "stdin holds no Kubernetes objects"."""
    result = kfstor("audit", "--from", "-", "--from", str(SNAPSHOT), "--from", "-", stdin=SNAPSHOT.read_text())
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "kfstor: error: --from - reads stdin, which can be read once: give - at most once\n"


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_namespace_is_a_usage_error(value: str) -> None:
    """kfstor.yaml refuses an empty namespace; the option does too, instead of meaning kubeflow."""
    result = kfstor("audit", "--from", str(SNAPSHOT), "-n", value)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "kfstor: error: --namespace must name a namespace (leave it out for kfstor.yaml's, else kubeflow)\n"
    )


def test_exit_1_when_a_check_fails(failing: Path) -> None:
    result = kfstor("audit", "--from", failing, "--check", "default_storage_class")
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert "FAIL  default_storage_class — A single dynamic default StorageClass exists" in result.stdout
    assert (
        "      FAIL  KFS-DEFAULT-NONE cluster: no StorageClass is marked default (classes: efs, gp2)" in result.stdout
    )
    assert result.stdout.splitlines()[-1] == "Storage readiness gate FAILED (1 fail)"


def test_fail_on_never_passes_a_failing_audit(failing: Path) -> None:
    result = kfstor("audit", "--from", failing, "--check", "default_storage_class", "--fail-on", "never")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "Storage readiness gate PASSED WITH WARNINGS (1 fail)"


@pytest.mark.parametrize(("fail_on", "code"), [(None, 0), ("fail", 0), ("warn", 1), ("never", 0)])
def test_warn_only_audit_against_each_gate(warn_only: Path, fail_on: str | None, code: int) -> None:
    args = ["audit", "--from", warn_only, "--check", "default_storage_class", "--format", "json"]
    if fail_on:
        args += ["--fail-on", fail_on]
    result = kfstor(*args)
    assert result.returncode == code, result.stderr
    doc = json.loads(result.stdout)
    assert doc["gate"]["exit_code"] == code
    (check,) = doc["checks"]
    assert check["status"] == "warn"
    assert {f["name"]: f["status"] for f in check["findings"]} == {"new": "pass", "old": "warn"}


@pytest.mark.parametrize("fail_on", ["fail", "warn", "never"])
def test_a_check_error_fails_the_gate_whatever_fail_on_says(crashing_dir: Path, fail_on: str) -> None:
    """Report.exit_code: any `error` result is exit 1, before --fail-on is looked at."""
    result = kfstor(
        "audit",
        "--from",
        SNAPSHOT,
        "--checks-dir",
        crashing_dir,
        "--check",
        "boom",
        "--check",
        "default_storage_class",
        "--fail-on",
        fail_on,
        "--format",
        "json",
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    statuses = {c["id"]: (c["status"], c["reason"]) for c in doc["checks"]}
    assert statuses == {
        "boom": ("error", "ZeroDivisionError: division by zero"),
        "default_storage_class": ("pass", ""),
    }
    assert doc["gate"]["passed"] is False


# ---------------------------------------------------------------------------------------------
# 2: usage and input errors, each one line on stderr


def test_exit_2_unknown_flag() -> None:
    result = kfstor("audit", "--bogus")
    assert result.returncode == 2
    assert one_error_line(result) == "kfstor: error: No such option: --bogus (see 'kfstor audit --help')"
    assert result.stdout == ""


def test_exit_2_unknown_format() -> None:
    result = kfstor("audit", "--from", SNAPSHOT, "--format", "bogus")
    assert result.returncode == 2
    line = one_error_line(result)
    assert line.startswith("kfstor: error: Invalid value for '--format'")
    assert "'bogus' is not one of 'table', 'json', 'junit', 'html', 'markdown'" in line
    assert result.stdout == ""


def test_exit_2_unknown_command() -> None:
    result = kfstor("frobnicate")
    assert result.returncode == 2
    assert one_error_line(result) == "kfstor: error: No such command 'frobnicate'. (see 'kfstor --help')"


def test_exit_2_malformed_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: v1\nkind: List\nitems:\n- kind: StorageClass\n  metadata: {name: gp3\n  provisioner: x\n",
        encoding="utf-8",
    )
    result = kfstor("audit", "--from", bad)
    assert result.returncode == 2
    line = one_error_line(result)
    expected = rf"kfstor: error: {re.escape(str(bad))}: invalid YAML at line 6 column \d+: .+"
    assert re.fullmatch(expected, line), line
    assert result.stdout == ""


def test_exit_2_not_a_kubernetes_object(tmp_path: Path) -> None:
    bad = tmp_path / "objects.yaml"
    bad.write_text("kind: StorageClass\nprovisioner: x\n", encoding="utf-8")
    result = kfstor("audit", "--from", bad)
    assert result.returncode == 2
    assert one_error_line(result) == (f"kfstor: error: {bad}: document 1 (StorageClass) has no 'metadata' mapping")


def test_exit_2_missing_input_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = kfstor("audit", "--from", missing)
    assert result.returncode == 2
    assert one_error_line(result) == f"kfstor: error: {missing}: no such file or directory"


def test_exit_2_malformed_config_file(tmp_path: Path) -> None:
    config = tmp_path / "ci-kfstor.yaml"
    config.write_text("namespace: [kubeflow\n", encoding="utf-8")
    result = kfstor("audit", "--from", SNAPSHOT, "--config", config)
    assert result.returncode == 2
    line = one_error_line(result)
    assert line.startswith(f"kfstor: error: {config}: invalid YAML at line 2: ")


def test_exit_2_invalid_config_found_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "kfstor.yaml").write_text("waivers: 3\n", encoding="utf-8")
    result = kfstor("audit", "--from", SNAPSHOT, cwd=tmp_path)
    assert result.returncode == 2
    assert one_error_line(result) == f"kfstor: error: {tmp_path / 'kfstor.yaml'}: waivers must be a list"


def test_exit_2_unknown_check_option_in_config(tmp_path: Path) -> None:
    config = tmp_path / "kfstor.yaml"
    config.write_text("checks:\n  default_storage_class:\n    options: {min_replicas: 2}\n", encoding="utf-8")
    result = kfstor("audit", "--from", SNAPSHOT, "--config", config, "--check", "default_storage_class")
    assert result.returncode == 2
    assert one_error_line(result) == (
        f"kfstor: error: {config}: checks.default_storage_class.options.min_replicas: unknown option (known: none)"
    )


@pytest.mark.parametrize("flag", ["--check", "--skip"])
def test_exit_2_unknown_check_id(flag: str) -> None:
    result = kfstor("audit", "--from", SNAPSHOT, flag, "no_such_check")
    assert result.returncode == 2
    assert one_error_line(result) == "kfstor: error: unknown check id: no_such_check (see `kfstor checks`)"
    assert result.stdout == ""


def test_exit_2_unknown_check_id_for_checks_command() -> None:
    result = kfstor("checks", "no_such_check")
    assert result.returncode == 2
    assert one_error_line(result) == "kfstor: error: unknown check id: no_such_check (see `kfstor checks`)"


def test_exit_2_unwritable_report_path(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a folder should be\n", encoding="utf-8")
    target = blocker / "report.html"
    result = kfstor("audit", "--from", SNAPSHOT, "--check", "default_storage_class", "--html", target)
    assert result.returncode == 2
    assert one_error_line(result) == f"kfstor: error: cannot write {target}: Not a directory"
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-dir"]


# ---------------------------------------------------------------------------------------------
# 3: the cluster cannot be reached


def test_exit_3_connection_refused(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        textwrap.dedent("""\
        apiVersion: v1
        kind: Config
        clusters:
        - name: nothing-listens
          cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
        users:
        - name: tester
          user: {token: not-a-real-token}
        contexts:
        - name: nothing-listens
          context: {cluster: nothing-listens, user: tester}
        current-context: nothing-listens
        """),
        encoding="utf-8",
    )
    result = kfstor("audit", "--kubeconfig", kubeconfig, "--check", "default_storage_class", "--request-timeout", "5")
    assert result.returncode == 3
    # The kubeconfig turns TLS verification off: said first, on stderr, whatever happens next.
    assert result.stderr.splitlines() == [
        "kfstor: warning: TLS verification is off for https://127.0.0.1:1 (insecure-skip-tls-verify in "
        f"{kubeconfig}): the server's identity is not checked",
        "kfstor: error: cannot reach the cluster at https://127.0.0.1:1: connection refused",
    ]
    assert result.stdout == ""


# ---------------------------------------------------------------------------------------------
# Several formats in one run


def test_every_format_in_one_run(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    paths = {
        name: out / file
        for name, file in (
            ("html", "report.html"),
            ("json", "report.json"),
            ("junit", "report.junit.xml"),
            ("markdown", "report.md"),
        )
    }
    result = CliRunner().invoke(
        app,
        [
            "audit",
            "--from",
            str(SNAPSHOT),
            "--check",
            "default_storage_class",
            "--format",
            "json",
            "--html",
            str(paths["html"]),
            "--json",
            str(paths["json"]),
            "--junit",
            str(paths["junit"]),
            "--markdown",
            str(paths["markdown"]),
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths.values())  # no temp files
    stdout_doc = json.loads(result.stdout)
    assert json.loads(paths["json"].read_text(encoding="utf-8")) == stdout_doc
    assert [(c["id"], c["status"]) for c in stdout_doc["checks"]] == [("default_storage_class", "pass")]
    html = paths["html"].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "kfstor storage readiness report" in html
    assert 'id="check-default_storage_class"' in html
    suites = ET.parse(paths["junit"]).getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["default_storage_class"]
    assert (
        paths["markdown"]
        .read_text(encoding="utf-8")
        .startswith("## kfstor: Storage readiness gate PASSED (1 pass)\n\n**✅ passed**\n")
    )


def test_a_report_file_is_replaced_whole(tmp_path: Path, failing: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("stale report from yesterday\n" * 50, encoding="utf-8")
    result = kfstor("audit", "--from", failing, "--check", "default_storage_class", "--markdown", target)
    assert result.returncode == 1
    text = target.read_text(encoding="utf-8")
    assert "stale" not in text
    assert text.startswith("## kfstor: Storage readiness gate FAILED (1 fail)\n\n**❌ failed**\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["no-default.yaml", "report.md"]


# ---------------------------------------------------------------------------------------------
# checks, rbac, --help


def test_checks_lists_every_id() -> None:
    result = CliRunner().invoke(app, ["checks"], env={"COLUMNS": "1000"})
    assert result.exit_code == 0, result.output
    ids = [line.split()[0] for line in result.stdout.splitlines()]
    assert ids == sorted(c.id for c in load_checks().checks)
    assert "default_storage_class" in ids
    line = next(row for row in result.stdout.splitlines() if row.startswith("default_storage_class "))
    assert line.endswith("A single dynamic default StorageClass exists  [StorageClass]")


def test_checks_id_prints_the_documentation() -> None:
    check = next(c for c in load_checks().checks if c.id == "default_storage_class")
    result = CliRunner().invoke(app, ["checks", "default_storage_class"], env={"COLUMNS": "1000"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "default_storage_class: A single dynamic default StorageClass exists"
    assert check.description.strip() in result.stdout
    assert "Reads: StorageClass" in lines
    assert f"Remediation: {check.remediation}" in lines
    assert lines[-1] == "Source: builtin"


def test_rbac_is_read_only_and_never_reads_secrets(tmp_path: Path) -> None:
    greedy = tmp_path / "greedy"
    greedy.mkdir()
    (greedy / "wants_secrets.py").write_text(
        textwrap.dedent("""\
        from kfstor import Check

        CHECK = Check(id="wants_secrets", title="Reads Secrets", kinds=("Secret", "StorageClass"),
                      evaluate=lambda snap, ctx: [], description="Asks for Secrets.", remediation="None.")
        """),
        encoding="utf-8",
    )
    for args in (["rbac"], ["rbac", "--checks-dir", str(greedy)]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        role, binding = list(yaml.safe_load_all(result.stdout))
        assert role["kind"] == "ClusterRole" and role["metadata"]["name"] == "kfstor-auditor"
        assert role["rules"], role
        for rule in role["rules"]:
            assert rule["verbs"] == ["get", "list", "watch"], rule
            assert "secrets" not in rule["resources"], rule
            assert "*" not in rule["resources"] and "*" not in rule["apiGroups"], rule
        resources = {(g, r) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]}
        assert ("storage.k8s.io", "storageclasses") in resources
        assert ("", "persistentvolumeclaims") in resources
        assert "secret" not in result.stdout.lower().replace("no secrets", "")
        assert binding["kind"] == "ClusterRoleBinding"
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "kfstor-auditor",
        }


@pytest.mark.parametrize("args", [["audit", "--help"], ["--help"]])
def test_help_documents_the_exit_codes(args: list[str]) -> None:
    result = kfstor(*args)
    assert result.returncode == 0
    assert result.stderr == ""
    assert EXIT_CODES in " ".join(result.stdout.split())


def test_version() -> None:
    result = kfstor("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"kfstor \d+\.\d+\.\d+\S*\n", result.stdout)


def test_drivers_prints_every_row_with_its_source() -> None:
    from kfstor.facts.drivers import PROFILES

    result = CliRunner().invoke(app, ["drivers"], env={"COLUMNS": "1000"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["family", "provisioner", "serves", "RWX", "RWX", "block", "replication", "source"]
    rows = {line.split()[0]: line for line in lines[1 : len(PROFILES) + 1]}
    assert set(rows) == {p.family for p in PROFILES}
    assert rows["portworx"].split()[1:6] == ["pxd.portworx.com", "by", "sharedv4", "by", "sharedv4"]
    assert rows["portworx"].rstrip().endswith(next(p.source for p in PROFILES if p.family == "portworx"))
    assert rows["rbd-intree"].split()[1:3] == ["kubernetes.io/rbd", "removed"]


@pytest.mark.parametrize("columns", [60, 80, 100, 200])
def test_listings_fit_the_terminal(columns: int) -> None:
    """drivers, explain and checks wrap at the width at spaces only; nothing is lost on the way."""
    from kfstor.facts.drivers import PROFILES

    env = {"COLUMNS": str(columns)}
    for args in (["drivers"], ["explain"], ["checks"], ["drivers", "portworx"], ["explain", "KFS-DEFAULT-NONE"]):
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        long = [line for line in result.stdout.splitlines() if len(line) > columns and len(line.split()) > 1]
        assert long == [], (args, long)
    text = " ".join(CliRunner().invoke(app, ["drivers"], env=env).stdout.split())
    for profile in PROFILES:
        assert " ".join(profile.source.split()) in text, profile.family
    codes = " ".join(CliRunner().invoke(app, ["explain"], env=env).stdout.split())
    assert "KFS-DEFAULT-NONE No default StorageClass [default_storage_class]" in codes


def test_drivers_name_prints_one_row_and_unknown_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["drivers", "openshift-storage.cephfs.csi.ceph.com"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("CephFS (cephfs)\n")
    assert "ReadWriteMany file system: yes" in result.stdout
    assert "source: " in result.stdout
    unknown = subprocess.run(
        [sys.executable, "-c", "from kfstor.cli import main; main()", "drivers", "csi.example.net"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 2
    assert unknown.stderr == (
        "kfstor: error: no driver 'csi.example.net' in kfstor's table: its capabilities are reported as cannot verify\n"
    )
