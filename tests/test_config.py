"""kfstor.yaml parsing: good files load; every malformed one is a one-line error naming file and field."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml

from kfstor.engine import config_schema
from kfstor.engine.config import ConfigError, load, option_type_ok, parse, validate
from kfstor.engine.loader import load_checks

REPO = Path(__file__).resolve().parent.parent
SCHEMA_DIR = REPO / "kfstor" / "schema"
EXAMPLE = REPO / "examples" / "portworx-kubeflow-1.10.yaml"
NO_DEFAULT = REPO / "examples" / "no-default-pending.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kfstor.yaml"
    path.write_text(text)
    return path


def test_full_config(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
namespace: ml-platform
checks:
  stateful_replication: {options: {min_replicas: 2}}
  snapshot_support: {status: off}
  rwx_available: {status: fail}
waivers:
  - check: stateful_storage
    object: PersistentVolumeClaim/ml-platform/mysql-pv-claim
    reason: PV set to Retain by hand (OPS-1234)
    expires: 2027-03-31
""",
    )
    config = load(path)
    assert config.namespace == "ml-platform"
    assert config.for_check("stateful_replication").options == {"min_replicas": 2}
    assert config.for_check("snapshot_support").status == "off"  # YAML's bare off reads as False
    assert config.for_check("rwx_available").status == "fail"
    assert config.waivers[0].expires == dt.date(2027, 3, 31)
    assert config.for_check("other").status is None


def test_found_in_working_directory(tmp_path: Path) -> None:
    write(tmp_path, "namespace: kf\n")
    assert load(None, cwd=tmp_path).namespace == "kf"
    assert load(None, cwd=tmp_path / "nowhere").namespace is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("namespace: [a]\n", "namespace must be a non-empty string"),
        ("nmespace: kubeflow\n", "unknown key(s): nmespace (expected namespace, checks, waivers, overrides)"),
        ("checks: [a]\n", "checks must be a mapping of check id to settings"),
        ("checks: {x: {status: loud}}\n", "checks.x.status must be one of off, warn, fail (got 'loud')"),
        ("checks: {x: {severity: warn}}\n", "checks.x: unknown key(s): severity (expected status, options)"),
        ("checks: {x: {options: 3}}\n", "checks.x.options must be a mapping"),
        ("waivers: {a: 1}\n", "waivers must be a list"),
        # An empty section of the wrong type is as wrong as a full one.
        ("checks: []\n", "checks must be a mapping of check id to settings"),
        ("waivers: {}\n", "waivers must be a list"),
        ("overrides: {}\n", "overrides must be a list"),
        ("waivers: [{check: x, object: y}]\n", "waivers[0] is missing reason"),
        (
            "waivers: [{check: x, object: y, reason: z, expires: soon}]\n",
            "waivers[0].expires must be a date like 2027-01-31 (got 'soon')",
        ),
        ("checks: {x: [\n", "invalid YAML at line 2"),
        ("- 1\n", "top level must be a mapping"),
    ],
)
def test_malformed(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_explicit_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.yaml: no such file"):
        load(tmp_path / "absent.yaml")


# ---------------------------------------------------------------------------------------------
# Against the checks: ids, option names and types, with a close match (kfstor.engine.config.validate)


def _cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from kfstor.cli import main; main()", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "400"},  # lines this test looks for stay unwrapped
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "checks:\n  statefull_replication: {options: {min_replicas: 3}}\n",
            "checks.statefull_replication: unknown check id 'statefull_replication' "
            "(did you mean stateful_replication?) (see `kfstor checks`)",
        ),
        (
            "waivers:\n  - {check: stateful_storag, object: PersistentVolumeClaim/kubeflow/x, reason: r}\n",
            "waivers[0].check: unknown check id 'stateful_storag' (did you mean stateful_storage?) "
            "(see `kfstor checks`)",
        ),
        (
            "checks:\n  stateful_replication: {options: {min_replicas: three}}\n",
            "checks.stateful_replication.options.min_replicas must be an integer, like the default 3 (got 'three')",
        ),
        (
            "checks:\n  stateful_replication: {options: {min_replicas: true}}\n",
            "checks.stateful_replication.options.min_replicas must be an integer, like the default 3 (got True)",
        ),
        (
            "checks:\n  stateful_replication: {options: {min_replicas: -3}}\n",
            "checks.stateful_replication.options.min_replicas must be at least 1 (got -3)",
        ),
        (
            "checks:\n  stateful_replication: {options: {min_replica: 3}}\n",
            "checks.stateful_replication.options.min_replica: unknown option (did you mean min_replicas?) "
            "(known: min_replicas)",
        ),
        (
            "checks:\n  nothing_like_it: {status: off}\n",
            "checks.nothing_like_it: unknown check id 'nothing_like_it' (see `kfstor checks`)",
        ),
    ],
)
def test_config_is_checked_against_every_check(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    result = _cli("audit", "--from", EXAMPLE, "--config", path, "--check", "default_storage_class")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr == f"kfstor: error: {path}: {message}\n"


def test_option_types_follow_the_defaults() -> None:
    assert option_type_ok(3, 5) and not option_type_ok(3, "5") and not option_type_ok(3, True)
    assert option_type_ok(1.5, 2) and option_type_ok(True, False) and not option_type_ok(True, 1)
    assert option_type_ok(None, {"any": "thing"}) and option_type_ok("x", "y") and not option_type_ok("x", 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--check", "statefull_replication"],
            "unknown check id: statefull_replication (did you mean stateful_replication?)",
        ),
        (["--skip", "rwx_claim"], "unknown check id: rwx_claim (did you mean rwx_claims?)"),
        (["--format", "jsn"], "(did you mean json?)"),
        (["--fail-on", "wran"], "(did you mean warn?)"),
    ],
)
def test_command_line_typos_get_a_close_match(args: list[str], message: str) -> None:
    result = _cli("audit", "--from", EXAMPLE, *args)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("kfstor: error: ") and message in line, line


def test_the_shipped_schema_is_generated_from_the_builtin_checks() -> None:
    """Every check the shipped schema names exists and is described as it is generated. A check added
    later is let through by the schema as a third-party id until the file is regenerated (kfstor
    itself validates every id), so adding a check needs no edit here."""
    shipped = (SCHEMA_DIR / "kfstor-config-v1.json").read_text(encoding="utf-8")
    named = set(json.loads(shipped)["properties"]["checks"]["properties"])
    checks = load_checks(include_plugins=False).checks
    assert named <= {c.id for c in checks}, sorted(named - {c.id for c in checks})
    assert shipped == config_schema.render([c for c in checks if c.id in named]), (
        "regenerate: python -m kfstor.engine.config_schema > kfstor/schema/kfstor-config-v1.json"
    )


def _as_json(value: object) -> object:
    """YAML reads dates as dates; an editor's schema check sees the text."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def test_the_schema_accepts_the_readme_example_and_rejects_typos() -> None:
    schema = json.loads((SCHEMA_DIR / "kfstor-config-v1.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Config file (`kfstor.yaml`)", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    example = _as_json(yaml.safe_load(block))
    validator.validate(example)
    load_path_config = parse(yaml.safe_load(block), "README.md")
    validate(load_path_config, load_checks(include_plugins=False).checks)  # kfstor agrees
    bad = {"checks": {"stateful_replication": {"options": {"min_replicas": "three"}}}}
    assert not validator.is_valid(bad)
    assert not validator.is_valid({"namespace": "kubeflow", "chekcs": {}})


def test_every_report_states_the_config_and_the_waivers_applied(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "waivers:\n  - check: default_storage_class\n    object: cluster\n    reason: no default on purpose (OPS-1)\n",
    )
    out = tmp_path / "out"
    out.mkdir()
    result = _cli(
        "audit",
        "--from",
        NO_DEFAULT,
        "--config",
        path,
        "--check",
        "default_storage_class",
        "--json",
        out / "r.json",
        "--markdown",
        out / "r.md",
        "--junit",
        out / "r.xml",
        "--html",
        out / "r.html",
    )
    assert result.returncode == 0, result.stderr
    assert f"config: {path}; waivers applied: default_storage_class on cluster" in result.stdout
    doc = json.loads((out / "r.json").read_text(encoding="utf-8"))
    waiver = {
        "check": "default_storage_class",
        "object": "cluster",
        "reason": "no default on purpose (OPS-1)",
        "expires": None,
        "code": "",
    }
    assert doc["config"] == {"file": str(path), "waivers_applied": [waiver], "waivers": [waiver]}
    assert (
        "waivers applied: default\\_storage\\_class on cluster: no default on purpose (OPS-1)"
        in (out / "r.md").read_text()
    )
    props = {p.get("name"): p.get("value") for p in ET.parse(out / "r.xml").getroot().iter("property")}
    assert props["config"] == str(path)
    assert props["waiver"] == "default_storage_class on cluster: no default on purpose (OPS-1)"
    html = (out / "r.html").read_text(encoding="utf-8")
    assert f'<dd id="config">{path}</dd>' in html
    assert "default_storage_class on cluster: no default on purpose (OPS-1)" in html
    # Without a config file, the reports say so.
    bare = _cli(
        "audit", "--from", NO_DEFAULT, "--check", "default_storage_class", "--format", "json", cwd=tmp_path / "out"
    )
    assert json.loads(bare.stdout)["config"] == {"file": None, "waivers_applied": [], "waivers": []}
