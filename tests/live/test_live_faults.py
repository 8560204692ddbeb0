"""Live fault tests: when the API server misbehaves, kfstor fails clearly and never passes falsely.

Each fault ends with exit code 3 (README "Exit codes": cluster unreachable or authentication
failed), exactly one stderr line starting "kfstor: error:" that names the cause, no traceback,
nothing on stdout, and no report file presented as complete: a report path that did not exist
still does not, one that held an old report keeps it, and no temporary file is left beside them.

Faults are made with the real kube-apiserver behind ``faults.FaultProxy`` (a TLS-terminating
proxy that can serve N requests and die, stop the real control plane mid-run, delay answers,
or present an expired certificate), or directly: a closed port, a wrong token, an untrusted CA.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from . import faults
from .controlplane import ControlPlane, start_control_plane

pytestmark = pytest.mark.live

KFSTOR = [sys.executable, "-c", "from kfstor.cli import main; main()"]
RUN_TIMEOUT_S = 60
EXIT_CLUSTER = 3
OLD_JSON = '{"old": "report from an earlier run"}\n'
OLD_SNAPSHOT = "# an earlier snapshot\napiVersion: v1\nkind: List\nitems: []\n"


class Outcome:
    def __init__(self, result: subprocess.CompletedProcess[str], elapsed: float) -> None:
        self.code = result.returncode
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.elapsed = elapsed

    @property
    def error_line(self) -> str:
        """The one stderr line; fails unless stderr is exactly one 'kfstor: error:' line."""
        lines = self.stderr.splitlines()
        assert "Traceback" not in self.stderr, self.stderr
        assert len(lines) == 1, f"expected exactly one stderr line, got {len(lines)}:\n{self.stderr}"
        assert lines[0].startswith("kfstor: error: "), lines[0]
        return lines[0]


def _run(*args: str, timeout: float = RUN_TIMEOUT_S) -> Outcome:
    started = time.monotonic()
    result = subprocess.run([*KFSTOR, *args], capture_output=True, text=True, timeout=timeout, check=False)
    return Outcome(result, time.monotonic() - started)


def _audit_failing(kubeconfig: Path, out: Path, *extra: str, timeout: float = RUN_TIMEOUT_S) -> Outcome:
    """Run `kfstor audit` against a broken cluster asking for an HTML and a JSON report, and check
    the reports: report.html did not exist and must not appear, report.json held an old report
    and must keep it, and nothing else (no temporary file) may appear in ``out``."""
    out.mkdir(exist_ok=True)
    html, json_file = out / "report.html", out / "report.json"
    json_file.write_text(OLD_JSON)
    outcome = _run(
        "audit",
        "--kubeconfig",
        str(kubeconfig),
        "--format",
        "json",
        "--html",
        str(html),
        "--json",
        str(json_file),
        *extra,
        timeout=timeout,
    )
    assert outcome.code == EXIT_CLUSTER, (outcome.code, outcome.stderr)
    assert outcome.stdout == ""
    assert not html.exists()
    assert json_file.read_text() == OLD_JSON
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]
    return outcome


def _snapshot_failing(kubeconfig: Path, out: Path) -> Outcome:
    out.mkdir(exist_ok=True)
    target = out / "cluster.yaml"
    target.write_text(OLD_SNAPSHOT)
    outcome = _run("snapshot", "--kubeconfig", str(kubeconfig), "-o", str(target))
    assert outcome.code == EXIT_CLUSTER, (outcome.code, outcome.stderr)
    assert outcome.stdout == ""
    assert target.read_text() == OLD_SNAPSHOT
    assert sorted(p.name for p in out.iterdir()) == ["cluster.yaml"]
    return outcome


def _proxy_kubeconfig(
    tmp_path: Path, proxy: faults.FaultProxy, ca: faults.CertificateAuthority, token: str, name: str = "proxy"
) -> Path:
    return faults.write_kubeconfig(tmp_path / f"kubeconfig-{name}.yaml", proxy.url, ca.cert_path, token, "admin")


def _is_list(path: str) -> bool:
    return "?limit=" in path


def _gone(url: str) -> set[str]:
    """The lines kfstor may print when the server vanished: whichever of its requests failed first
    in plan order either found the port closed or had its connection closed under it."""
    return {
        f"kfstor: error: cannot reach the cluster at {url}: connection refused",
        f"kfstor: error: cannot reach the cluster at {url}: the server closed the connection without "
        "answering (did it stop?)",
    }


# --------------------------------------------------------------------------------------------------
# a. The server stops mid-run
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["audit", "snapshot"])
def test_server_dies_part_way_through_the_lists(control_plane: ControlPlane, tmp_path: Path, command: str) -> None:
    ca = faults.CertificateAuthority(tmp_path / "pki")
    # /version, /apis discovery, then two lists answered; the next request kills the server.
    with faults.FaultProxy(control_plane.url, control_plane.ca_path, ca.valid(), faults.serve_first(4)) as proxy:
        kubeconfig = _proxy_kubeconfig(tmp_path, proxy, ca, control_plane.admin_token)
        if command == "audit":
            outcome = _audit_failing(kubeconfig, tmp_path / "out")
        else:
            outcome = _snapshot_failing(kubeconfig, tmp_path / "out")
        served = [path for _, _, path in proxy.served]
    assert outcome.error_line in _gone(proxy.url)
    # It really died part-way through the lists: discovery and two lists were answered, the rest not.
    assert served[:2] == ["/version", "/apis"]
    assert len(served) == 4 and all(_is_list(p) for p in served[2:])
    assert proxy.received >= 5


def test_control_plane_stopped_while_kfstor_runs(control_plane: ControlPlane, tmp_path: Path) -> None:
    # A control plane of our own, stopped for real between two of kfstor's requests: the proxy
    # holds request 4 until requests 1-3 are answered, stops etcd and kube-apiserver, then
    # forwards it to the dead server and relays what happens (nothing: the connection closes).
    cp = start_control_plane(binaries=control_plane.binaries)
    try:
        ca = faults.CertificateAuthority(tmp_path / "pki")

        def stop_control_plane() -> None:
            cp.stop(keep_workdir=True)

        with faults.FaultProxy(
            cp.url, cp.ca_path, ca.valid(), faults.serve_first(3, then="trigger"), on_trigger=stop_control_plane
        ) as proxy:
            kubeconfig = _proxy_kubeconfig(tmp_path, proxy, ca, cp.admin_token)
            outcome = _audit_failing(kubeconfig, tmp_path / "out")
            served = [path for _, _, path in proxy.served]
            upstream_errors = list(proxy.upstream_errors)
        assert outcome.error_line in _gone(proxy.url)
        assert proxy.triggered.is_set()
        assert served[:2] == ["/version", "/apis"] and len(served) == 3 and _is_list(served[2])
        # The request after the stop went to the real (stopped) apiserver and got nothing.
        assert upstream_errors
        # The real apiserver's audit log shows it answered kfstor's first lists before it stopped.
        answered = [e for e in cp.audit_events() if e.get("userAgent") == "kfstor"]
        assert [e["requestURI"] for e in answered][:2] == ["/version", "/apis"]
        assert any(e["verb"] == "list" for e in answered)
        # And it is really down.
        with pytest.raises(OSError):
            cp.request("GET", "/readyz", timeout=2)
    finally:
        cp.stop(keep_workdir=True)
        shutil.rmtree(cp.workdir, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# b. Nothing listens
# --------------------------------------------------------------------------------------------------


def test_unreachable_address(control_plane: ControlPlane, tmp_path: Path) -> None:
    url = f"https://127.0.0.1:{faults.closed_port()}"
    kubeconfig = faults.write_kubeconfig(
        tmp_path / "kubeconfig.yaml", url, control_plane.ca_path, control_plane.admin_token
    )
    outcome = _audit_failing(kubeconfig, tmp_path / "out")
    assert outcome.error_line == f"kfstor: error: cannot reach the cluster at {url}: connection refused"


# --------------------------------------------------------------------------------------------------
# c. Wrong token
# --------------------------------------------------------------------------------------------------


def test_wrong_token_is_401(control_plane: ControlPlane, tmp_path: Path) -> None:
    kubeconfig = faults.write_kubeconfig(
        tmp_path / "kubeconfig.yaml", control_plane.url, control_plane.ca_path, "0123456789abcdef-not-a-token"
    )
    before = len(control_plane.audit_events())
    outcome = _audit_failing(kubeconfig, tmp_path / "out")
    assert outcome.error_line == (
        f"kfstor: error: authentication failed at {control_plane.url} (401 Unauthorized): "
        "check the credentials of your kubeconfig context"
    )
    # The API server really refused it: one 401 for kfstor's first request, and nothing after.
    deadline = time.monotonic() + 5
    rejected: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not rejected:
        rejected = [e for e in control_plane.audit_events()[before:] if e.get("userAgent") == "kfstor"]
        time.sleep(0.1)
    assert [(e["requestURI"], e["responseStatus"]["code"]) for e in rejected] == [("/version", 401)]


# --------------------------------------------------------------------------------------------------
# d. Certificates
# --------------------------------------------------------------------------------------------------


def test_expired_server_certificate(control_plane: ControlPlane, tmp_path: Path) -> None:
    ca = faults.CertificateAuthority(tmp_path / "pki")
    with faults.FaultProxy(control_plane.url, control_plane.ca_path, ca.expired()) as proxy:
        # The kubeconfig trusts the CA that signed the certificate: only its dates are wrong.
        kubeconfig = _proxy_kubeconfig(tmp_path, proxy, ca, control_plane.admin_token)
        outcome = _audit_failing(kubeconfig, tmp_path / "out")
        assert proxy.served == []
    assert re.fullmatch(
        rf"kfstor: error: cannot reach the cluster at {re.escape(proxy.url)}: certificate has expired "
        r"\(\[SSL: CERTIFICATE_VERIFY_FAILED\] certificate verify failed: certificate has expired[^)]*\)\)?",
        outcome.error_line,
    ), outcome.error_line


def test_untrusted_server_certificate(control_plane: ControlPlane, tmp_path: Path) -> None:
    # The real apiserver, but the kubeconfig trusts some other CA.
    other = faults.CertificateAuthority(tmp_path / "other-pki", name="some-other-ca")
    kubeconfig = faults.write_kubeconfig(
        tmp_path / "kubeconfig.yaml", control_plane.url, other.cert_path, control_plane.admin_token
    )
    outcome = _audit_failing(kubeconfig, tmp_path / "out")
    assert re.fullmatch(
        rf"kfstor: error: cannot reach the cluster at {re.escape(control_plane.url)}: TLS verification failed "
        r"\(\[SSL: CERTIFICATE_VERIFY_FAILED\] certificate verify failed: unable to get local issuer "
        r"certificate[^)]*\)\)?",
        outcome.error_line,
    ), outcome.error_line


# --------------------------------------------------------------------------------------------------
# e. A server slower than --request-timeout
# --------------------------------------------------------------------------------------------------

DELAY_S = 8.0
TIMEOUT_S = 1.0


@pytest.mark.parametrize(
    ("which", "slow"), [("every request", lambda _p: True), ("the lists", _is_list)], ids=["all", "lists"]
)
def test_server_slower_than_request_timeout(
    control_plane: ControlPlane, tmp_path: Path, which: str, slow: Callable[[str], bool]
) -> None:
    ca = faults.CertificateAuthority(tmp_path / "pki")
    started = time.monotonic()
    with faults.FaultProxy(
        control_plane.url, control_plane.ca_path, ca.valid(), faults.delay_each(DELAY_S, only=slow)
    ) as proxy:
        kubeconfig = _proxy_kubeconfig(tmp_path, proxy, ca, control_plane.admin_token)
        outcome = _audit_failing(kubeconfig, tmp_path / "out", "--request-timeout", f"{TIMEOUT_S:g}", timeout=30)
        exited = time.monotonic()
        served = [path for _, _, path in proxy.served]
        first_slow = min(t for _, path, t in proxy.arrivals if slow(path))
    assert outcome.error_line == (
        f"kfstor: error: cannot reach the cluster at {proxy.url}: no answer within --request-timeout 1s"
    )
    # It waited for the timeout, then gave up: after one timeout (lists in flight at that moment
    # end with theirs, the rest are never sent), not after one per list, and long before the slow
    # answer. Timed from the first slow request, not from process start, since importing the
    # kubernetes client alone can take seconds on a loaded machine.
    waited = exited - first_slow
    assert TIMEOUT_S * 0.9 <= waited < 2 * TIMEOUT_S + 1.0, waited
    # At most the four lists in flight plus one a worker took up meanwhile (before the fix, all
    # 11-13 lists were sent, each waiting out its own timeout, four at a time).
    slow_requests = [path for _, path, _ in proxy.arrivals if slow(path)]
    assert len(slow_requests) <= (1 if which == "every request" else 8), slow_requests
    # Only the fast answers were relayed: none for "every request", discovery for "the lists".
    assert served == ([] if which == "every request" else ["/version", "/apis"])
    # The whole test, proxy shutdown included, stays bounded (the proxy cuts its pending delays).
    assert time.monotonic() - started < 20
