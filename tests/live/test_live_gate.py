"""Live: a gate never passes what it could not see, and a broken credential, proxy or busy server
is one clear line, never a traceback (issue 9, items 1, 2, 7 and the TLS part of 8).

Against a real kube-apiserver seeded with the healthy Portworx scenario (an admin's audit passes,
exit 0), as users whose RBAC cannot see everything, with exec credential plugins that are missing,
fail, print garbage, hang or hand out an already-expired token, through dead and unsupported
proxies, behind a proxy that answers 403/410/429/503 itself or drips its answers, under real
overload (--max-requests-inflight) and a real etcd compaction in the middle of a paginated list,
and interrupted with Ctrl-C and SIGTERM mid-run.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfstor.engine.loader import load_checks
from kfstor.render.terminal import INSECURE_TLS

from . import faults
from .controlplane import ControlPlane, start_control_plane
from .scenarios import seed_scenario

pytestmark = pytest.mark.live

KFSTOR = [sys.executable, "-c", "from kfstor.cli import main; main()"]
SCENARIO = "portworx-kubeflow-1.10-healthy"
CHECKS = {c.id: c for c in load_checks(include_plugins=False).checks}


@pytest.fixture(scope="module")
def cp(control_plane: ControlPlane, request: pytest.FixtureRequest) -> Iterator[ControlPlane]:
    """Our own control plane: RBAC grants to `auditor` and the audit log stay this module's."""
    plane = start_control_plane(binaries=control_plane.binaries)
    try:
        seed_scenario(plane, SCENARIO)
        yield plane
    finally:
        plane.stop(keep_workdir=request.session.testsfailed > 0)


class Run:
    def __init__(self, result: subprocess.CompletedProcess[str], elapsed: float) -> None:
        self.code = result.returncode
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.elapsed = elapsed
        assert "Traceback" not in self.stderr, self.stderr
        assert "ERROR:root" not in self.stderr and "WARNING:" not in self.stderr, self.stderr

    def report(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.stdout)
        return doc

    @property
    def error(self) -> str:
        lines = [line for line in self.stderr.splitlines() if not line.startswith("kfstor: warning: ")]
        assert len(lines) == 1 and lines[0].startswith("kfstor: error: "), self.stderr
        return lines[0].removeprefix("kfstor: error: ")


def kfstor(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 90) -> Run:
    started = time.monotonic()
    result = subprocess.run(
        [*KFSTOR, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    return Run(result, time.monotonic() - started)


def audit(kubeconfig: Path, *args: str | Path, env: dict[str, str] | None = None, timeout: float = 90) -> Run:
    return kfstor("audit", "--kubeconfig", kubeconfig, "--format", "json", *args, env=env, timeout=timeout)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["checks"]}


def kubeconfig(path: Path, server: str, ca: Path | None, user: dict[str, Any], **cluster: Any) -> Path:
    cluster_entry: dict[str, Any] = {"server": server, **cluster}
    if ca is not None:
        cluster_entry["certificate-authority"] = str(ca)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster_entry}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }
    path.write_text(json.dumps(config, indent=2))
    return path


def admin_config(cp: ControlPlane, tmp_path: Path, name: str = "admin", **cluster: Any) -> Path:
    return kubeconfig(tmp_path / f"{name}.json", cp.url, cp.ca_path, {"token": cp.admin_token}, **cluster)


# --------------------------------------------------------------------------------------------------
# RBAC


def _allowed(cp: ControlPlane, resource: str, group: str, verb: str) -> bool:
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {"user": "auditor", "resourceAttributes": {"verb": verb, "group": group, "resource": resource}},
    }
    answer = cp.call("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", review, expect=201)
    return bool(answer["status"].get("allowed"))


def _wait(predicate: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "RBAC never settled"
        time.sleep(0.1)


@contextlib.contextmanager
def granted(cp: ControlPlane, rules: list[dict[str, Any]]) -> Iterator[None]:
    name = "kfstor-gate-test"
    base = "/apis/rbac.authorization.k8s.io/v1"
    cp.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": rules,
        }
    )
    cp.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "auditor"}],
        }
    )
    first = rules[0]
    probe = (first["resources"][0], first["apiGroups"][0], first["verbs"][0])
    try:
        _wait(lambda: _allowed(cp, *probe))
        yield
    finally:
        for path in (f"{base}/clusterrolebindings/{name}", f"{base}/clusterroles/{name}"):
            cp.request("DELETE", path)
        _wait(lambda: not _allowed(cp, *probe))


def _printed_rules() -> list[dict[str, Any]]:
    result = kfstor("rbac")
    role = next(doc for doc in yaml.safe_load_all(result.stdout) if doc and doc["kind"] == "ClusterRole")
    rules: list[dict[str, Any]] = role["rules"]
    return rules


def _assert_not_evaluated(run: Run, evaluated: set[str]) -> dict[str, Any]:
    """Exactly `evaluated` were judged; every other check is not_evaluated with a forbidden list named;
    the exit code is 1 if an evaluated check failed, else 4; the verdict says what was not seen."""
    report = run.report()
    status = statuses(report)
    blind = {cid for cid, s in status.items() if s == "not_evaluated"}
    assert blind == set(status) - evaluated, status
    for check in report["checks"]:
        if check["id"] in blind:
            assert check["findings"] == []
            assert check["reason"].startswith("forbidden: list "), check
    failed = {s for cid, s in status.items() if cid in evaluated} & {"fail", "error"}
    assert run.code == report["gate"]["exit_code"] == (1 if failed else 4)
    # The verdict names each forbidden kind once, sorted, however many checks needed it.
    kinds = sorted(
        {
            part.removeprefix("forbidden: list ")
            for c in report["checks"]
            if c["id"] in blind
            for part in c["reason"].split("; ")
        }
    )
    assert report["gate"]["verdict"].endswith(
        f"; incomplete: {len(blind)} checks not evaluated: forbidden: list {', '.join(kinds)}"
    )
    assert report["gate"]["passed"] is False
    return report


def test_the_admin_passes_and_users_who_cannot_see_never_do(cp: ControlPlane, tmp_path: Path) -> None:
    admin = audit(cp.kubeconfig("admin"))
    assert admin.code == 0, admin.stdout[-2000:]
    assert "not_evaluated" not in set(statuses(admin.report()).values())

    # No grants at all: nothing can be judged. Exit 4, never 0.
    nothing = audit(cp.kubeconfig("auditor"))
    assert nothing.code == 4
    _assert_not_evaluated(nothing, evaluated=set())
    assert nothing.stderr == ""
    assert audit(cp.kubeconfig("auditor"), "--allow-partial").code == 0  # an accepted gap

    # `get` on everything, but no `list`: the same.
    get_only = [{**rule, "verbs": ["get"]} for rule in _printed_rules()]
    with granted(cp, get_only):
        no_list = audit(cp.kubeconfig("auditor"))
    _assert_not_evaluated(no_list, evaluated=set())

    # StorageClasses only: exactly the checks that need nothing else are judged, as the admin's were.
    with granted(cp, [{"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": ["get", "list"]}]):
        classes = audit(cp.kubeconfig("auditor"))
    only_classes = {cid for cid, c in CHECKS.items() if set(c.kinds) == {"StorageClass"}}
    assert {"default_storage_class", "portworx_parameters"} <= only_classes
    report = _assert_not_evaluated(classes, evaluated=only_classes)
    assert classes.code == 4
    for cid in only_classes:
        assert statuses(report)[cid] == statuses(admin.report())[cid] == "pass"

    # The table says it too, and so does every other format.
    table = kfstor("audit", "--kubeconfig", cp.kubeconfig("auditor"), "--junit", tmp_path / "r.xml")
    assert table.code == 4
    assert "NOT EVALUATED claim_health" in table.stdout
    total = len(CHECKS)  # every check reads StorageClasses or claims, none of which this user may list
    assert (
        f"Storage readiness gate INCOMPLETE ({total} not evaluated); incomplete: {total} checks not evaluated: "
        "forbidden:"
    ) in table.stdout
    assert 'type="not_evaluated"' in (tmp_path / "r.xml").read_text()


def test_an_anonymous_kubeconfig_is_refused_discovery_and_never_passes(cp: ControlPlane, tmp_path: Path) -> None:
    anonymous = kubeconfig(tmp_path / "anon.json", cp.url, cp.ca_path, {})
    before = len(cp.audit_events())
    run = audit(anonymous)
    assert run.code == 4
    assert run.stderr == "kfstor: warning: kubeconfig user 'u' has no credentials: requests are anonymous\n"
    report = run.report()
    # Every list was forbidden; /apis too (discovery is for authenticated users only), which leaves
    # the checks that use the optional APIs unable to look even where their own kinds were readable.
    assert set(statuses(report).values()) == {"not_evaluated"}
    reasons = {c["id"]: c["reason"] for c in report["checks"]}
    assert "not discovered: /apis answered 403 Forbidden" in reasons["snapshot_support"]
    time.sleep(1)
    seen = [e for e in cp.audit_events()[before:] if e.get("userAgent") == "kfstor"]
    assert {e["user"]["username"] for e in seen} == {"system:anonymous"}
    assert ("/apis", 403) in {(e["requestURI"], e["responseStatus"]["code"]) for e in seen}


@pytest.mark.parametrize(("status", "reason"), [(403, "Forbidden"), (404, "Not Found")])
def test_refused_discovery_is_never_a_crash(cp: ControlPlane, tmp_path: Path, status: int, reason: str) -> None:
    ca = faults.CertificateAuthority(tmp_path / "pki")
    answer = faults.status_answer(status, "no discovery for you")
    policy: faults.Policy = lambda _n, path: answer if path == "/apis" else "serve"  # noqa: E731
    with faults.FaultProxy(cp.url, cp.ca_path, ca.valid(), policy) as proxy:
        config = faults.write_kubeconfig(tmp_path / "k.json", proxy.url, ca.cert_path, cp.admin_token)
        run = audit(config)
        assert [(p, s) for _, p, s in proxy.answered] == [("/apis", status)]
    report = run.report()
    blind = {c["id"]: c["reason"] for c in report["checks"] if c["status"] == "not_evaluated"}
    users = {cid for cid, c in CHECKS.items() if {"VolumeSnapshotClass", "Notebook"} & set(c.all_kinds)}
    assert blind == {cid: f"not discovered: /apis answered {status} {reason}" for cid in users}
    assert run.code == 4


@pytest.mark.parametrize(("status", "reason"), [(410, "Gone"), (404, "Not Found")])
def test_a_refused_version_is_one_line(cp: ControlPlane, tmp_path: Path, status: int, reason: str) -> None:
    ca = faults.CertificateAuthority(tmp_path / "pki")
    answer = faults.status_answer(status, "gone")
    policy: faults.Policy = lambda _n, path: answer if path == "/version" else "serve"  # noqa: E731
    with faults.FaultProxy(cp.url, cp.ca_path, ca.valid(), policy) as proxy:
        config = faults.write_kubeconfig(tmp_path / "k.json", proxy.url, ca.cert_path, cp.admin_token)
        run = audit(config)
    assert run.code == 3
    assert run.error == (
        f"the server at {proxy.url} answered {status} {reason} for /version: is it a Kubernetes API server?"
    )


# --------------------------------------------------------------------------------------------------
# Exec credential plugins


def _plugin(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def _exec_user(command: str, **extra: Any) -> dict[str, Any]:
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command, **extra}}


def test_an_exec_plugin_runs_once_per_run_even_with_an_expired_token(cp: ControlPlane, tmp_path: Path) -> None:
    calls = tmp_path / "calls.log"
    plugin = _plugin(
        tmp_path,
        "token-plugin",
        f"""\
        import json, os, sys
        info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
        with open({str(calls)!r}, "a") as log:
            log.write(json.dumps(info["spec"]) + "\\n")
        print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                           "status": {{"token": {cp.admin_token!r}, "expirationTimestamp": "2000-01-01T00:00:00Z"}}}}))
        """,
    )
    config = kubeconfig(tmp_path / "k.json", cp.url, cp.ca_path, _exec_user(str(plugin), provideClusterInfo=True))
    before = len(cp.audit_events())
    run = audit(config)
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    spec_lines = calls.read_text().splitlines()
    assert len(spec_lines) == 1  # once per run, not once per request (16 before)
    spec = json.loads(spec_lines[0])
    assert spec["interactive"] is False and spec["cluster"]["server"] == cp.url
    assert base64.b64decode(spec["cluster"]["certificate-authority-data"]) == cp.ca_path.read_bytes()
    time.sleep(1)
    requests = [e for e in cp.audit_events()[before:] if e.get("userAgent") == "kfstor"]
    assert len(requests) >= 10 and {e["user"]["username"] for e in requests} == {"admin"}


def test_broken_exec_plugins_are_one_line_naming_the_plugin(cp: ControlPlane, tmp_path: Path) -> None:
    missing = kubeconfig(
        tmp_path / "missing.json", cp.url, cp.ca_path, _exec_user("no-such-auth-plugin", installHint="brew install it")
    )
    run = audit(missing, env={"PATH": "/usr/bin:/bin"})
    assert run.code == 3 and run.stdout == ""
    assert run.error == (
        f"exec plugin 'no-such-auth-plugin' of user 'u' ({missing}): command not found: brew install it"
    )

    failing = _plugin(tmp_path, "failing", "import sys\nprint('token service says no', file=sys.stderr)\nsys.exit(7)\n")
    config = kubeconfig(tmp_path / "failing.json", cp.url, cp.ca_path, _exec_user(str(failing)))
    run = audit(config)
    assert run.code == 3
    assert (
        run.error == f"exec plugin {str(failing)!r} of user 'u' ({config}) failed (exit code 7): token service says no"
    )

    garbage = _plugin(tmp_path, "garbage", "print('<html>login page</html>')\n")
    config = kubeconfig(tmp_path / "garbage.json", cp.url, cp.ca_path, _exec_user(str(garbage)))
    run = audit(config)
    assert run.code == 3
    assert run.error == (
        f"exec plugin {str(garbage)!r} of user 'u' ({config}) printed invalid output "
        "(not an ExecCredential JSON object): <html>login page</html>"
    )


def test_a_hanging_exec_plugin_is_ended_within_the_request_timeout(cp: ControlPlane, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    hanging = _plugin(
        tmp_path,
        "hanging",
        f"""\
        import os, subprocess, sys, time
        # The child ignores SIGTERM: it must still not outlive kfstor.
        ignore = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
        child = subprocess.Popen([sys.executable, "-c", ignore])
        open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{child.pid}}")
        time.sleep(600)
        """,
    )
    config = kubeconfig(tmp_path / "k.json", cp.url, cp.ca_path, _exec_user(str(hanging)))
    run = audit(config, "--request-timeout", "2", timeout=30)
    assert run.code == 3
    assert run.error == f"exec plugin {str(hanging)!r} of user 'u' ({config}): no answer within --request-timeout 2s"
    assert run.elapsed < 15
    # The plugin and what it started are gone with kfstor (a zombie no one has reaped yet is gone too);
    # a signal takes effect when its target next runs, so a busy machine gets a moment.
    for pid in map(int, pids.read_text().split()):
        deadline = time.monotonic() + 5
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(pid), pid


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


# --------------------------------------------------------------------------------------------------
# Proxies


def test_proxies_no_proxy_and_unsupported_schemes(cp: ControlPlane, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{faults.closed_port()}"
    admin = admin_config(cp, tmp_path)
    # A dead proxy is named as the proxy, not blamed on the cluster.
    run = audit(admin, env={"HTTPS_PROXY": dead, "NO_PROXY": ""})
    assert run.code == 3
    assert run.error == f"cannot reach the proxy {dead} (HTTPS_PROXY): connection refused"
    # NO_PROXY is honoured (host, and a CIDR).
    for no_proxy in ("127.0.0.1", "localhost,127.0.0.0/8"):
        assert audit(admin, env={"HTTPS_PROXY": dead, "NO_PROXY": no_proxy}).code == 0
    # The kubeconfig's proxy-url wins over the environment, NO_PROXY included (as in kubectl).
    via = admin_config(cp, tmp_path, "via", **{"proxy-url": dead})
    run = audit(via, env={"NO_PROXY": "*"})
    assert run.code == 3
    assert run.error == f"cannot reach the proxy {dead} (proxy-url in {via}): connection refused"
    # socks5 is not supported: a usage error naming it (exit 2), from either place.
    socks = admin_config(cp, tmp_path, "socks", **{"proxy-url": "socks5://127.0.0.1:1080"})
    run = audit(socks)
    assert run.code == 2
    assert run.error == (
        f"kubeconfig {socks}: cluster 'c': proxy-url socks5://127.0.0.1:1080: unsupported proxy scheme "
        "'socks5' (kfstor supports http:// and https:// proxies)"
    )
    run = audit(admin, env={"HTTPS_PROXY": "socks5h://127.0.0.1:1080", "NO_PROXY": ""})
    assert run.code == 2
    assert run.error == (
        "HTTPS_PROXY socks5h://127.0.0.1:1080: unsupported proxy scheme 'socks5h' "
        "(kfstor supports http:// and https:// proxies)"
    )


# --------------------------------------------------------------------------------------------------
# TLS


def test_insecure_tls_is_stated_on_stderr_and_in_the_report(cp: ControlPlane, tmp_path: Path) -> None:
    config = kubeconfig(
        tmp_path / "k.json", cp.url, None, {"token": cp.admin_token}, **{"insecure-skip-tls-verify": True}
    )
    out = tmp_path / "out"
    out.mkdir()
    run = audit(config, "--html", out / "r.html", "--markdown", out / "r.md")
    assert run.code == 0
    assert run.stderr == (
        f"kfstor: warning: TLS verification is off for {cp.url} (insecure-skip-tls-verify in {config}): "
        "the server's identity is not checked\n"
    )
    assert run.report()["source"]["insecure_tls"] is True
    assert '<dd id="tls">NOT VERIFIED (insecure-skip-tls-verify)</dd>' in (out / "r.html").read_text()
    assert "**Warning: TLS verification is off**" in (out / "r.md").read_text()
    table = kfstor("audit", "--kubeconfig", config)
    header_end = table.stdout.splitlines().index("")  # the header block ends at the first blank line
    warnings = [line for line in table.stdout.splitlines()[:header_end] if line.startswith("warning: ")]
    assert warnings == [f"warning: {INSECURE_TLS}"]
    # A snapshot keeps the fact, so its offline audit says it too.
    snap = tmp_path / "snap.json"
    assert kfstor("snapshot", "--kubeconfig", config, "-o", snap).code == 0
    offline = kfstor("audit", "--from", snap, "--format", "json")
    assert offline.report()["source"]["insecure_tls"] is True


# --------------------------------------------------------------------------------------------------
# Busy and hostile servers


def _is_list(path: str) -> bool:
    return "?limit=" in path


def test_429_with_retry_after_is_waited_out(cp: ControlPlane, tmp_path: Path) -> None:
    ca = faults.CertificateAuthority(tmp_path / "pki")
    busy = faults.status_answer(429, "too many requests", Retry_After="1")
    seen: dict[str, int] = {}

    def policy(_n: int, path: str) -> Any:
        if "persistentvolumeclaims" in path:
            seen[path] = seen.get(path, 0) + 1
            if seen[path] <= 2:
                return busy
        return "serve"

    with faults.FaultProxy(cp.url, cp.ca_path, ca.valid(), policy) as proxy:
        config = faults.write_kubeconfig(tmp_path / "k.json", proxy.url, ca.cert_path, cp.admin_token)
        run = audit(config)
        claims = [t for _, path, t in proxy.arrivals if "persistentvolumeclaims" in path]
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    assert len(claims) == 3
    assert claims[1] - claims[0] >= 0.95 and claims[2] - claims[1] >= 0.95  # Retry-After: 1 honoured


def test_a_server_that_keeps_failing_gets_its_own_line(cp: ControlPlane, tmp_path: Path) -> None:
    ca = faults.CertificateAuthority(tmp_path / "pki")
    failing = faults.status_answer(503, "etcd is sad")
    policy: faults.Policy = lambda _n, path: failing if "persistentvolumes?" in path else "serve"  # noqa: E731
    with faults.FaultProxy(cp.url, cp.ca_path, ca.valid(), policy) as proxy:
        config = faults.write_kubeconfig(tmp_path / "k.json", proxy.url, ca.cert_path, cp.admin_token)
        run = audit(config, "--html", tmp_path / "r.html")
        attempts = [path for _, path, _ in proxy.arrivals if "persistentvolumes?" in path]
    assert run.code == 3
    assert run.error == (
        f"the API server at {proxy.url} kept answering 503 Service Unavailable for /api/v1/persistentvolumes "
        "(8 attempts): it is overloaded or failing; try again later"
    )
    assert len(attempts) == 8
    assert not (tmp_path / "r.html").exists()


def test_real_overload_max_requests_inflight(control_plane: ControlPlane, tmp_path: Path) -> None:
    # One read at a time (the classic max-in-flight filter, without priority and fairness queueing):
    # kfstor's parallel lists get real 429s with Retry-After: 1, and must wait them out. As the
    # auditor with `kfstor rbac`'s role: system:masters is exempt from the limit.
    busy = start_control_plane(
        binaries=control_plane.binaries,
        apiserver_args=("--enable-priority-and-fairness=false", "--max-requests-inflight=1"),
    )
    try:
        seed_scenario(busy, SCENARIO)
        ca = faults.CertificateAuthority(tmp_path / "pki")
        # The proxy only relays (and counts) the real server's answers; the max-in-flight filter
        # rejects before the audit log would see a request.
        stop = threading.Event()

        def other_clients() -> None:  # the rest of the cluster's users, keeping the one read slot busy
            while not stop.is_set():
                with contextlib.suppress(OSError):
                    busy.request("GET", "/api/v1/persistentvolumeclaims?limit=500", user="auditor", timeout=5)

        others = [threading.Thread(target=other_clients, daemon=True) for _ in range(3)]
        for thread in others:
            thread.start()
        try:
            with granted(busy, _printed_rules()), faults.FaultProxy(busy.url, busy.ca_path, ca.valid()) as proxy:
                token = busy.tokens["auditor"]
                config = faults.write_kubeconfig(tmp_path / "k.json", proxy.url, ca.cert_path, token)
                runs = [audit(config) for _ in range(3)]
                relayed = list(proxy.relayed)
        finally:
            stop.set()
            for thread in others:
                thread.join(timeout=10)
    finally:
        busy.stop()
    assert [r.code for r in runs] == [0, 0, 0], [r.stderr for r in runs]
    assert all(r.stderr == "" for r in runs)
    assert statuses(runs[0].report()) == statuses(runs[1].report()) == statuses(runs[2].report())
    # The server really was overloaded: it refused some of kfstor's requests with 429 along the way.
    refused = [path for _, path, status in relayed if status == 429]
    assert refused, "the apiserver never answered 429"


def test_an_expired_continue_token_restarts_the_list(control_plane: ControlPlane, tmp_path: Path) -> None:
    # More claims than two pages (kfstor lists 500 at a time); between page 1 and page 2, etcd is
    # compacted for real, so the continue token of page 1 is too old: the server answers 410. (Without
    # the watch cache, which would otherwise serve the second page from its own snapshot.)
    plane = start_control_plane(binaries=control_plane.binaries, apiserver_args=("--watch-cache=false",))
    try:
        plane.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bulk"}})
        from concurrent.futures import ThreadPoolExecutor

        def claim(i: int) -> None:
            plane.create(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": f"c{i:04d}", "namespace": "bulk"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
                }
            )

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(claim, range(600)))

        def compact() -> None:
            plane.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bump"}})
            key = base64.b64encode(b"/").decode()
            rev = _etcd(plane.etcd_url, "/v3/kv/range", {"key": key, "limit": 1})["header"]["revision"]
            _etcd(plane.etcd_url, "/v3/kv/compaction", {"revision": rev, "physical": True})

        def policy(_n: int, path: str) -> str:
            return "trigger" if "persistentvolumeclaims" in path and "continue=" in path else "serve"

        ca = faults.CertificateAuthority(tmp_path / "pki")
        with faults.FaultProxy(plane.url, plane.ca_path, ca.valid(), policy, on_trigger=compact) as proxy:
            config = faults.write_kubeconfig(tmp_path / "k.json", proxy.url, ca.cert_path, plane.admin_token)
            before = len(plane.audit_events())
            run = audit(config, "--check", "claim_health", "--allow-partial")
            assert proxy.triggered.is_set()
        time.sleep(1)
        lists = [
            (e["requestURI"], e["responseStatus"]["code"])
            for e in plane.audit_events()[before:]
            if e.get("userAgent") == "kfstor" and "persistentvolumeclaims" in e["requestURI"]
        ]
    finally:
        plane.stop()
    assert run.code in (0, 1), run.stderr
    (check,) = run.report()["checks"]
    # Every claim read once, none twice: the restarted list did not keep its first page.
    bulk = [f["name"] for f in check["findings"] if f["kind"] == "PersistentVolumeClaim" and f["namespace"] == "bulk"]
    assert sorted(bulk) == [f"c{i:04d}" for i in range(600)]
    codes = [code for _, code in lists]
    assert 410 in codes, lists  # the real server expired the token ...
    first_410 = codes.index(410)
    assert "continue=" not in lists[first_410 + 1][0]  # ... and kfstor started that list over


def _etcd(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.load(response)
    return answer


def test_a_dripping_server_cannot_hold_the_run(cp: ControlPlane, tmp_path: Path) -> None:
    ca = faults.CertificateAuthority(tmp_path / "pki")
    policy: faults.Policy = lambda _n, path: faults.Drip(0.05) if _is_list(path) else "serve"  # noqa: E731
    with faults.FaultProxy(cp.url, cp.ca_path, ca.valid(), policy) as proxy:
        config = faults.write_kubeconfig(tmp_path / "k.json", proxy.url, ca.cert_path, cp.admin_token)
        run = audit(config, "--request-timeout", "2", timeout=60)
    assert run.code == 3
    assert run.error == f"cannot reach the cluster at {proxy.url}: no answer within --request-timeout 2s"
    assert run.elapsed < 15


@pytest.mark.parametrize(
    ("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_interrupted_mid_run(cp: ControlPlane, tmp_path: Path, sig: signal.Signals, code: int, word: str) -> None:
    ca = faults.CertificateAuthority(tmp_path / "pki")
    out = tmp_path / "out"
    out.mkdir()
    with faults.FaultProxy(cp.url, cp.ca_path, ca.valid(), faults.delay_each(30, only=_is_list)) as proxy:
        config = faults.write_kubeconfig(tmp_path / "k.json", proxy.url, ca.cert_path, cp.admin_token)
        process = subprocess.Popen(
            [
                *KFSTOR,
                "audit",
                "--kubeconfig",
                str(config),
                "--html",
                str(out / "r.html"),
                "--json",
                str(out / "r.json"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not any(_is_list(path) for _, path, _ in proxy.arrivals):
            assert time.monotonic() < deadline and process.poll() is None, "kfstor never listed"
            time.sleep(0.05)
        time.sleep(0.3)  # lists in flight, held by the proxy
        sent = time.monotonic()
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=30)
        ended = time.monotonic() - sent
    assert process.returncode == code
    assert stderr == f"kfstor: {word}\n"
    assert stdout == ""
    assert ended < 3, ended  # did not wait for the requests in flight (held for 30 s)
    assert list(out.iterdir()) == []
