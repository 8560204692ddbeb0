"""Load many objects into the test API server quickly: kept-alive HTTPS connections, one per
worker thread, creating objects and then writing their status through /status (there is no
controller manager to do it)."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from tests.live.controlplane import ControlPlane, object_path

SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "selfLink", "generation")


class _Client(threading.local):
    conn: http.client.HTTPSConnection | None = None


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in obj.items() if k != "status"}
    body["metadata"] = {k: v for k, v in obj["metadata"].items() if k not in SERVER_FIELDS}
    spec = body.get("spec")
    if isinstance(spec, dict) and isinstance(spec.get("claimRef"), dict):
        # The server gives the claim a new uid; a stale one would read as a mismatched binding.
        spec["claimRef"] = {k: v for k, v in spec["claimRef"].items() if k not in ("uid", "resourceVersion")}
    return body


class Seeder:
    def __init__(self, cp: ControlPlane, workers: int = 8) -> None:
        url = urlsplit(cp.url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port
        self.context = ssl.create_default_context(cafile=str(cp.ca_path))
        self.headers = {"Authorization": f"Bearer {cp.admin_token}", "Accept": "application/json"}
        self.workers = workers
        self.local = _Client()

    def _send(self, method: str, path: str, body: Any, content_type: str) -> int:
        for attempt in range(3):
            if self.local.conn is None:
                self.local.conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=60)
            try:
                self.local.conn.request(
                    method, path, json.dumps(body).encode(), {**self.headers, "Content-Type": content_type}
                )
                response = self.local.conn.getresponse()
                response.read()
                return response.status
            except (OSError, http.client.HTTPException):
                self.local.conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _one(self, obj: dict[str, Any]) -> None:
        status = self._send("POST", object_path(obj, with_name=False), _strip(obj), "application/json")
        if status not in (201, 409):
            raise RuntimeError(f"creating {obj['kind']}/{obj['metadata']['name']} answered {status}")
        if obj.get("status") and obj["kind"] not in ("Namespace",):
            code = self._send(
                "PATCH", object_path(obj) + "/status", {"status": obj["status"]}, "application/merge-patch+json"
            )
            if code != 200:
                raise RuntimeError(f"status of {obj['kind']}/{obj['metadata']['name']} answered {code}")

    def create(self, objects: Iterable[dict[str, Any]]) -> int:
        items = list(objects)
        with ThreadPoolExecutor(self.workers) as pool:
            for _ in pool.map(self._one, items, chunksize=64):
                pass
        return len(items)


def seed(cp: ControlPlane, objects: list[dict[str, Any]], workers: int = 8) -> int:
    """Namespaces first (everything else lives in them), then the rest in parallel."""
    seeder = Seeder(cp, workers)
    namespaces = [o for o in objects if o["kind"] == "Namespace"]
    rest = [o for o in objects if o["kind"] != "Namespace"]
    return seeder.create(namespaces) + seeder.create(rest)
