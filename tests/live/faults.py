"""Fault injection for live tests: a small threaded TLS-terminating HTTP proxy and throwaway PKI.

``FaultProxy`` listens on 127.0.0.1, serves its own certificate (valid, expired, or from any CA
the test generates), and forwards each HTTP request to the real kube-apiserver. A policy decides,
per request, whether to serve it, to delay the response, or to "die": from then on the proxy
refuses new connections (its listening socket is closed) and closes every client connection
without answering, exactly what a client sees when the API server process goes away.

Only the standard library and ``cryptography`` are used. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import datetime
import http
import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Hop-by-hop headers are not forwarded; the body is re-sent with its own Content-Length.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
}
_MAX_HEADER_BYTES = 64 * 1024
_SOCKET_TIMEOUT_S = 30.0


# --------------------------------------------------------------------------------------------------
# PKI
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pem:
    cert: Path
    key: Path


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _write(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, directory: Path, stem: str) -> Pem:
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return Pem(cert_path, key_path)


class CertificateAuthority:
    """A throwaway CA that issues loopback serving certificates with chosen validity."""

    def __init__(self, directory: Path, name: str = "kfstor-fault-ca") -> None:
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = _utcnow()
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now + datetime.timedelta(days=30))
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
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.pem = _write(self.cert, self.key, directory, name)

    @property
    def cert_path(self) -> Path:
        return self.pem.cert

    def issue(self, stem: str, not_before: datetime.datetime, not_after: datetime.datetime) -> Pem:
        """A serving certificate for 127.0.0.1/localhost valid from not_before to not_after."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, stem)]))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return _write(cert, key, self.directory, stem)

    def valid(self, stem: str = "serving") -> Pem:
        now = _utcnow()
        return self.issue(stem, now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1))

    def expired(self, stem: str = "expired") -> Pem:
        """Expired yesterday (valid for the ten days before)."""
        now = _utcnow()
        return self.issue(stem, now - datetime.timedelta(days=11), now - datetime.timedelta(days=1))


def write_kubeconfig(path: Path, server: str, ca: Path, token: str, user: str = "user") -> Path:
    """A one-context kubeconfig (JSON is valid YAML) with a bearer token."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fault", "cluster": {"server": server, "certificate-authority": str(ca)}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": f"{user}@fault", "context": {"cluster": "fault", "user": user}}],
        "current-context": f"{user}@fault",
    }
    path.write_text(json.dumps(config, indent=2) + "\n")
    path.chmod(0o600)
    return path


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------------
# The proxy
# --------------------------------------------------------------------------------------------------

# What to do with request number n (1-based) for this path:
#   "serve"    forward it and relay the answer;
#   "die"      the server goes away: once the requests already being served are answered, the
#              proxy refuses new connections and closes every open one; this request gets no answer;
#   "trigger"  once the requests already being served are answered, call ``on_trigger`` (e.g. stop
#              the real control plane), then forward it like "serve"; when the upstream no longer
#              answers, the proxy dies with it, so the client sees exactly what the server did;
#   a number   serve it after that many seconds;
#   Answer(...) answer it ourselves (a 429 with Retry-After, a 410 for a continue token, a 403 ...),
#              without asking the real server;
#   Drip(s)    forward it, then send the real answer one byte every s seconds.
Policy = Callable[[int, str], Any]


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True)
class Drip:
    seconds_per_byte: float


def status_answer(code: int, message: str, **headers: str) -> Answer:
    """An answer shaped like kube-apiserver's metav1.Status errors (Retry_After= becomes Retry-After)."""
    phrase = http.HTTPStatus(code).phrase
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "code": code}
    body = json.dumps({**status, "reason": phrase.replace(" ", "")}).encode()
    head = (("Content-Type", "application/json"), *((k.replace("_", "-"), v) for k, v in headers.items()))
    return Answer(code, phrase, head, body)


_DRAIN_TIMEOUT_S = 15.0


def serve_all(_n: int, _path: str) -> str:
    return "serve"


def serve_first(count: int, then: str = "die") -> Policy:
    """Serve the first ``count`` requests; then ``then`` ("die" or "trigger") and serve the rest."""
    return lambda n, _path: "serve" if n <= count else (then if n == count + 1 or then == "die" else "serve")


def delay_each(seconds: float, only: Callable[[str], bool] = lambda _path: True) -> Policy:
    """Delay the answer to every request whose path satisfies ``only``."""
    return lambda _n, path: seconds if only(path) else "serve"


class FaultProxy:
    """TLS-terminating HTTP/1.1 proxy from 127.0.0.1:<port> to an HTTPS upstream.

    ``served`` lists (n, method, path) of requests answered, in order of answer; ``received``
    counts all requests seen and ``arrivals`` records when each arrived. Use it as a context
    manager; leaving it closes everything.
    """

    def __init__(
        self,
        upstream_url: str,
        upstream_ca: Path,
        serving: Pem,
        policy: Policy = serve_all,
        on_trigger: Callable[[], None] | None = None,
    ) -> None:
        host_port = upstream_url.removeprefix("https://").rstrip("/")
        host, _, port = host_port.rpartition(":")
        self.upstream = (host, int(port))
        self.upstream_ssl = ssl.create_default_context(cafile=str(upstream_ca))
        self.server_ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_ssl.load_cert_chain(str(serving.cert), str(serving.key))
        self.policy = policy
        self.on_trigger = on_trigger
        self.received = 0
        self.served: list[tuple[int, str, str]] = []
        # (n, path, time.monotonic()) of every request as it arrived.
        self.arrivals: list[tuple[int, str, float]] = []
        self.handshake_errors: list[str] = []
        # (n, path, status) of the requests the proxy answered itself (Answer).
        self.answered: list[tuple[int, str, int]] = []
        # (n, path, status) of the real server's answers relayed.
        self.relayed: list[tuple[int, str, int]] = []
        self.upstream_errors: list[str] = []
        self.triggered = threading.Event()
        self.trigger_done = threading.Event()
        self.dead = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = int(self._listener.getsockname()[1])
        self.url = f"https://127.0.0.1:{self.port}"
        self._accept_thread = threading.Thread(target=self._accept_loop, name="fault-proxy-accept", daemon=True)

    # -- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> FaultProxy:
        self._accept_thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._die_now()
        self._accept_thread.join(timeout=5)
        for thread in list(self._threads):
            thread.join(timeout=5)

    def _die_now(self) -> None:
        """Refuse new connections and drop every open one, like a server process that exited."""
        self.dead.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            clients = list(self._clients)
        for sock in clients:
            # socket.socket.shutdown, not SSLSocket.shutdown: wake the reading thread at once
            # (FIN to the client) without tearing the TLS object from under it.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _drain(self) -> None:
        """Wait (bounded) until no request is being served."""
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=_DRAIN_TIMEOUT_S)

    # -- serving ------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        # Closing a socket does not wake a thread blocked in accept(): poll instead.
        self._listener.settimeout(0.2)
        while not self.dead.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._handle, args=(raw,), name="fault-proxy-conn", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, raw: socket.socket) -> None:
        raw.settimeout(_SOCKET_TIMEOUT_S)
        try:
            client = self.server_ssl.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            self.handshake_errors.append(str(exc))
            with contextlib.suppress(OSError):
                raw.close()
            return
        with self._lock:
            self._clients.add(client)
        upstream: http.client.HTTPSConnection | None = None
        reader = client.makefile("rb")
        try:
            while not self.dead.is_set():
                request = _read_request(reader)
                if request is None:
                    return
                method, path, headers, body = request
                with self._lock:
                    self.received += 1
                    n = self.received
                    self.arrivals.append((n, path, time.monotonic()))
                action = self.policy(n, path)
                if action == "die":
                    if not self.dead.is_set():
                        self.dead.set()  # answer nothing more ...
                        self._drain()  # ... once what is being answered is out
                        self._die_now()
                    return
                if action == "trigger" and not self.triggered.is_set():
                    self.triggered.set()
                    self._drain()
                    try:
                        if self.on_trigger is not None:
                            self.on_trigger()
                    finally:
                        self.trigger_done.set()
                elif self.triggered.is_set():
                    # Requests racing the trigger wait for it: they all meet the state it leaves.
                    self.trigger_done.wait(_DRAIN_TIMEOUT_S)
                if isinstance(action, Answer):
                    head = [f"HTTP/1.1 {action.status} {action.reason}"]
                    head += [f"{k}: {v}" for k, v in action.headers]
                    head += [f"Content-Length: {len(action.body)}", "Connection: keep-alive", "", ""]
                    client.sendall("\r\n".join(head).encode("latin-1") + action.body)
                    with self._lock:
                        self.served.append((n, method, path))
                        self.answered.append((n, path, action.status))
                    continue
                with self._lock:
                    if self.dead.is_set():
                        return
                    self._in_flight += 1
                try:
                    delayed = isinstance(action, (int, float)) and not isinstance(action, bool)
                    # Interruptible sleep: closing the proxy ends it at once.
                    if delayed and self._stop.wait(float(action)):
                        return
                    if upstream is None:
                        upstream = http.client.HTTPSConnection(
                            *self.upstream, context=self.upstream_ssl, timeout=_SOCKET_TIMEOUT_S
                        )
                    try:
                        upstream.request(
                            method,
                            path,
                            body=body or None,
                            headers={k: v for k, v in headers if k.lower() not in _HOP_BY_HOP},
                        )
                        response = upstream.getresponse()
                        payload = response.read()
                    except (OSError, http.client.HTTPException) as exc:
                        # The server behind us is gone: so are we, and this request gets no answer.
                        self.upstream_errors.append(f"{path}: {exc!r}")
                        self.dead.set()
                        threading.Thread(target=self._die_now, daemon=True).start()
                        return
                    head = [f"HTTP/1.1 {response.status} {response.reason}"]
                    head += [f"{k}: {v}" for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
                    head += [f"Content-Length: {len(payload)}", "Connection: keep-alive", "", ""]
                    if isinstance(action, Drip):
                        data = "\r\n".join(head).encode("latin-1") + payload
                        for i in range(len(data)):
                            if self._stop.wait(action.seconds_per_byte):
                                return
                            client.sendall(data[i : i + 1])
                    else:
                        client.sendall("\r\n".join(head).encode("latin-1") + payload)
                    with self._lock:
                        self.served.append((n, method, path))
                        self.relayed.append((n, path, response.status))
                finally:
                    with self._idle:
                        self._in_flight -= 1
                        self._idle.notify_all()
        except (OSError, ValueError, AttributeError):
            return
        finally:
            if upstream is not None:
                upstream.close()
            with contextlib.suppress(OSError):
                reader.close()
            self._drop(client)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._clients.discard(sock)
        with contextlib.suppress(OSError):
            sock.close()


def _read_request(reader: Any) -> tuple[str, str, list[tuple[str, str]], bytes] | None:
    """One HTTP/1.1 request from a buffered socket reader; None on a closed connection."""
    line = reader.readline(_MAX_HEADER_BYTES)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3:
        return None
    method, path, _version = parts
    headers: list[tuple[str, str]] = []
    length = 0
    while True:
        raw = reader.readline(_MAX_HEADER_BYTES)
        if not raw:
            return None
        text = raw.decode("latin-1").rstrip("\r\n")
        if not text:
            break
        name, _, value = text.partition(":")
        headers.append((name.strip(), value.strip()))
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = reader.read(length) if length else b""
    return method, path, headers, body
