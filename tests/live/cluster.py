"""A test cluster that behaves like one, on top of ``controlplane.start_control_plane()``.

Besides etcd and kube-apiserver it runs, each as its own process:

- kube-controller-manager and kube-scheduler (personalities of the same kfstor-testcp binary, so
  the same pinned Kubernetes release), with the controllers a storage audit depends on: the PV
  binder and expander, attach-detach, PVC/PV protection, garbage collector, namespace, service
  accounts and their tokens, and the Deployment/ReplicaSet/StatefulSet controllers;
- kwok, which keeps simulated nodes Ready (with leases) and moves scheduled pods to Running;
- kfstor-csi, a zonal CSI driver (tests/cluster/kfstor-csi: volumes live in one zone, attach to
  one node at a time, and each zone has a capacity, so provisioning fails for real with
  ResourceExhausted), with the real kubernetes-csi sidecars external-provisioner (topology,
  strict topology), external-attacher and external-resizer.

What kubelet and node-driver-registrar would do on a real node, register the node (annotations,
topology label) and the driver (CSINode), is done here once per simulated node. Nothing else is
written by hand: every claim, volume, pod and event state in this cluster is the components' own.

The simulated nodes and zones are ``NODES``; the default StorageClass is ``DEFAULT_CLASS``
(WaitForFirstConsumer, expandable, reclaim Delete). Binaries: kfstor-testcp as in
``controlplane.find_binaries()``; the rest from ``find_cluster_bin()`` (``KFSTOR_CLUSTER_BIN``, or
the cached build of tests/cluster/build.sh).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .controlplane import (
    LOG_TAIL_LINES,
    PORT_ATTEMPTS,
    REPO_ROOT,
    ApiError,
    Binaries,
    ControlPlane,
    ControlPlaneError,
    _free_port,
    _go_version,
    _Process,
    _tail,
    cache_root,
    find_binaries,
    start_control_plane,
)

CLUSTER_MODULE = REPO_ROOT / "tests" / "cluster"
CLUSTER_BUILD_SCRIPT = CLUSTER_MODULE / "build.sh"
# Everything tests/cluster/build.sh puts in its cache directory.
COMPONENTS = ("kwok", "kwok-stages", "csi-provisioner", "csi-attacher", "csi-resizer", "kfstor-csi")

DRIVER = "csi.kfstor.test"
TOPOLOGY_KEY = "topology.csi.kfstor.test/zone"
DEFAULT_CLASS = "standard"
# kwok manages exactly the nodes carrying this annotation (as in kwok's out-of-cluster guide).
KWOK_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
# The PV controller resyncs claims every 15 s by default; 5 s keeps waits short. Each resync of a
# claim waiting for an external provisioner re-emits the Normal ExternalProvisioning event.
PV_SYNC_PERIOD = "5s"
# external-provisioner's backoff doubles from 1 s up to this (default 5 m) between failed attempts.
PROVISIONER_RETRY_MAX = "10s"
CLUSTER_STARTUP_TIMEOUT_S = 120.0

KCM_CONTROLLERS = (
    "persistentvolume-binder-controller",
    "persistentvolume-expander-controller",
    "persistentvolume-attach-detach-controller",
    "persistentvolumeclaim-protection-controller",
    "persistentvolume-protection-controller",
    "ephemeral-volume-controller",
    # Removes the node.kubernetes.io/not-ready taint the apiserver puts on every new node, once
    # kwok reports it Ready (and would mark nodes whose heartbeats stop NotReady).
    "node-lifecycle-controller",
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "deployment-controller",
    "replicaset-controller",
    "statefulset-controller",
)


@dataclass(frozen=True)
class NodeSpec:
    name: str
    zone: str


# Two nodes share zone-a, so a zonal ReadWriteOnce volume can be wanted on two nodes at once
# (Multi-Attach); zone-b is smaller, so a claim can fit one zone and not the other.
NODES = (NodeSpec("node-a1", "zone-a"), NodeSpec("node-a2", "zone-a"), NodeSpec("node-b1", "zone-b"))
ZONE_CAPACITY = {"zone-a": "100Gi", "zone-b": "40Gi"}
# Larger volumes fail with OutOfRange, which the sidecars treat as final (infeasible), unlike a
# full zone's ResourceExhausted, which they retry.
MAX_VOLUME_SIZE = "64Gi"


# --------------------------------------------------------------------------------------------------
# Finding and building the cluster's binaries
# --------------------------------------------------------------------------------------------------


def cluster_cache_key() -> str:
    """The first 12 hex digits of sha256 over go.mod, go.sum and the module's .go files.

    The same bytes, in the same order, as tests/cluster/build.sh hashes (keep the two in sync).
    """
    digest = hashlib.sha256()
    digest.update((CLUSTER_MODULE / "go.mod").read_bytes())
    digest.update((CLUSTER_MODULE / "go.sum").read_bytes())
    # build.sh: `find . -name '*.go' | LC_ALL=C sort`, i.e. byte order of "./"-relative paths.
    sources = sorted(CLUSTER_MODULE.rglob("*.go"), key=lambda p: "./" + p.relative_to(CLUSTER_MODULE).as_posix())
    for path in sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cached_cluster_dir(go_version: str | None = None) -> Path | None:
    """The directory build.sh uses (or would use); without Go, the newest build of this key."""
    key = cluster_cache_key()
    go_version = go_version or _go_version()
    if go_version is not None:
        return cache_root() / f"cluster-{go_version}-{key}"
    candidates = sorted(cache_root().glob(f"cluster-*-{key}"), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


def _complete(directory: Path) -> bool:
    return all((directory / name).is_file() and os.access(directory / name, os.X_OK) for name in COMPONENTS)


def build_cluster_bin() -> Path:
    """Run tests/cluster/build.sh and return the binaries' directory."""
    print(f"building the test cluster's binaries with {CLUSTER_BUILD_SCRIPT} ...", flush=True)
    result = subprocess.run(["bash", str(CLUSTER_BUILD_SCRIPT)], stdout=subprocess.PIPE, text=True, check=False)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise ControlPlaneError(f"{CLUSTER_BUILD_SCRIPT} failed with exit code {result.returncode}")
    return Path(lines[-1])


def find_cluster_bin(build: bool = False) -> tuple[Path | None, str]:
    """Locate kwok, the CSI sidecars and kfstor-csi. Returns ``(directory, reason)``.

    Order: ``KFSTOR_CLUSTER_BIN``; the cached build of tests/cluster; and, only with
    ``build=True`` and Go on PATH, a fresh build.
    """
    configured = os.environ.get("KFSTOR_CLUSTER_BIN")
    if configured:
        directory = Path(configured)
        if not _complete(directory):
            return None, f"KFSTOR_CLUSTER_BIN={configured} lacks one of {', '.join(COMPONENTS)}"
        return directory, f"KFSTOR_CLUSTER_BIN={configured}"
    go_version = _go_version()
    cached = cached_cluster_dir(go_version)
    if cached is not None and _complete(cached):
        return cached, f"cached build {cached}"
    if go_version is None:
        return None, "no test cluster binaries: set KFSTOR_CLUSTER_BIN, or install Go and run tests/cluster/build.sh"
    if not build:
        return None, f"the test cluster's binaries are not built yet ({cached}); run {CLUSTER_BUILD_SCRIPT}"
    return build_cluster_bin(), "fresh build"


def cluster_build_possible() -> bool:
    return not os.environ.get("KFSTOR_CLUSTER_BIN") and shutil.which("go") is not None


def check_testcp_personalities(binaries: Binaries) -> str | None:
    """None when kfstor-testcp runs kube-controller-manager and kube-scheduler, else why not.

    A kfstor-testcp built before those personalities existed (or other binaries given through
    KFSTOR_ETCD/KFSTOR_KUBE_APISERVER) cannot run this cluster.
    """
    if len(binaries.kube_apiserver) != 2:
        return f"{binaries.source}: the full test cluster needs the kfstor-testcp multi-call binary"
    for personality in ("kube-controller-manager", "kube-scheduler"):
        argv = [binaries.kube_apiserver[0], personality, "--version"]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        if result.returncode != 0:
            return f"{binaries.source} has no {personality} personality (rebuild with tests/controlplane/build.sh)"
    return None


# --------------------------------------------------------------------------------------------------
# The cluster
# --------------------------------------------------------------------------------------------------

T = TypeVar("T")


def wait_until(what: str, probe: Callable[[], T | None], timeout: float = 60.0, interval: float = 0.5) -> T:
    """Poll ``probe`` until it returns something other than None/False; raise after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise ControlPlaneError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def _loopback_context() -> ssl.SSLContext:
    # kube-controller-manager and kube-scheduler serve /healthz with a self-signed certificate
    # they generate in their --cert-dir; only loopback health probes use this context.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


class Cluster:
    """A running test cluster. Create it with ``start_cluster()``; ``cp`` is its control plane."""

    def __init__(self, cp: ControlPlane, bindir: Path) -> None:
        self.cp = cp
        self.bindir = bindir
        self.workdir = cp.workdir
        self.csi_socket = self.workdir / "csi" / "csi.sock"
        self._processes: dict[str, _Process] = {}
        # How each component is started again after stop_component(): name -> starter.
        self._starters: dict[str, Callable[[float], None]] = {}
        self._stopped = False
        # Components stopped on purpose with stop_component().
        self._halted: set[str] = set()

    # -- public API ---------------------------------------------------------------------------------

    def kubeconfig(self, user: str = "admin") -> Path:
        return self.cp.kubeconfig(user)

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(self._processes)

    def running(self, name: str) -> bool:
        proc = self._processes.get(name)
        return proc is not None and proc.exited() is None

    def stop_component(self, name: str) -> None:
        """Stop one component (e.g. ``csi-provisioner``), as an outage would."""
        self._processes[name].stop()
        self._halted.add(name)

    def start_component(self, name: str, timeout: float = 60.0) -> None:
        """Start a component stopped with ``stop_component()`` again and wait until it is up."""
        if self.running(name):
            return
        self._starters[name](time.monotonic() + timeout)
        self._halted.discard(name)

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def stop(self, keep_workdir: bool = False) -> None:
        """Stop every component (the CSI stack and kwok first, the control plane last)."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self._stop_at_exit)
        clean = True
        for name, proc in reversed(list(self._processes.items())):
            # A component that died on its own is worth a look at its log; one that needed
            # SIGKILL too. An exit code after SIGTERM is not: kube-scheduler and kwok exit 1.
            crashed = proc.exited() is not None and name not in self._halted
            proc.stop()
            killed = proc.popen is not None and proc.popen.returncode == -signal.SIGKILL
            clean = clean and not crashed and not killed
        self.cp.stop(keep_workdir=keep_workdir or not clean)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.stop(keep_workdir=exc_type is not None)

    # -- startup ------------------------------------------------------------------------------------

    def _stop_at_exit(self) -> None:
        self.stop(keep_workdir=True)

    def _failure(self, message: str) -> ControlPlaneError:
        tails = "\n".join(
            f"--- {name} log ({proc.log_path}), last {LOG_TAIL_LINES} lines ---\n{_tail(proc.log_path)}"
            for name, proc in self._processes.items()
        )
        self.stop(keep_workdir=True)
        return ControlPlaneError(f"{message}\nworkdir kept: {self.workdir}\n{tails}")

    def _launch(self, name: str, argv: list[str], ready: Callable[[], bool], deadline: float) -> str:
        """Start ``argv`` as ``name`` and poll ``ready``. Returns "ready" or "port-race"; raises."""
        proc = _Process(name, argv, self.log_path(name))
        self._processes[name] = proc
        proc.start()
        while time.monotonic() < deadline:
            code = proc.exited()
            if code is not None:
                if proc.lost_port_race():
                    return "port-race"
                raise self._failure(f"{name} exited with code {code} during startup")
            with contextlib.suppress(OSError):
                if ready():
                    return "ready"
            time.sleep(0.25)
        raise self._failure(f"{name} not ready before the startup deadline")

    def _launch_with_port(self, name: str, argv: Callable[[int], list[str]], ready: Callable[[int], bool]) -> None:
        """``_launch`` with a fresh free port per attempt (another process may take a port first)."""

        def starter(deadline: float) -> None:
            for _ in range(PORT_ATTEMPTS):
                port = _free_port()
                if self._launch(name, argv(port), lambda port=port: ready(port), deadline) == "ready":
                    return
            raise self._failure(f"{name} lost the race for a free port {PORT_ATTEMPTS} times")

        self._starters[name] = starter

    def _start(self, timeout: float) -> None:
        atexit.register(self._stop_at_exit)
        deadline = time.monotonic() + timeout
        admin = str(self.kubeconfig("admin"))
        wd = self.workdir
        tls = _loopback_context()
        # Components authenticate as the admin user (system:masters): the tests are about what
        # they write, not about their RBAC.
        kube_clients = [f"--kubeconfig={admin}", f"--authentication-kubeconfig={admin}"]
        kube_clients.append(f"--authorization-kubeconfig={admin}")
        # Through symlinks named after the component: kfstor-testcp picks its personality from
        # the name, and client-go builds the User-Agent (and so the managedFields manager and
        # the audit log's userAgent) from it, as with upstream's own binaries.
        links = wd / "bin"
        links.mkdir(exist_ok=True)
        for personality in ("kube-controller-manager", "kube-scheduler"):
            link = links / personality
            if not link.exists():
                link.symlink_to(self.cp.binaries.kube_apiserver[0])

        def healthz(port: int) -> bool:
            return _http_ok(f"https://127.0.0.1:{port}/healthz", tls)

        self._launch_with_port(
            "kube-controller-manager",
            lambda port: [
                str(links / "kube-controller-manager"),
                *kube_clients,
                "--bind-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={wd / 'kcm-certs'}",
                "--leader-elect=false",
                f"--controllers={','.join(KCM_CONTROLLERS)}",
                f"--service-account-private-key-file={wd / 'sa.key'}",
                f"--root-ca-file={self.cp.ca_path}",
                f"--pvclaimbinder-sync-period={PV_SYNC_PERIOD}",
                "--v=2",
            ],
            healthz,
        )
        self._launch_with_port(
            "kube-scheduler",
            lambda port: [
                str(links / "kube-scheduler"),
                *kube_clients,
                "--bind-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={wd / 'scheduler-certs'}",
                "--leader-elect=false",
                "--v=2",
            ],
            healthz,
        )
        stages = wd / "kwok-stages.yaml"
        stages.write_bytes(subprocess.run([str(self.bindir / "kwok-stages")], capture_output=True, check=True).stdout)
        self._launch_with_port(
            "kwok",
            lambda port: [
                str(self.bindir / "kwok"),
                f"--kubeconfig={admin}",
                f"--config={stages}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={'='.join(KWOK_ANNOTATION)}",
                "--manage-nodes-with-label-selector=",
                "--manage-single-node=",
                "--cidr=10.244.0.0/16",
                "--node-ip=10.0.0.2",
                "--node-lease-duration-seconds=40",
                f"--server-address=127.0.0.1:{port}",
            ],
            lambda port: _http_ok(f"http://127.0.0.1:{port}/healthz"),
        )
        self.csi_socket.parent.mkdir(parents=True, exist_ok=True)
        zones = [f"--zone={zone}={size}" for zone, size in ZONE_CAPACITY.items()]
        zones.append(f"--max-volume-size={MAX_VOLUME_SIZE}")

        def driver(deadline: float) -> None:
            # A socket left by an earlier run would look ready before the driver listens.
            self.csi_socket.unlink(missing_ok=True)
            argv = [str(self.bindir / "kfstor-csi"), f"--endpoint=unix://{self.csi_socket}", f"--drivername={DRIVER}"]
            self._launch("kfstor-csi", [*argv, *zones], self.csi_socket.exists, deadline)

        self._starters["kfstor-csi"] = driver
        sidecar_common = [f"--csi-address={self.csi_socket}", f"--kubeconfig={admin}", "--leader-election=false"]
        sidecar_common.append("--timeout=10s")

        def metrics(port: int) -> bool:
            return _http_ok(f"http://127.0.0.1:{port}/metrics")

        self._launch_with_port(
            "csi-provisioner",
            lambda port: [
                str(self.bindir / "csi-provisioner"),
                *sidecar_common,
                f"--http-endpoint=127.0.0.1:{port}",
                # Late binding gets only the selected node's zone: a full zone fails with
                # ResourceExhausted, and external-provisioner reschedules the claim.
                "--strict-topology",
                "--extra-create-metadata",
                "--default-fstype=ext4",
                f"--retry-interval-max={PROVISIONER_RETRY_MAX}",
                "--v=3",
            ],
            metrics,
        )
        self._launch_with_port(
            "csi-attacher",
            lambda port: [
                str(self.bindir / "csi-attacher"),
                *sidecar_common,
                f"--http-endpoint=127.0.0.1:{port}",
                "--v=3",
            ],
            metrics,
        )
        self._launch_with_port(
            "csi-resizer",
            lambda port: [
                str(self.bindir / "csi-resizer"),
                *sidecar_common,
                f"--http-endpoint=127.0.0.1:{port}",
                "--v=3",
            ],
            metrics,
        )
        # Control-plane components first, then nodes, then the CSI stack: the order of a real
        # cluster's bootstrap, and the sidecars find the CSINodes they look up.
        for name in ("kube-controller-manager", "kube-scheduler", "kwok"):
            self._starters[name](deadline)
        self._register_nodes(deadline)
        for name in ("kfstor-csi", "csi-provisioner", "csi-attacher", "csi-resizer"):
            self._starters[name](deadline)
        self._create_storage_objects()
        # The serviceaccount controller creating "default" proves kube-controller-manager works;
        # without it the ServiceAccount admission plugin rejects every pod.
        wait_default_service_account(self.cp, "default", max(1.0, deadline - time.monotonic()))

    def _register_nodes(self, deadline: float) -> None:
        """What kubelet and node-driver-registrar would write when each node joins."""
        for node in NODES:
            labels = {
                "kubernetes.io/hostname": node.name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/zone": node.zone,
                # Written by kubelet from the driver's NodeGetInfo accessible topology.
                TOPOLOGY_KEY: node.zone,
                "type": "kwok",
            }
            annotations = {
                KWOK_ANNOTATION[0]: KWOK_ANNOTATION[1],
                "node.alpha.kubernetes.io/ttl": "0",
                # kubelet's default: the attach-detach controller attaches this node's volumes.
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            }
            created = self.cp.create(
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {"name": node.name, "labels": labels, "annotations": annotations},
                }
            )
            owner = {"apiVersion": "v1", "kind": "Node", "name": node.name, "uid": created["metadata"]["uid"]}
            driver = {"name": DRIVER, "nodeID": node.name, "topologyKeys": [TOPOLOGY_KEY]}
            self.cp.create(
                {
                    "apiVersion": "storage.k8s.io/v1",
                    "kind": "CSINode",
                    "metadata": {"name": node.name, "ownerReferences": [owner]},
                    "spec": {"drivers": [driver]},
                }
            )
        for node in NODES:
            wait_until(
                f"node {node.name} to be Ready and untainted",
                lambda name=node.name: node_ready(self.cp, name),
                timeout=max(1.0, deadline - time.monotonic()),
            )

    def _create_storage_objects(self) -> None:
        """The driver's CSIDriver object and the cluster's default StorageClass."""
        self.cp.create(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "CSIDriver",
                "metadata": {"name": DRIVER},
                "spec": {
                    # Zonal block volumes: attached by external-attacher before use.
                    "attachRequired": True,
                    "podInfoOnMount": False,
                    # No CSIStorageCapacity: the scheduler does not know a zone is full, so
                    # provisioning is tried and fails (the reschedule path).
                    "storageCapacity": False,
                    "volumeLifecycleModes": ["Persistent"],
                    "fsGroupPolicy": "ReadWriteOnceWithFSType",
                },
            }
        )
        self.cp.create(storage_class(DEFAULT_CLASS, default=True))


def storage_class(
    name: str,
    *,
    default: bool = False,
    binding: str = "WaitForFirstConsumer",
    reclaim: str = "Delete",
    expandable: bool = True,
    provisioner: str = DRIVER,
) -> dict[str, Any]:
    """A StorageClass of this cluster's driver (or another ``provisioner``)."""
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "annotations": annotations},
        "provisioner": provisioner,
        "reclaimPolicy": reclaim,
        "volumeBindingMode": binding,
        "allowVolumeExpansion": expandable,
    }


def node_ready(cp: ControlPlane, name: str) -> bool:
    """Ready, and schedulable: the node-lifecycle controller has removed the not-ready taint."""
    resp = cp.request("GET", f"/api/v1/nodes/{name}")
    if resp.status != 200:
        return False
    node = resp.json()
    conditions = (node.get("status") or {}).get("conditions") or []
    taints = (node.get("spec") or {}).get("taints") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return ready and not any(t.get("key") == "node.kubernetes.io/not-ready" for t in taints)


def wait_default_service_account(cp: ControlPlane, namespace: str, timeout: float = 30.0) -> None:
    """Wait for the serviceaccount controller's ``default`` account in ``namespace``."""
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts/default"
    wait_until(f"serviceaccount {namespace}/default", lambda: cp.request("GET", path).status == 200, timeout)


def create_namespace(cp: ControlPlane, name: str) -> None:
    """Create a namespace and wait until pods can be created in it (its default account exists)."""
    try:
        cp.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    except ApiError as exc:
        if exc.status != 409:
            raise
    wait_default_service_account(cp, name)


def start_cluster(
    workdir: Path | None = None,
    binaries: Binaries | None = None,
    bindir: Path | None = None,
    timeout: float = CLUSTER_STARTUP_TIMEOUT_S,
) -> Cluster:
    """Start the control plane with all its controllers, kwok nodes and the CSI stack.

    On failure every process is stopped, the workdir kept, and ``ControlPlaneError`` carries the
    log tails.
    """
    if binaries is None:
        binaries, reason = find_binaries()
        if binaries is None:
            raise ControlPlaneError(reason)
    problem = check_testcp_personalities(binaries)
    if problem is not None:
        raise ControlPlaneError(problem)
    if bindir is None:
        bindir, reason = find_cluster_bin()
        if bindir is None:
            raise ControlPlaneError(reason)
    if workdir is None:
        # Short: the CSI socket path must stay under the 108-byte limit of unix sockets.
        workdir = Path(tempfile.mkdtemp(prefix="kfstor-cl-"))
    started = time.monotonic()
    cp = start_control_plane(workdir=workdir, binaries=binaries, controllers=True)
    cluster = Cluster(cp, bindir)
    try:
        cluster._start(max(10.0, timeout - (time.monotonic() - started)))
    except BaseException:
        # Also on Ctrl-C or an API error while creating the nodes: no process outlives us.
        cluster.stop(keep_workdir=True)
        raise
    return cluster
