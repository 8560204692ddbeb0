"""HTTP GETs to the API server that a busy, slow or hostile server cannot hold or break.

- --request-timeout bounds a whole request (connect, headers and body): a watchdog shuts the
  socket down at the deadline, so a server that drips one byte at a time cannot hold the run.
- Bounded retries with backoff for these idempotent GETs: on 429 (honouring Retry-After), on
  500/502/503/504 and on connections reset or closed without an answer. A server that keeps
  answering 429/5xx gets its own line; refused connections, TLS and DNS failures are not retried
  (retrying would only hide an unreachable server).
- abort() (Ctrl-C, SIGTERM, or another list failing) ends every request in flight at once.
- The proxy is the kubeconfig's proxy-url, else HTTPS_PROXY / HTTP_PROXY from the environment
  unless NO_PROXY matches the server, as kubectl does; only http:// and https:// proxies work.
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import os
import random
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

# A server failing (5xx, no connection) gets eight attempts with backoff, so a server failing for
# good is still told apart within about 20 s.
MAX_ATTEMPTS = 8
BACKOFF_S = (0.5, 1.0, 2.0, 4.0)
MAX_RETRY_AFTER_S = 10.0
# A server throttling (429 Too Many Requests, from max-in-flight or priority and fairness) is alive and
# asks the client to come back: on a busy cluster one list can be refused for many seconds in a row,
# so kfstor keeps coming back, as Retry-After says, for up to this long per request before giving up.
THROTTLED_BUDGET_S = 45.0
MIN_THROTTLED_WAIT_S = 0.2  # a Retry-After of 0 must not turn the wait into a busy loop
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class TransportError(Exception):
    """The request could not be completed: one line for the user (exit code 3)."""


class Aborted(Exception):
    """The run is being stopped: requests in flight end without a message of their own."""


@dataclass
class Response:
    status: int
    reason: str
    data: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Proxy:
    url: str
    source: str  # "proxy-url in FILE" or "HTTPS_PROXY"


# --------------------------------------------------------------------------------------------------
# Proxy choice


def _env(name: str) -> str:
    return os.environ.get(name) or os.environ.get(name.lower()) or ""


def no_proxy_matches(host: str, port: int | None, no_proxy: str) -> bool:
    """Go's (and so kubectl's) NO_PROXY rules: "*", exact hosts, domain suffixes ("example.com"
    and ".example.com" both cover sub.example.com), IP addresses and CIDR ranges, optional ports."""
    host = host.lower().strip("[]")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry and address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        name, entry_port = entry, None
        if entry.count(":") == 1 or (entry.startswith("[") and "]:" in entry):
            name, _, port_text = entry.rpartition(":")
            entry_port = int(port_text) if port_text.isdigit() else None
        name = name.strip("[]")
        if entry_port is not None and port is not None and entry_port != port:
            continue
        if address is not None:
            try:
                if ipaddress.ip_address(name) == address:
                    return True
            except ValueError:
                pass
            continue
        name = name.lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


def choose_proxy(server: str, proxy_url: str, kubeconfig: str) -> Proxy | None:
    if proxy_url:  # kubectl: proxy-url wins over the environment, NO_PROXY included
        return Proxy(proxy_url, f"proxy-url in {kubeconfig}")
    parts = urlsplit(server)
    variable = "HTTPS_PROXY" if parts.scheme == "https" else "HTTP_PROXY"
    url = _env(variable)
    if not url:
        return None
    if no_proxy_matches(parts.hostname or "", parts.port, _env("NO_PROXY")):
        return None
    return Proxy(url, variable)


# --------------------------------------------------------------------------------------------------
# Deadlines: the watchdog shuts down the sockets of a request that outlived --request-timeout

_current = threading.local()


@dataclass(eq=False)
class _Request:
    connections: list[Any] = field(default_factory=list)
    timed_out: bool = False
    aborted: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def cut(self) -> None:
        with self.lock:
            connections = list(self.connections)
        for connection in connections:
            sock = getattr(connection, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def _watched(base: type) -> type:
    """A urllib3 connection class that registers itself with the request it serves."""

    class Watched(base):  # type: ignore[misc]
        def request(self, *args: Any, **kwargs: Any) -> Any:
            request = getattr(_current, "request", None)
            if request is not None:
                with request.lock:
                    request.connections.append(self)
            return super().request(*args, **kwargs)

    Watched.__name__ = f"Watched{base.__name__}"
    return Watched


# --------------------------------------------------------------------------------------------------
# The transport


class Transport:
    def __init__(
        self,
        base_url: str,
        server: str,
        timeout: float,
        tls: dict[str, Any],
        proxy: Proxy | None,
        headers: Mapping[str, str],
    ) -> None:
        import urllib3
        from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

        self.base = base_url.rstrip("/")
        self.server = server
        self.timeout = timeout
        self.proxy = proxy
        self.headers = dict(headers)
        self._aborted = threading.Event()
        self._lock = threading.Lock()
        self._in_flight: set[_Request] = set()
        retries = urllib3.Retry(total=0, redirect=3)  # retries are ours: bounded, and only where they help
        if proxy is not None:
            self.pool: Any = urllib3.ProxyManager(proxy.url, maxsize=4, retries=retries, **tls)
        else:
            self.pool = urllib3.PoolManager(maxsize=4, retries=retries, **tls)

        class Https(HTTPSConnectionPool):
            ConnectionCls = _watched(HTTPSConnectionPool.ConnectionCls)

        class Http(HTTPConnectionPool):
            ConnectionCls = _watched(HTTPConnectionPool.ConnectionCls)

        self.pool.pool_classes_by_scheme = {"http": Http, "https": Https}

    # -- lifecycle ----------------------------------------------------------------------------------

    def abort(self) -> None:
        """End every request in flight now and refuse new ones."""
        self._aborted.set()
        with self._lock:
            requests = list(self._in_flight)
        for request in requests:
            request.aborted = True
            request.cut()

    @property
    def aborted(self) -> bool:
        return self._aborted.is_set()

    def close(self) -> None:
        self.pool.clear()

    # -- requests -----------------------------------------------------------------------------------

    def get(self, path: str, query: list[tuple[str, Any]] | None = None) -> Response:
        """GET with bounded retries. Raises TransportError, or Aborted when the run is stopping."""
        url = self.base + path + (f"?{urlencode(query)}" if query else "")
        started = time.monotonic()
        last = ""
        attempts = failures = 0
        while True:
            if self.aborted:
                raise Aborted()
            attempts += 1
            retry_after: float | None = None
            try:
                response = self._once(url)
            except _Retryable as exc:
                last = exc.args[0]
                failures += 1
            else:
                if response.status not in RETRIED_STATUSES:
                    return response
                last = f"{response.status} {response.reason}".strip()
                retry_after = _retry_after(response.headers.get("Retry-After"))
                if response.status == 429:
                    delay = max(retry_after if retry_after is not None else BACKOFF_S[0], MIN_THROTTLED_WAIT_S)
                    waited = time.monotonic() - started
                    if waited + delay > THROTTLED_BUDGET_S:
                        raise TransportError(
                            f"the API server at {self.server} kept answering {last} for {path} for "
                            f"{waited:.0f} s ({attempts} attempts): it is overloaded; try again later"
                        )
                    self._wait(delay)
                    continue
                failures += 1
                if failures == MAX_ATTEMPTS:
                    raise TransportError(
                        f"the API server at {self.server} kept answering {last} for {path} "
                        f"({MAX_ATTEMPTS} attempts): it is overloaded or failing; try again later"
                    )
            if failures == MAX_ATTEMPTS:
                raise TransportError(
                    f"cannot reach the cluster at {self.server}: {last} ({MAX_ATTEMPTS} attempts for {path})"
                )
            self._wait(retry_after if retry_after is not None else BACKOFF_S[min(failures, len(BACKOFF_S)) - 1])

    def _wait(self, delay: float) -> None:
        # A little jitter so parallel lists do not come back in lockstep.
        if self._aborted.wait(delay + random.uniform(0, 0.1)):
            raise Aborted()

    def _once(self, url: str) -> Response:
        from urllib3.exceptions import (
            HTTPError,
            MaxRetryError,
            NewConnectionError,
            ProtocolError,
            ProxyError,
            TimeoutError,
        )

        request = _Request()
        with self._lock:
            self._in_flight.add(request)
        watchdog = threading.Timer(self.timeout, self._expire, args=(request,))
        watchdog.daemon = True
        _current.request = request
        try:
            watchdog.start()
            raw = self.pool.request(
                "GET", url, headers=self.headers, timeout=self.timeout, preload_content=True, redirect=True
            )
            if request.aborted or self.aborted:
                raise Aborted()
            if request.timed_out:  # the watchdog cut the body short: never parse half an answer
                raise TransportError(self._timeout_message())
            return Response(raw.status, str(raw.reason or ""), raw.data, raw.headers)
        except (HTTPError, OSError) as exc:
            if request.aborted or self.aborted:
                raise Aborted() from None
            if request.timed_out:
                raise TransportError(self._timeout_message()) from None
            reason = exc.reason if isinstance(exc, MaxRetryError) and exc.reason is not None else exc
            if isinstance(reason, ProxyError) or (isinstance(exc, ProxyError)):
                raise TransportError(self._proxy_message(reason)) from None
            text = " ".join(str(reason).split())
            # (NewConnectionError subclasses ConnectTimeoutError: a refused connection is not a timeout.)
            timed_out = isinstance(reason, TimeoutError) and not isinstance(reason, NewConnectionError)
            if timed_out and "refused" not in text.lower():
                raise TransportError(self._timeout_message()) from None
            if isinstance(reason, (ProtocolError, ConnectionResetError, BrokenPipeError)) or _reset(text):
                raise _Retryable("the server closed the connection without answering (did it stop?)") from None
            raise TransportError(transport_message(self.server, text, self.timeout)) from None
        finally:
            watchdog.cancel()
            _current.request = None
            with self._lock:
                self._in_flight.discard(request)

    def _expire(self, request: _Request) -> None:
        request.timed_out = True
        request.cut()

    def _timeout_message(self) -> str:
        return f"cannot reach the cluster at {self.server}: no answer within --request-timeout {self.timeout:g}s"

    def _proxy_message(self, exc: BaseException) -> str:
        assert self.proxy is not None
        text = " ".join(str(exc).split()).lower()
        if "refused" in text:
            detail = "connection refused"
        elif "resolve" in text or "name or service not known" in text:
            detail = "host name does not resolve"
        elif "timed out" in text:
            detail = f"no answer within --request-timeout {self.timeout:g}s"
        else:
            detail = " ".join(str(exc).split())[:160]
        return f"cannot reach the proxy {_safe(self.proxy.url)} ({self.proxy.source}): {detail}"


class _Retryable(Exception):
    pass


def _reset(text: str) -> bool:
    lowered = text.lower()
    return any(
        marker in lowered
        for marker in ("remotedisconnected", "connection aborted", "reset by peer", "broken pipe", "connection broken")
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, min(when.timestamp() - time.time(), MAX_RETRY_AFTER_S))


def _safe(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        parts = parts._replace(netloc=host)
    return parts.geturl()


def transport_message(server: str, text: str, timeout: float) -> str:
    lowered = text.lower()
    if "certificate" in lowered or "ssl" in lowered:
        detail = "certificate has expired" if "expired" in lowered else "TLS verification failed"
        return f"cannot reach the cluster at {server}: {detail} ({text[:160]})"
    if "timed out" in lowered or "timeout" in lowered:
        return f"cannot reach the cluster at {server}: no answer within --request-timeout {timeout:g}s"
    if "refused" in lowered:
        return f"cannot reach the cluster at {server}: connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "resolve" in lowered:
        return f"cannot reach the cluster at {server}: host name does not resolve"
    return f"cannot reach the cluster at {server}: {text[:200]}"
