"""Kubeconfig problems: the same problem gives the same exit code and line however the file was
named (--kubeconfig, KUBECONFIG, ~/.kube/config); errors name the right file of a merged KUBECONFIG;
one line, never a parser dump. Nothing here reaches a server: every case fails before connecting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kfstor.collect.kubeconfig_files import KubeconfigError, choose
from kfstor.collect.transport import no_proxy_matches

ENTRY = "from kfstor.cli import main; main()"


def write(path: Path, data: dict[str, Any] | str) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def config(
    contexts: dict[str, tuple[str, str]] | None = None,
    clusters: dict[str, dict[str, Any]] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
    current: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in (clusters or {}).items()],
        "users": [{"name": n, "user": u} for n, u in (users or {}).items()],
        "contexts": [{"name": n, "context": {"cluster": c, "user": u}} for n, (c, u) in (contexts or {}).items()],
    }
    if current is not None:
        data["current-context"] = current
    return data


SERVER = {"server": "https://127.0.0.1:1"}


def run(
    *args: str | Path, env: dict[str, str] | None = None, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST")}
    if home is not None:
        base["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-c", ENTRY, "audit", "--check", "default_storage_class", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def error(result: subprocess.CompletedProcess[str]) -> tuple[int, str]:
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kfstor: error: ")
    return result.returncode, lines[0].removeprefix("kfstor: error: ")


def test_no_current_context_is_the_same_error_however_the_file_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "config", config({"a": ("c", "u"), "b": ("c", "u")}, {"c": SERVER}, {"u": {}}))
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    write(home / ".kube" / "config", path.read_text())
    expected = "no current-context is set; choose one with --context (available: a, b)"
    by_flag = error(run("--kubeconfig", path, home=home))
    by_env = error(run(env={"KUBECONFIG": str(path)}, home=home))
    by_default = error(run(home=home))
    assert by_flag == (2, f"kubeconfig {path}: {expected}")
    assert by_env == (2, f"kubeconfig {path}: {expected}")
    assert by_default == (2, f"kubeconfig {home / '.kube' / 'config'}: {expected}")


def test_unknown_context_lists_the_available_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "config", config({"prod": ("c", "u"), "dev": ("c", "u")}, {"c": SERVER}, {"u": {}}, "dev"))
    assert error(run("--kubeconfig", path, "--context", "nope")) == (
        2,
        f"kubeconfig {path}: --context nope: no such context (available: dev, prod)",
    )
    assert error(run("--context", "nope", env={"KUBECONFIG": str(path)})) == (
        2,
        f"kubeconfig {path}: --context nope: no such context (available: dev, prod)",
    )


def test_a_malformed_kubeconfig_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "config", "apiVersion: v1\nclusters:\n- name: c\n  cluster: {server: [oops\n")
    code, line = error(run("--kubeconfig", path))
    assert code == 2
    assert line.startswith(f"kubeconfig {path}: invalid YAML at line ")
    assert "\n" not in line and "File " not in line
    bad_shape = write(tmp_path / "list", "- just\n- a list\n")
    assert error(run("--kubeconfig", bad_shape)) == (
        2,
        f"kubeconfig {bad_shape}: not a kubeconfig (expected a mapping with clusters, users, contexts)",
    )


def test_errors_name_the_right_file_of_a_merged_kubeconfig(tmp_path: Path) -> None:
    first = write(tmp_path / "first", config({"a": ("c", "u")}, {"c": SERVER}, {"u": {}}, current="b"))
    second = write(tmp_path / "second", config({"b": ("missing", "u")}))
    merged = os.pathsep.join([str(first), str(second)])
    assert error(run(env={"KUBECONFIG": merged})) == (
        2,
        f"kubeconfig {second}: context 'b' names cluster 'missing', which is not defined in {first}, {second}",
    )
    # A certificate path relative to the file that names it, not to the working directory.
    (tmp_path / "sub").mkdir()
    third = write(
        tmp_path / "sub" / "third", config({"t": ("ct", "u")}, {"ct": {**SERVER, "certificate-authority": "ca.crt"}})
    )
    merged = os.pathsep.join([str(first), str(third)])
    assert error(run("--context", "t", env={"KUBECONFIG": merged})) == (
        2,
        f"kubeconfig {third}: cluster 'ct': certificate-authority {tmp_path / 'sub' / 'ca.crt'}: no such file",
    )


def test_the_first_file_wins(tmp_path: Path) -> None:
    first = write(tmp_path / "first", config({"a": ("c", "u")}, {"c": SERVER}, {"u": {"token": "one"}}, current="a"))
    second = write(
        tmp_path / "second",
        config({"a": ("other", "u")}, {"c": {"server": "https://example.invalid"}}, {"u": {"token": "two"}}, "z"),
    )
    chosen = choose([str(first), str(second)], None)
    assert (chosen.context.name, chosen.context.file) == ("a", str(first))
    assert chosen.server == "https://127.0.0.1:1"
    assert chosen.user is not None and chosen.user.value == {"token": "one"}


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        ({}, "cluster 'c' has no server"),
        ({"server": "127.0.0.1:6443"}, "cluster 'c': server '127.0.0.1:6443' is not an https:// URL"),
        (
            {**SERVER, "proxy-url": "socks5://proxy:1080"},
            "cluster 'c': proxy-url socks5://proxy:1080: unsupported proxy scheme 'socks5' "
            "(kfstor supports http:// and https:// proxies)",
        ),
    ],
)
def test_unusable_clusters(tmp_path: Path, cluster: dict[str, Any], message: str) -> None:
    path = write(tmp_path / "config", config({"a": ("c", "u")}, {"c": cluster}, {"u": {}}, "a"))
    with pytest.raises(KubeconfigError) as caught:
        choose([str(path)], None)
    assert str(caught.value) == f"kubeconfig {path}: {message}"
    assert error(run("--kubeconfig", path)) == (2, f"kubeconfig {path}: {message}")


def test_a_user_that_is_not_defined(tmp_path: Path) -> None:
    path = write(tmp_path / "config", config({"a": ("c", "ghost")}, {"c": SERVER}, {}, "a"))
    assert error(run("--kubeconfig", path)) == (
        2,
        f"kubeconfig {path}: context 'a' names user 'ghost', which is not defined in {path}",
    )


def test_kubeconfig_naming_no_existing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert error(run(env={"KUBECONFIG": str(missing)})) == (2, f"KUBECONFIG names no existing file ({missing})")
    assert error(run("--kubeconfig", missing)) == (2, f"--kubeconfig {missing}: no such file")


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "bypass"),
    [
        ("127.0.0.1", 6443, "127.0.0.1", True),
        ("127.0.0.1", 6443, "10.0.0.0/8,127.0.0.0/8", True),
        ("10.1.2.3", 443, "10.0.0.0/8", True),
        ("api.prod.example.com", 443, "example.com", True),
        ("api.prod.example.com", 443, ".example.com", True),
        ("example.com.evil", 443, "example.com", False),
        ("api.example.com", 6443, "api.example.com:443", False),
        ("api.example.com", 443, "api.example.com:443", True),
        ("anything", 1, "*", True),
        ("127.0.0.1", 6443, "", False),
        ("::1", 6443, "::1", True),
    ],
)
def test_no_proxy_rules(host: str, port: int, no_proxy: str, bypass: bool) -> None:
    assert no_proxy_matches(host, port, no_proxy) is bypass
