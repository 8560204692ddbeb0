"""Run a live-test cluster by hand, to point kfstor or kubectl at it.

    python -m tests.live.devcluster [--workdir DIR] [--keep]
    python -m tests.live.devcluster --seeded [--scenario NAME] [--workdir DIR] [--keep]
    python tests/live/devcluster.py ...

Without flags: the whole test cluster of tests/live/cluster.py (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kwok nodes, the kfstor-csi driver with
external-provisioner, -attacher and -resizer, a default StorageClass), building the
binaries first when needed and Go is installed. Create claims and pods and the
components do the rest.

--seeded: only etcd + kube-apiserver, optionally seeded with a scenario whose statuses
are written by hand: for cloud-specific states no local driver produces. NAME is a
scenario in tests/cases/scenarios (without .yaml), any kubectl-style file, or ``empty``
(no objects at all); --scenario implies --seeded.

Prints the kubeconfig paths and waits until Ctrl-C, then stops every process.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

if __package__ in (None, ""):
    # Run as a script: make "tests.live" importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "tests.live"  # lets the relative imports below resolve

from .cluster import DEFAULT_CLASS, NODES, Cluster, find_cluster_bin, start_cluster
from .controlplane import ControlPlane, ControlPlaneError, find_binaries, start_control_plane
from .scenarios import EMPTY, SeedError, scenario_path, seed_scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devcluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeded", action="store_true", help="control plane only, statuses seeded by hand")
    parser.add_argument("--scenario", help="objects to seed (implies --seeded; default: empty)")
    parser.add_argument("--workdir", type=Path, help="directory for PKI, logs and etcd data (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir after stopping")
    args = parser.parse_args(argv)
    seeded = args.seeded or args.scenario is not None
    scenario = args.scenario or EMPTY
    try:
        scenario_path(scenario) if scenario != EMPTY else None  # fail before starting anything
    except SeedError as exc:
        print(f"devcluster: {exc}", file=sys.stderr)
        return 2

    binaries, reason = find_binaries(build=True)
    if binaries is None:
        print(f"devcluster: {reason}", file=sys.stderr)
        return 1
    bindir = None
    if not seeded:
        try:
            bindir, reason = find_cluster_bin(build=True)
        except ControlPlaneError as exc:
            bindir, reason = None, str(exc)
        if bindir is None:
            print(f"devcluster: {reason}", file=sys.stderr)
            return 1

    started = time.monotonic()
    cluster: Cluster | None = None
    try:
        if seeded:
            cp = start_control_plane(workdir=args.workdir, binaries=binaries)
        else:
            cluster = start_cluster(workdir=args.workdir, binaries=binaries, bindir=bindir)
            cp = cluster.cp
    except ControlPlaneError as exc:
        print(f"devcluster: {exc}", file=sys.stderr)
        return 1

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if seeded:
            seed_scenario(cp, scenario)
            what = f"control plane only, scenario: {scenario}"
        else:
            nodes = ", ".join(f"{n.name} ({n.zone})" for n in NODES)
            what = f"full cluster: nodes {nodes}; default StorageClass {DEFAULT_CLASS}"
        admin, auditor = cp.kubeconfig("admin"), cp.kubeconfig("auditor")
        print(
            f"kube-apiserver {cp.server_version} ready at {cp.url} in {time.monotonic() - started:.1f}s "
            f"({what})\n"
            f"  admin kubeconfig:   {admin}\n"
            f"  auditor kubeconfig: {auditor}  (no RBAC grants unless the scenario adds some)\n"
            f"  audit log:          {cp.audit_log_path}\n"
            f"  logs:               {cp.workdir}/*.log\n"
            f"\n  export KUBECONFIG={admin}\n"
            f"\nPress Ctrl-C to stop.",
            flush=True,
        )
        watch(cp, cluster, stop, args)
    finally:
        print("stopping ...", flush=True)
        if cluster is not None:
            cluster.stop(keep_workdir=args.keep)
        else:
            cp.stop(keep_workdir=args.keep)
        if args.keep:
            print(f"workdir kept: {cp.workdir}")
    return 0


def watch(cp: ControlPlane, cluster: Cluster | None, stop: threading.Event, args: argparse.Namespace) -> None:
    """Wake up now and then so a dead component is noticed instead of waiting forever."""
    while not stop.wait(1.0):
        try:
            healthy = cp.request("GET", "/readyz", timeout=5).status == 200
        except OSError:
            healthy = False
        if not healthy:
            print("devcluster: kube-apiserver stopped answering /readyz", file=sys.stderr)
            args.keep = True
            return
        if cluster is None:
            continue
        dead = [name for name in cluster.components if not cluster.running(name)]
        if dead:
            print(f"devcluster: {', '.join(dead)} exited; see {cluster.workdir}", file=sys.stderr)
            args.keep = True
            return


if __name__ == "__main__":
    sys.exit(main())
