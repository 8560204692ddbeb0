"""A real, throwaway Kubernetes control plane (etcd + kube-apiserver) for live tests.

There is no kubelet, scheduler or kube-controller-manager: objects are created
as an admin and their status is written directly through the ``/status``
subresource, which is exactly what a storage auditor reads. For a cluster whose
controllers, scheduler, nodes and CSI driver write those states themselves, see
``tests/live/cluster.py``, which starts on top of this one.

Binaries come from ``find_binaries()`` (env vars, an envtest assets directory,
or the cached build of ``tests/controlplane/build.sh``). ``start_control_plane()``
then generates a throwaway PKI, static tokens and an audit policy, starts etcd
and kube-apiserver on free loopback ports and waits until the API is usable.

Only the standard library and ``cryptography`` are used, so this module also
works from ``tests/live/devcluster.py`` without pytest.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import hashlib
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTROLPLANE_MODULE = REPO_ROOT / "tests" / "controlplane"
BUILD_SCRIPT = CONTROLPLANE_MODULE / "build.sh"
BINARY_NAME = "kfstor-testcp"

STARTUP_TIMEOUT_S = 90.0
STOP_GRACE_S = 10.0
# How many times to pick new ports when a process loses a port race.
PORT_ATTEMPTS = 5
LOG_TAIL_LINES = 40

USERS = ("admin", "auditor")


class ControlPlaneError(RuntimeError):
    """The control plane could not be started or used."""


class ApiError(ControlPlaneError):
    """kube-apiserver answered with an unexpected HTTP status."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} -> HTTP {status}: {body[:2000]}")
        self.method = method
        self.path = path
        self.status = status
        self.body = body


# --------------------------------------------------------------------------------------------------
# Finding binaries
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binaries:
    """How to launch etcd and kube-apiserver: an argv prefix for each."""

    etcd: tuple[str, ...]
    kube_apiserver: tuple[str, ...]
    # Where they came from, for messages ("KFSTOR_TESTCP=...", "cached build ...").
    source: str
    # True for kfstor-testcp built from tests/controlplane, whose version is the pinned one.
    pinned_build: bool


def pinned_k8s_version() -> str:
    """The Kubernetes release pinned in tests/controlplane/go.mod, e.g. ``v1.34.12``."""
    text = (CONTROLPLANE_MODULE / "go.mod").read_text()
    # Only the require line has the v1.x.y form; the replace block uses v0.x.y.
    match = re.search(r"^\s*k8s\.io/kubernetes\s+(v1\.\d+\.\d+)\s*$", text, re.MULTILINE)
    if match is None:
        raise ControlPlaneError("k8s.io/kubernetes is not required in tests/controlplane/go.mod")
    return match.group(1)


def _go_version() -> str | None:
    go = shutil.which("go")
    if go is None:
        return None
    result = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or None


def cache_root() -> Path:
    return Path(os.environ.get("KFSTOR_CACHE") or Path.home() / ".cache" / "kfstor")


def cached_binary_path(go_version: str | None = None) -> Path | None:
    """The path build.sh uses (or would use) for the current module graph.

    The key is (k8s version, Go version, sha256(go.sum)[:12]); keep it in sync with
    build.sh. Without a Go toolchain the Go version is unknown, so the newest cached
    build of this k8s version and go.sum is used instead.
    """
    k8s = pinned_k8s_version().removeprefix("v")
    sum12 = hashlib.sha256((CONTROLPLANE_MODULE / "go.sum").read_bytes()).hexdigest()[:12]
    go_version = go_version or _go_version()
    if go_version is not None:
        return cache_root() / f"testcp-{k8s}-{go_version}-{sum12}" / BINARY_NAME
    candidates = sorted(
        cache_root().glob(f"testcp-{k8s}-*-{sum12}/{BINARY_NAME}"),
        key=lambda p: p.stat().st_mtime,
    )
    return candidates[-1] if candidates else None


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _multi_call(path: Path, source: str, pinned: bool) -> Binaries:
    return Binaries(
        etcd=(str(path), "etcd"),
        kube_apiserver=(str(path), "kube-apiserver"),
        source=source,
        pinned_build=pinned,
    )


def build_testcp() -> Path:
    """Run build.sh (about 5 minutes on 2 cores with a cold Go build cache) and return the binary's path."""
    print(f"building {BINARY_NAME} with {BUILD_SCRIPT} (cold: about 5 minutes on 2 cores) ...", flush=True)
    # Build output goes to our stderr so a developer sees progress and errors.
    result = subprocess.run(["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, text=True, check=False)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise ControlPlaneError(f"{BUILD_SCRIPT} failed with exit code {result.returncode}")
    return Path(lines[-1])


def build_possible() -> bool:
    """True when find_binaries(build=True) would build: nothing configured, Go on PATH."""
    configured = ("KFSTOR_TESTCP", "KFSTOR_ETCD", "KFSTOR_KUBE_APISERVER", "KUBEBUILDER_ASSETS")
    return not any(os.environ.get(name) for name in configured) and shutil.which("go") is not None


def find_binaries(build: bool = False) -> tuple[Binaries | None, str]:
    """Locate etcd + kube-apiserver. Returns ``(binaries, reason)``.

    Order: ``KFSTOR_TESTCP`` (multi-call binary); ``KFSTOR_ETCD`` + ``KFSTOR_KUBE_APISERVER``;
    ``KUBEBUILDER_ASSETS`` (envtest layout); the cached build of tests/controlplane;
    and, only with ``build=True`` and Go on PATH, a fresh build via build.sh.

    An explicitly configured location that is broken is reported, never silently
    skipped in favour of the next source. ``reason`` says where the binaries came
    from, or why none were found.
    """
    testcp = os.environ.get("KFSTOR_TESTCP")
    if testcp:
        path = Path(testcp)
        if not _is_executable(path):
            return None, f"KFSTOR_TESTCP={testcp} is not an executable file"
        return _multi_call(path, f"KFSTOR_TESTCP={testcp}", pinned=True), "KFSTOR_TESTCP"

    etcd, kas = os.environ.get("KFSTOR_ETCD"), os.environ.get("KFSTOR_KUBE_APISERVER")
    if etcd or kas:
        if not (etcd and kas):
            return None, "KFSTOR_ETCD and KFSTOR_KUBE_APISERVER must be set together"
        for name, value in (("KFSTOR_ETCD", etcd), ("KFSTOR_KUBE_APISERVER", kas)):
            if not _is_executable(Path(value)):
                return None, f"{name}={value} is not an executable file"
        found = Binaries((etcd,), (kas,), f"KFSTOR_ETCD={etcd}, KFSTOR_KUBE_APISERVER={kas}", False)
        return found, "KFSTOR_ETCD/KFSTOR_KUBE_APISERVER"

    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets:
        etcd_path, kas_path = Path(assets) / "etcd", Path(assets) / "kube-apiserver"
        for path in (etcd_path, kas_path):
            if not _is_executable(path):
                return None, f"KUBEBUILDER_ASSETS={assets} has no executable {path.name}"
        found = Binaries((str(etcd_path),), (str(kas_path),), f"KUBEBUILDER_ASSETS={assets}", False)
        return found, "KUBEBUILDER_ASSETS"

    go_version = _go_version()
    cached = cached_binary_path(go_version)
    if cached is not None and _is_executable(cached):
        return _multi_call(cached, f"cached build {cached}", pinned=True), "cached build"

    if go_version is None:
        return None, (
            "no kube-apiserver/etcd found: set KFSTOR_TESTCP, KFSTOR_ETCD+KFSTOR_KUBE_APISERVER or "
            "KUBEBUILDER_ASSETS, or install Go and run tests/controlplane/build.sh"
        )
    if not build:
        return None, f"{BINARY_NAME} is not built yet ({cached}); run {BUILD_SCRIPT}"
    built = build_testcp()
    return _multi_call(built, f"fresh build {built}", pinned=True), "fresh build"


# --------------------------------------------------------------------------------------------------
# PKI, tokens, audit policy
# --------------------------------------------------------------------------------------------------


def _write_private_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    # SEC1 ("EC PRIVATE KEY"): the format every Kubernetes key loader accepts.
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)


def _write_pki(workdir: Path) -> None:
    """CA, a serving certificate for loopback, and the service-account signing key."""
    now = datetime.datetime.now(datetime.timezone.utc)
    # Backdate a little so small clock differences never make a fresh cert "not yet valid".
    not_before, not_after = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=7)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kfstor-test-ca")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    serving_key = ec.generate_private_key(ec.SECP256R1())
    # 10.0.0.1 and the kubernetes.default names are what in-cluster clients would use;
    # tests only ever connect to 127.0.0.1.
    sans: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
        x509.DNSName("localhost"),
        x509.DNSName("kubernetes"),
        x509.DNSName("kubernetes.default"),
        x509.DNSName("kubernetes.default.svc"),
    ]
    serving_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(serving_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    (workdir / "ca.crt").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_private_key(workdir / "ca.key", ca_key)
    (workdir / "apiserver.crt").write_bytes(serving_cert.public_bytes(serialization.Encoding.PEM))
    _write_private_key(workdir / "apiserver.key", serving_key)
    # Service-account tokens are signed with sa.key and verified with sa.pub.
    sa_key = ec.generate_private_key(ec.SECP256R1())
    _write_private_key(workdir / "sa.key", sa_key)
    (workdir / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _write_tokens(workdir: Path) -> dict[str, str]:
    tokens = {user: secrets.token_hex(24) for user in USERS}
    # Format: token,user,uid[,"group1,group2"]. The auditor has no groups, so it only
    # gets what RBAC grants (plus system:authenticated, which every user has).
    lines = [
        f'{tokens["admin"]},admin,1000,"system:masters"',
        f"{tokens['auditor']},auditor,1001",
    ]
    path = workdir / "tokens.csv"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return tokens


# Metadata level records who did which verb on which resource without request
# bodies; RequestReceived is dropped so each request is logged once, when complete.
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - RequestReceived
rules:
  - level: Metadata
"""


# --------------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the child if the Python process dies (e.g. SIGKILLed),
    so no stray apiserver outlives a crashed test run."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class _Process:
    name: str
    argv: list[str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # Append: a retried start keeps the earlier attempt's log for diagnosis.
        with self.log_path.open("ab") as log:
            log.write(f"\n=== starting: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own session: a Ctrl-C in the terminal reaches only Python, which
                # then stops the processes in order (apiserver before etcd).
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def exited(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def stop(self, grace_s: float = STOP_GRACE_S) -> bool:
        """SIGTERM, then SIGKILL after ``grace_s``. True when it exited on SIGTERM alone."""
        if self.popen is None or self.popen.poll() is not None:
            return True
        self.popen.send_signal(signal.SIGTERM)
        try:
            code = self.popen.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            return False
        # etcd re-raises SIGTERM after cleanup, so "killed by SIGTERM" is clean too.
        return code in (0, -signal.SIGTERM)

    def lost_port_race(self) -> bool:
        return "address already in use" in _tail(self.log_path, 200)


# --------------------------------------------------------------------------------------------------
# The control plane
# --------------------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


@dataclass(frozen=True)
class KindInfo:
    plural: str
    namespaced: bool


# Resource names and scope for the kinds the tests seed. Any apiVersion of the
# kind works (the path uses the object's own apiVersion).
KINDS: dict[str, KindInfo] = {
    "Namespace": KindInfo("namespaces", False),
    "Node": KindInfo("nodes", False),
    "StorageClass": KindInfo("storageclasses", False),
    "CSIDriver": KindInfo("csidrivers", False),
    "PersistentVolume": KindInfo("persistentvolumes", False),
    "PersistentVolumeClaim": KindInfo("persistentvolumeclaims", True),
    "Pod": KindInfo("pods", True),
    "Event": KindInfo("events", True),
    "Deployment": KindInfo("deployments", True),
    "StatefulSet": KindInfo("statefulsets", True),
    "ResourceQuota": KindInfo("resourcequotas", True),
    "ClusterRole": KindInfo("clusterroles", False),
    "ClusterRoleBinding": KindInfo("clusterrolebindings", False),
    "CustomResourceDefinition": KindInfo("customresourcedefinitions", False),
    "CSIStorageCapacity": KindInfo("csistoragecapacities", True),
    "CSINode": KindInfo("csinodes", False),
    "VolumeAttachment": KindInfo("volumeattachments", False),
    "ServiceAccount": KindInfo("serviceaccounts", True),
    # What deploy/base (kfstor's in-cluster CronJob) applies.
    "ConfigMap": KindInfo("configmaps", True),
    "CronJob": KindInfo("cronjobs", True),
    # CRD kinds (see volume_snapshot_class_crd() and notebook_crd()).
    "VolumeSnapshotClass": KindInfo("volumesnapshotclasses", False),
    "Notebook": KindInfo("notebooks", True),
}


def resource_path(api_version: str, kind: str, namespace: str | None = None, name: str | None = None) -> str:
    """REST path for a kind from ``KINDS``; ``namespace`` defaults to "default" like kubectl."""
    try:
        info = KINDS[kind]
    except KeyError:
        raise ControlPlaneError(f"kind {kind!r} is not in controlplane.KINDS; add it there") from None
    # The core group lives under /api, every other group under /apis.
    path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if info.namespaced:
        path += f"/namespaces/{namespace or 'default'}"
    path += f"/{info.plural}"
    if name is not None:
        path += f"/{name}"
    return path


def object_path(obj: dict[str, Any], *, with_name: bool = True) -> str:
    meta = obj.get("metadata", {})
    return resource_path(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"] if with_name else None)


class ControlPlane:
    """A running etcd + kube-apiserver pair. Create it with ``start_control_plane()``."""

    def __init__(self, workdir: Path, binaries: Binaries, tokens: dict[str, str], controllers: bool = False) -> None:
        self.workdir = workdir
        self.binaries = binaries
        self.tokens = tokens
        # True when kube-controller-manager will run (tests/live/cluster.py): then the admission
        # plugins that depend on its controllers stay on, as in a real cluster.
        self.controllers = controllers
        self.ca_path = workdir / "ca.crt"
        self.audit_log_path = workdir / "audit.log"
        self.etcd_log_path = workdir / "etcd.log"
        self.apiserver_log_path = workdir / "kube-apiserver.log"
        self.url = ""
        self.etcd_url = ""
        self.version_info: dict[str, Any] = {}
        self._etcd: _Process | None = None
        self._apiserver: _Process | None = None
        # Created once the CA exists (in _start); verifies the apiserver against our CA.
        self._ssl: ssl.SSLContext | None = None
        self._stopped = False
        self._timeout = STARTUP_TIMEOUT_S
        self.apiserver_args: tuple[str, ...] = ()

    # -- public API ---------------------------------------------------------------------------------

    @property
    def admin_token(self) -> str:
        return self.tokens["admin"]

    @property
    def server_version(self) -> str:
        """gitVersion reported by /version, e.g. ``v1.34.12``."""
        return str(self.version_info.get("gitVersion", ""))

    def kubeconfig(self, user: str = "admin") -> Path:
        """Write (or rewrite) a kubeconfig for ``user`` and return its path."""
        if user not in self.tokens:
            raise ValueError(f"unknown user {user!r}; known: {sorted(self.tokens)}")
        cluster = {"server": self.url, "certificate-authority": str(self.ca_path)}
        context = f"{user}@kfstor-test"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kfstor-test", "cluster": cluster}],
            "users": [{"name": user, "user": {"token": self.tokens[user]}}],
            "contexts": [{"name": context, "context": {"cluster": "kfstor-test", "user": user}}],
            "current-context": context,
        }
        path = self.workdir / f"kubeconfig-{user}.yaml"
        # JSON is valid YAML, and every kubeconfig loader accepts it.
        path.write_text(json.dumps(config, indent=2) + "\n")
        path.chmod(0o600)
        return path

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        user: str = "admin",
        content_type: str | None = None,
        timeout: float = 30.0,
    ) -> Response:
        """One HTTPS request as ``user``. Never raises on HTTP errors; check ``.status``.

        ``body`` is JSON-encoded. PATCH defaults to ``application/merge-patch+json``.
        """
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.tokens[user]}", "Accept": "application/json"}
        if data is not None:
            default_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
            headers["Content-Type"] = content_type or default_type
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=str(self.ca_path))
        try:
            with urllib.request.urlopen(req, context=self._ssl, timeout=timeout) as resp:
                return Response(resp.status, resp.read(), dict(resp.headers))
        except urllib.error.HTTPError as err:
            return Response(err.code, err.read(), dict(err.headers))

    def call(self, method: str, path: str, body: Any = None, user: str = "admin", expect: int = 200) -> Any:
        """Like ``request()`` but asserts the status (``expect``) and returns the decoded JSON."""
        resp = self.request(method, path, body, user=user)
        if resp.status != expect:
            raise ApiError(method, path, resp.status, resp.text)
        return resp.json()

    def create(self, obj: dict[str, Any], user: str = "admin") -> dict[str, Any]:
        """POST ``obj`` to its collection; returns the object as stored (status is dropped)."""
        path = object_path(obj, with_name=False)
        result: dict[str, Any] = self.call("POST", path, obj, user=user, expect=201)
        return result

    def get(self, obj: dict[str, Any], user: str = "admin") -> dict[str, Any]:
        """Read the current state of ``obj`` (identified by apiVersion/kind/namespace/name)."""
        result: dict[str, Any] = self.call("GET", object_path(obj), user=user)
        return result

    def set_status(self, obj: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        """Merge-patch ``status`` through the /status subresource, playing the missing controllers."""
        result: dict[str, Any] = self.call("PATCH", object_path(obj) + "/status", {"status": status})
        return result

    def wait_for_crd_established(self, name: str, timeout: float = 30.0) -> dict[str, Any]:
        """Wait until the CRD is Established and its resource is in discovery.

        Established alone can precede discovery by a moment, and a create in that
        window fails with 404; so also wait for the storage version's discovery doc.
        """
        path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            resp = self.request("GET", path)
            if resp.status == 200:
                crd = resp.json()
                # Right after creation status.conditions is null, not [].
                conditions = (crd.get("status") or {}).get("conditions") or []
                established = any(c["type"] == "Established" and c["status"] == "True" for c in conditions)
                if established and self._crd_discoverable(crd):
                    result: dict[str, Any] = crd
                    return result
                last = json.dumps(conditions)
            else:
                last = f"HTTP {resp.status}"
            time.sleep(0.2)
        raise ControlPlaneError(f"CRD {name} not established within {timeout}s (last: {last})")

    def audit_events(self) -> list[dict[str, Any]]:
        """Audit events written so far (one JSON object per line)."""
        if not self.audit_log_path.exists():
            return []
        events = []
        for line in self.audit_log_path.read_text().splitlines():
            # The writer may be mid-line; a partial last line is simply skipped.
            with contextlib.suppress(json.JSONDecodeError):
                events.append(json.loads(line))
        return events

    def stop(self, keep_workdir: bool = False) -> None:
        """Stop kube-apiserver, then etcd. Removes the workdir only after a clean run."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self._stop_at_exit)
        clean = True
        # apiserver first: it must not outlive its storage.
        for proc in (self._apiserver, self._etcd):
            if proc is not None:
                clean = proc.stop() and clean
        if clean and not keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> ControlPlane:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.stop(keep_workdir=exc_type is not None)

    # -- startup ------------------------------------------------------------------------------------

    def _stop_at_exit(self) -> None:
        self.stop(keep_workdir=True)

    def _crd_discoverable(self, crd: dict[str, Any]) -> bool:
        group = crd["spec"]["group"]
        plural = crd["spec"]["names"]["plural"]
        for version in crd["spec"]["versions"]:
            if not version.get("served"):
                continue
            resp = self.request("GET", f"/apis/{group}/{version['name']}")
            if resp.status != 200:
                return False
            if plural not in {r["name"] for r in resp.json().get("resources") or []}:
                return False
        return True

    def _failure(self, message: str) -> ControlPlaneError:
        """Stop everything, keep the workdir, and build an error with both log tails."""
        self.stop(keep_workdir=True)
        return ControlPlaneError(
            f"{message}\n"
            f"binaries: {self.binaries.source}\n"
            f"workdir kept: {self.workdir}\n"
            f"--- etcd log ({self.etcd_log_path}), last {LOG_TAIL_LINES} lines ---\n"
            f"{_tail(self.etcd_log_path)}\n"
            f"--- kube-apiserver log ({self.apiserver_log_path}), last {LOG_TAIL_LINES} lines ---\n"
            f"{_tail(self.apiserver_log_path)}"
        )

    def _wait(self, proc: _Process, ready: Callable[[], bool], deadline: float) -> str:
        """Poll ``ready`` until true. Returns "ready", "port-race" or raises."""
        while time.monotonic() < deadline:
            code = proc.exited()
            if code is not None:
                if proc.lost_port_race():
                    return "port-race"
                raise self._failure(f"{proc.name} exited with code {code} during startup")
            with contextlib.suppress(OSError):
                if ready():
                    return "ready"
            time.sleep(0.25)
        raise self._failure(f"{proc.name} not ready before the startup timeout ({self._timeout:.0f}s)")

    def _start_etcd(self, deadline: float) -> None:
        data_dir = self.workdir / "etcd-data"
        for _ in range(PORT_ATTEMPTS):
            client, peer = _free_port(), _free_port()
            client_url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
            shutil.rmtree(data_dir, ignore_errors=True)
            argv = [
                *self.binaries.etcd,
                "--name=default",
                f"--data-dir={data_dir}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                # Throwaway data: skipping fsync makes etcd much faster on slow disks.
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ]
            self._etcd = _Process("etcd", argv, self.etcd_log_path)
            self._etcd.start()

            def healthy(url: str = client_url) -> bool:
                with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                    return bool(json.load(resp).get("health") == "true")

            if self._wait(self._etcd, healthy, deadline) == "ready":
                self.etcd_url = client_url
                return
        raise self._failure(f"etcd lost the race for free ports {PORT_ATTEMPTS} times")

    def _start_apiserver(self, deadline: float) -> None:
        for _ in range(PORT_ATTEMPTS):
            port = _free_port()
            url = f"https://127.0.0.1:{port}"
            wd = self.workdir
            argv = [
                *self.binaries.kube_apiserver,
                f"--etcd-servers={self.etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={wd / 'kas-certs'}",
                f"--tls-cert-file={wd / 'apiserver.crt'}",
                f"--tls-private-key-file={wd / 'apiserver.key'}",
                f"--client-ca-file={wd / 'ca.crt'}",
                f"--token-auth-file={wd / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.0.0.0/24",
                f"--service-account-issuer={url}",
                f"--service-account-key-file={wd / 'sa.pub'}",
                f"--service-account-signing-key-file={wd / 'sa.key'}",
                # Without kube-controller-manager both plugins must be off: the ServiceAccount
                # plugin rejects pods until a "default" SA exists, and
                # StorageObjectInUseProtection adds finalizers nobody would remove.
                *(
                    ()
                    if self.controllers
                    else ("--disable-admission-plugins=ServiceAccount,StorageObjectInUseProtection",)
                ),
                "--allow-privileged=true",
                # Don't publish 127.0.0.1 as the kubernetes Service's endpoint.
                "--endpoint-reconciler-type=none",
                f"--audit-policy-file={wd / 'audit-policy.yaml'}",
                f"--audit-log-path={self.audit_log_path}",
                "--audit-log-format=json",
                "--v=1",
                *self.apiserver_args,
            ]
            self._apiserver = _Process("kube-apiserver", argv, self.apiserver_log_path)
            self._apiserver.start()
            self.url = url

            def ready() -> bool:
                # /readyz covers etcd, RBAC bootstrap and CRD informers; the default
                # namespace appears shortly after (created by the apiserver itself).
                return (
                    self.request("GET", "/readyz", timeout=2).status == 200
                    and self.request("GET", "/api/v1/namespaces/default", timeout=2).status == 200
                )

            if self._wait(self._apiserver, ready, deadline) == "ready":
                self.version_info = self.call("GET", "/version")
                return
        raise self._failure(f"kube-apiserver lost the race for a free port {PORT_ATTEMPTS} times")

    def _start(self, timeout: float) -> None:
        _write_pki(self.workdir)
        (self.workdir / "audit-policy.yaml").write_text(AUDIT_POLICY)
        self._ssl = ssl.create_default_context(cafile=str(self.ca_path))
        atexit.register(self._stop_at_exit)
        self._timeout = timeout
        deadline = time.monotonic() + timeout
        self._start_etcd(deadline)
        self._start_apiserver(deadline)
        for user in self.tokens:
            self.kubeconfig(user)


def start_control_plane(
    workdir: Path | None = None,
    binaries: Binaries | None = None,
    timeout: float = STARTUP_TIMEOUT_S,
    apiserver_args: Iterable[str] = (),
    controllers: bool = False,
) -> ControlPlane:
    """Start etcd + kube-apiserver and wait until the API serves the default namespace.

    ``workdir`` (created if missing; a fresh temp dir by default) holds the PKI,
    tokens, kubeconfigs, logs, audit log and etcd data. On failure the processes
    are stopped, the workdir is kept, and ``ControlPlaneError`` carries both log tails.
    ``controllers=True`` keeps every default admission plugin on, for a caller that
    starts kube-controller-manager next (tests/live/cluster.py).
    """
    if binaries is None:
        binaries, reason = find_binaries()
        if binaries is None:
            raise ControlPlaneError(reason)
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="kfstor-cp-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cp = ControlPlane(workdir, binaries, _write_tokens(workdir), controllers=controllers)
    cp.apiserver_args = tuple(apiserver_args)  # e.g. ("--max-requests-inflight=1",): more, or overriding
    cp._start(timeout)
    return cp


# --------------------------------------------------------------------------------------------------
# Hand-written minimal CRDs for kinds that kfstor audits but Kubernetes does not ship
# --------------------------------------------------------------------------------------------------


def volume_snapshot_class_crd() -> dict[str, Any]:
    """Minimal VolumeSnapshotClass CRD (snapshot.storage.k8s.io/v1, cluster-scoped).

    Like the real API, driver/deletionPolicy/parameters sit at the top level of the
    object (there is no spec), and there is no status.
    """
    schema = {
        "type": "object",
        "required": ["driver", "deletionPolicy"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "driver": {"type": "string"},
            "deletionPolicy": {"type": "string", "enum": ["Delete", "Retain"]},
            "parameters": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": "volumesnapshotclasses.snapshot.storage.k8s.io",
            # *.k8s.io groups are protected: the apiserver rejects CRDs in them without
            # this annotation. An "unapproved, ..." value is accepted (as such).
            "annotations": {"api-approved.kubernetes.io": "unapproved, kfstor test fixture"},
        },
        "spec": {
            "group": "snapshot.storage.k8s.io",
            "scope": "Cluster",
            "names": {
                "plural": "volumesnapshotclasses",
                "singular": "volumesnapshotclass",
                "kind": "VolumeSnapshotClass",
                "listKind": "VolumeSnapshotClassList",
                "shortNames": ["vsclass", "vsclasses"],
            },
            "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema}}],
        },
    }


def notebook_crd() -> dict[str, Any]:
    """Minimal Kubeflow Notebook CRD: kubeflow.org v1 (storage) and v1beta1, namespaced.

    spec and status keep any fields, which is all an auditor reading pod templates
    and volumes needs; status is a subresource as in Kubeflow.
    """

    def version(name: str, storage: bool) -> dict[str, Any]:
        schema = {
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        }
        return {
            "name": name,
            "served": True,
            "storage": storage,
            "schema": {"openAPIV3Schema": schema},
            "subresources": {"status": {}},
        }

    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "notebooks.kubeflow.org"},
        "spec": {
            "group": "kubeflow.org",
            "scope": "Namespaced",
            "names": {
                "plural": "notebooks",
                "singular": "notebook",
                "kind": "Notebook",
                "listKind": "NotebookList",
            },
            # Without conversion webhooks both versions share one schema ("None" strategy).
            "versions": [version("v1", storage=True), version("v1beta1", storage=False)],
        },
    }


def install_crds(cp: ControlPlane, crds: Iterable[dict[str, Any]] | None = None) -> None:
    """Create the given CRDs (default: VolumeSnapshotClass and Notebook) and wait for them.

    Already-existing CRDs are accepted, so several fixtures may call this.
    """
    for crd in crds if crds is not None else (volume_snapshot_class_crd(), notebook_crd()):
        resp = cp.request("POST", object_path(crd, with_name=False), crd)
        if resp.status not in (201, 409):
            raise ApiError("POST", object_path(crd, with_name=False), resp.status, resp.text)
        cp.wait_for_crd_established(crd["metadata"]["name"])
