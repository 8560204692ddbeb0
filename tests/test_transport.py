"""The transport's retries against a real HTTP server in this process: how long kfstor keeps coming
back to a server that throttles (429), and how soon it gives up on one that fails (5xx)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kfstor.collect import transport
from kfstor.collect.transport import Transport, TransportError


class _Server:
    """Answers each GET with the next (status, Retry-After) of its script, then 200 for ever."""

    def __init__(self, script: list[tuple[int, str | None]]) -> None:
        self.script = list(script)
        self.arrivals: list[float] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.arrivals.append(time.monotonic())
                status, retry_after = server.script.pop(0) if server.script else (200, None)
                body = b'{"kind": "Status"}' if status != 200 else b'{"items": []}'
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> _Server:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _transport(url: str) -> Transport:
    return Transport(url, url, timeout=5.0, tls={}, proxy=None, headers={})


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(transport, "BACKOFF_S", (0.01,))
    yield


def test_a_throttling_server_is_waited_out_past_the_failure_attempts(quick_backoff: None) -> None:
    # Twelve 429s in a row (more than the eight attempts a failing server gets), each asking for a
    # wait of 0 s: kfstor comes back each time and gets the answer.
    with _Server([(429, "0")] * 12) as server:
        response = _transport(server.url).get("/api/v1/events")
    assert response.status == 200
    assert len(server.arrivals) == 13
    gaps = [b - a for a, b in zip(server.arrivals, server.arrivals[1:], strict=False)]
    assert min(gaps) >= transport.MIN_THROTTLED_WAIT_S  # a Retry-After of 0 is not a busy loop


def test_a_server_that_throttles_past_the_budget_gets_its_own_line(
    quick_backoff: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "THROTTLED_BUDGET_S", 1.5)
    with _Server([(429, "1")] * 100) as server:
        started = time.monotonic()
        with pytest.raises(TransportError) as raised:
            _transport(server.url).get("/api/v1/events")
        took = time.monotonic() - started
    # Retry-After: 1 is honoured: arrivals at about 0, 1 s; the third wait would end past 1.5 s.
    assert len(server.arrivals) == 2
    assert str(raised.value) == (
        f"the API server at {server.url} kept answering 429 Too Many Requests for /api/v1/events for 1 s "
        "(2 attempts): it is overloaded; try again later"
    )
    assert 0.95 <= took < 1.5


def test_a_failing_server_gets_eight_attempts_and_throttling_does_not_use_them_up(quick_backoff: None) -> None:
    # Seven 503s around 429s still succeed: only failures count toward the eight attempts.
    script: list[tuple[int, str | None]] = [(503, None), (429, "0")] * 7
    with _Server(script) as server:
        assert _transport(server.url).get("/api/v1/pods").status == 200
    assert len(server.arrivals) == 15
    with _Server([(503, None)] * 8) as server, pytest.raises(TransportError) as raised:
        _transport(server.url).get("/api/v1/pods")
    assert len(server.arrivals) == 8
    assert str(raised.value) == (
        f"the API server at {server.url} kept answering 503 Service Unavailable for /api/v1/pods "
        "(8 attempts): it is overloaded or failing; try again later"
    )
