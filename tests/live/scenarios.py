"""Seed a live test control plane with a scenario, the way a real cluster would hold it.

    seed_scenario(cp, "portworx-kubeflow-1.10-healthy")   # tests/cases/scenarios/<name>.yaml
    seed_scenario(cp, "path/to/kubectl-output.yaml")       # any kubectl-style file
    seed_objects(cp, objects)                              # plain dicts

Every object goes through the API as an admin: server-managed metadata (uid, resourceVersion,
creationTimestamp, ...) is dropped, the server assigns its own, and status is written through
the ``/status`` subresource, playing the controllers this control plane does not run.

Order matters where a real cluster's does:

- namespaces first (also every namespace an object names), and both CRDs (VolumeSnapshotClass,
  Notebook: controlplane.install_crds) when objects of either kind are there, as a file made by
  `kubectl get ...,volumesnapshotclasses,notebooks` implies (``optional_apis`` overrides this);
- StorageClasses one by one in the file's creationTimestamp order, waiting just over a second
  between classes whose timestamps differ: the server assigns creationTimestamp with one-second
  resolution, and which of several default classes Kubernetes uses depends on it; all classes
  exist before any claim, so the DefaultStorageClass admission plugin sees what it would have;
- claims before volumes, so a volume's ``spec.claimRef.uid`` can be rewritten to the uid the
  server gave the claim it names (when the file's claimRef matched the file's claim: a stale
  claimRef stays stale);
- ResourceQuotas last: the quota admission plugin rejects creates in a namespace whose quota has
  no computed status yet (no quota controller runs here).

Creates whose order does not matter run on a small thread pool over keep-alive connections.
Only the standard library and PyYAML are used, so devcluster.py can use this without pytest.
"""

from __future__ import annotations

import copy
import datetime
import http.client
import json
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .controlplane import (
    KINDS,
    ApiError,
    ControlPlane,
    ControlPlaneError,
    install_crds,
    notebook_crd,
    object_path,
    volume_snapshot_class_crd,
)

SCENARIOS_DIR = Path(__file__).resolve().parents[1] / "cases" / "scenarios"
# No objects at all; devcluster's default.
EMPTY = "empty"
WORKERS = 8
# creationTimestamp has one-second resolution: a little more than that separates two classes.
TIMESTAMP_STEP_S = 1.05
# Server-managed metadata a create must not carry (the server assigns its own).
SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
# Kinds whose status this seeder writes through /status after the create.
STATUS_KINDS = frozenset(
    {
        "Node",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Pod",
        "Deployment",
        "StatefulSet",
        "ResourceQuota",
        "Notebook",
    }
)
# Kinds served by CRDs (see controlplane.install_crds).
OPTIONAL_API_KINDS = ("VolumeSnapshotClass", "Notebook")
# After claims and volumes: kinds within a phase are created concurrently, phases in order.
LATER_PHASES: tuple[tuple[str, ...], ...] = (
    (
        "Deployment",
        "StatefulSet",
        "Pod",
        "Event",
        "CSIStorageCapacity",
        "VolumeSnapshotClass",
        "Notebook",
    ),
    # Last: the quota admission plugin rejects creates in a namespace whose quota has no status.
    ("ResourceQuota",),
)


class SeedError(ControlPlaneError):
    """A scenario could not be seeded (unknown name, unsupported kind, rejected object)."""


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml"))


def scenario_path(name: str) -> Path:
    """tests/cases/scenarios/<name>.yaml, or ``name`` itself when it is an existing file."""
    candidate = SCENARIOS_DIR / f"{name}.yaml"
    if candidate.is_file():
        return candidate
    path = Path(name)
    if path.is_file():
        return path
    raise SeedError(f"unknown scenario {name!r}: not a file and not one of {', '.join([EMPTY, *scenario_names()])}")


def _flatten(doc: Any) -> Iterator[dict[str, Any]]:
    if doc is None:
        return
    if isinstance(doc, list):
        for item in doc:
            yield from _flatten(item)
        return
    if not isinstance(doc, dict):
        raise SeedError(f"expected a Kubernetes object, got a {type(doc).__name__}")
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
        item_kind = kind[: -len("List")] if kind != "List" else None
        for item in doc.get("items") or []:
            if isinstance(item, dict) and item_kind and not item.get("kind"):
                item = {**item, "kind": item_kind}
            yield from _flatten(item)
        return
    yield doc


def load_objects(path: Path) -> list[dict[str, Any]]:
    """Every object of a kubectl-style file: multi-document YAML/JSON, ``kind: List`` or ``*List``."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        return [obj for doc in yaml.load_all(handle, Loader=loader) for obj in _flatten(doc)]


# --------------------------------------------------------------------------------------------------
# A small keep-alive client (one HTTPS connection per worker thread)
# --------------------------------------------------------------------------------------------------


class _Client:
    def __init__(self, cp: ControlPlane) -> None:
        parts = urlsplit(cp.url)
        if parts.hostname is None or parts.port is None:
            raise SeedError(f"control plane URL {cp.url!r} has no host and port")
        self._host, self._port = parts.hostname, parts.port
        self._ssl = ssl.create_default_context(cafile=str(cp.ca_path))
        self._token = cp.admin_token
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[http.client.HTTPSConnection] = []
        self.requests = 0

    def _connection(self) -> tuple[http.client.HTTPSConnection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, True
        conn = http.client.HTTPSConnection(self._host, self._port, context=self._ssl, timeout=30)
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn, False

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/merge-patch+json" if method == "PATCH" else "application/json"
        for _attempt in range(2):
            conn, reused = self._connection()
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                # Only a kept-alive connection the server closed meanwhile is worth one retry.
                if not reused:
                    raise
                continue
            with self._lock:
                self.requests += 1
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = raw.decode(errors="replace")
            return resp.status, payload
        raise SeedError(f"{method} {path}: the connection kept closing")

    def call(self, method: str, path: str, body: Any = None, expect: Iterable[int] = (200,)) -> Any:
        status, payload = self.request(method, path, body)
        if status not in tuple(expect):
            text = payload if isinstance(payload, str) else json.dumps(payload)
            raise ApiError(method, path, status, text)
        return payload

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


# --------------------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------------------


def _describe(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind')}/{ns + '/' if ns else ''}{meta.get('name')}"


def _for_create(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy without server-managed metadata and without status."""
    clean = copy.deepcopy(obj)
    meta = clean.setdefault("metadata", {})
    for key in SERVER_METADATA:
        meta.pop(key, None)
    clean.pop("status", None)
    return clean


def _namespace_of(obj: dict[str, Any]) -> str | None:
    kind = obj.get("kind")
    if kind not in KINDS or not KINDS[kind].namespaced:
        return None
    return str((obj.get("metadata") or {}).get("namespace") or "default")


def _timestamp(obj: dict[str, Any]) -> str:
    value = (obj.get("metadata") or {}).get("creationTimestamp")
    # PyYAML may already have parsed an unquoted timestamp into a datetime.
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value or "")


class _Seeder:
    def __init__(self, cp: ControlPlane, objects: Sequence[dict[str, Any]], optional_apis: bool | None = None) -> None:
        self.cp = cp
        self.optional_apis = optional_apis
        self.objects = list(objects)
        self.client = _Client(cp)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        # (namespace, name) of each claim -> (uid in the file, uid the server assigned)
        self.claim_uids: dict[tuple[str, str], tuple[str, str]] = {}

    # -- one object ---------------------------------------------------------------------------------

    def create(self, obj: dict[str, Any], *, exist_ok: bool = False) -> dict[str, Any] | None:
        body = _for_create(obj)
        path = object_path(body, with_name=False)
        status, payload = self.client.request("POST", path, body)
        if status == 409 and exist_ok:
            return None
        if status != 201:
            text = payload if isinstance(payload, str) else json.dumps(payload)
            raise SeedError(f"creating {_describe(obj)} failed: POST {path} -> HTTP {status}: {text[:1500]}")
        with self._lock:
            self.counts[obj["kind"]] += 1
        created: dict[str, Any] = payload
        return created

    def set_status(self, obj: dict[str, Any]) -> None:
        status = obj.get("status")
        if not status:
            return
        if obj["kind"] == "Pod" and "qosClass" in status:
            # The server computes a pod's QoS class from its containers' resources on create and
            # rejects any other value as an immutable-field change: its own value stands.
            status = {k: v for k, v in status.items() if k != "qosClass"}
        path = object_path(obj) + "/status"
        code, payload = self.client.request("PATCH", path, {"status": status})
        if code != 200:
            text = payload if isinstance(payload, str) else json.dumps(payload)
            raise SeedError(f"status of {_describe(obj)} failed: PATCH {path} -> HTTP {code}: {text[:1500]}")

    def create_with_status(self, obj: dict[str, Any]) -> None:
        created = self.create(obj)
        if (
            created is not None
            and obj["kind"] in STATUS_KINDS
            and obj["kind"]
            not in (
                "PersistentVolume",
                "PersistentVolumeClaim",
            )
        ):
            self.set_status(obj)

    def create_namespace(self, obj: dict[str, Any]) -> None:
        self.create(obj, exist_ok=True)

    def create_claim(self, obj: dict[str, Any]) -> None:
        created = self.create(obj)
        assert created is not None
        meta = obj.get("metadata") or {}
        key = (str(meta.get("namespace") or "default"), str(meta.get("name")))
        with self._lock:
            self.claim_uids[key] = (str(meta.get("uid") or ""), str(created["metadata"]["uid"]))

    def create_volume(self, obj: dict[str, Any]) -> None:
        ref = (obj.get("spec") or {}).get("claimRef")
        if isinstance(ref, dict) and ref.get("kind", "PersistentVolumeClaim") == "PersistentVolumeClaim":
            key = (str(ref.get("namespace") or "default"), str(ref.get("name")))
            uids = self.claim_uids.get(key)
            # Rewrite only a claimRef that pointed at this very claim in the file (same uid, or
            # no uid on either side, as in hand-written objects); a stale claimRef stays stale.
            if uids is not None and str(ref.get("uid") or "") == uids[0]:
                obj = copy.deepcopy(obj)
                obj["spec"]["claimRef"]["uid"] = uids[1]
        self.create(obj)

    # -- phases -------------------------------------------------------------------------------------

    def run_parallel(
        self, pool: ThreadPoolExecutor, fn: Callable[[dict[str, Any]], None], objs: Iterable[dict[str, Any]]
    ) -> None:
        futures = [pool.submit(fn, obj) for obj in objs]
        self._wait(futures)

    @staticmethod
    def _wait(futures: Sequence[Future[Any]]) -> None:
        errors = [f.exception() for f in futures]
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first

    def storage_classes(self, classes: list[dict[str, Any]]) -> None:
        """One at a time, oldest first, a second apart where the file's timestamps differ."""
        previous: str | None = None
        for sc in sorted(classes, key=lambda o: (_timestamp(o), str(o["metadata"]["name"]))):
            stamp = _timestamp(sc)
            if previous is not None and stamp != previous:
                time.sleep(TIMESTAMP_STEP_S)
            self.create(sc)
            previous = stamp

    def seed(self) -> dict[str, int]:
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for obj in self.objects:
            kind = obj.get("kind")
            if kind not in KINDS or kind == "CustomResourceDefinition":
                raise SeedError(f"cannot seed {_describe(obj)}: kind {kind!r} is not supported")
            if not isinstance(obj.get("metadata"), dict) or not obj["metadata"].get("name"):
                raise SeedError(f"cannot seed a {kind} without metadata.name")
            by_kind.setdefault(str(kind), []).append(obj)

        explicit = {str(ns["metadata"]["name"]): ns for ns in by_kind.pop("Namespace", [])}
        referenced = {ns for obj in self.objects if (ns := _namespace_of(obj)) is not None}
        namespaces = list(explicit.values()) + [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
            for ns in sorted(referenced - set(explicit))
        ]
        install_apis = self.optional_apis
        if install_apis is None:
            install_apis = any(by_kind.get(kind) for kind in OPTIONAL_API_KINDS)
        crds = [volume_snapshot_class_crd(), notebook_crd()] if install_apis else []

        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="seed") as pool:
            # The class sequence sleeps between creates: let everything that does not depend
            # on it (namespaces, CRDs, drivers, nodes) happen meanwhile.
            classes = pool.submit(self.storage_classes, by_kind.pop("StorageClass", []))
            crd_future = pool.submit(install_crds, self.cp, crds) if crds else None
            # "default" and "kube-system" already exist: a conflict there is fine.
            self.run_parallel(pool, self.create_namespace, namespaces)
            self.run_parallel(pool, self.create_with_status, by_kind.pop("CSIDriver", []) + by_kind.pop("Node", []))
            self._wait([f for f in (classes, crd_future) if f is not None])
            self.run_parallel(pool, self.create_claim, by_kind.get("PersistentVolumeClaim", []))
            self.run_parallel(pool, self.create_volume, by_kind.get("PersistentVolume", []))
            self.run_parallel(
                pool, self.set_status, by_kind.pop("PersistentVolume", []) + by_kind.pop("PersistentVolumeClaim", [])
            )
            for phase in LATER_PHASES:
                batch = [obj for kind in phase for obj in by_kind.pop(kind, [])]
                self.run_parallel(pool, self.create_with_status, batch)
        # Kinds in controlplane.KINDS that no phase names (RBAC objects): last, in file order.
        for objs in by_kind.values():
            for obj in objs:
                self.create(obj)
        return dict(sorted(self.counts.items()))


def seed_objects(
    cp: ControlPlane, objects: Iterable[dict[str, Any]], optional_apis: bool | None = None
) -> dict[str, int]:
    """Create ``objects`` (plain dicts as kubectl prints them) on ``cp``; returns counts per kind.

    ``optional_apis``: install the VolumeSnapshotClass and Notebook CRDs (True), not (False), or
    when objects of either kind are seeded (None, the default).
    """
    seeder = _Seeder(cp, list(objects), optional_apis)
    try:
        return seeder.seed()
    finally:
        seeder.client.close()


def seed_scenario(cp: ControlPlane, name: str, optional_apis: bool | None = None) -> dict[str, int]:
    """Seed tests/cases/scenarios/<name>.yaml (or the kubectl-style file ``name``); ``empty`` seeds nothing."""
    if name == EMPTY:
        return {}
    return seed_objects(cp, load_objects(scenario_path(name)), optional_apis)
