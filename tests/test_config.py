"""kfstor.yaml parsing: good files load; every malformed one is a one-line error naming file and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kfstor.engine.config import ConfigError, load


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
