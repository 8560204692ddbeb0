"""Run the live-test control plane by hand, to point kfstor or kubectl at it.

    python -m tests.live.devcluster [--scenario NAME] [--workdir DIR] [--keep]
    python tests/live/devcluster.py ...

Starts etcd + kube-apiserver (building kfstor-testcp first if needed and Go is
installed), optionally seeds a scenario, prints the kubeconfig paths and waits
until Ctrl-C, then stops both processes.

NAME is a scenario in tests/cases/scenarios (without .yaml), any kubectl-style
file, or ``empty`` (no objects at all).
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

from .controlplane import ControlPlaneError, find_binaries, start_control_plane
from .scenarios import EMPTY, SeedError, scenario_path, seed_scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devcluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="empty", help="objects to seed (default: empty)")
    parser.add_argument("--workdir", type=Path, help="directory for PKI, logs and etcd data (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir after stopping")
    args = parser.parse_args(argv)
    try:
        scenario_path(args.scenario) if args.scenario != EMPTY else None  # fail before starting anything
    except SeedError as exc:
        print(f"devcluster: {exc}", file=sys.stderr)
        return 2

    binaries, reason = find_binaries(build=True)
    if binaries is None:
        print(f"devcluster: {reason}", file=sys.stderr)
        return 1

    started = time.monotonic()
    try:
        cp = start_control_plane(workdir=args.workdir, binaries=binaries)
    except ControlPlaneError as exc:
        print(f"devcluster: {exc}", file=sys.stderr)
        return 1

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        seed_scenario(cp, args.scenario)
        admin, auditor = cp.kubeconfig("admin"), cp.kubeconfig("auditor")
        print(
            f"kube-apiserver {cp.server_version} ready at {cp.url} in {time.monotonic() - started:.1f}s "
            f"(scenario: {args.scenario})\n"
            f"  admin kubeconfig:   {admin}\n"
            f"  auditor kubeconfig: {auditor}  (no RBAC grants unless the scenario adds some)\n"
            f"  audit log:          {cp.audit_log_path}\n"
            f"  logs:               {cp.workdir}/*.log\n"
            f"\n  export KUBECONFIG={admin}\n"
            f"\nPress Ctrl-C to stop.",
            flush=True,
        )
        # Wake up now and then so a dead apiserver is noticed instead of waiting forever.
        while not stop.wait(1.0):
            try:
                healthy = cp.request("GET", "/readyz", timeout=5).status == 200
            except OSError:
                healthy = False
            if not healthy:
                print("devcluster: kube-apiserver stopped answering /readyz", file=sys.stderr)
                args.keep = True
                break
    finally:
        print("stopping ...", flush=True)
        cp.stop(keep_workdir=args.keep)
        if args.keep:
            print(f"workdir kept: {cp.workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
