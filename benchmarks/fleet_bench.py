"""Fleet benchmark: ten remote-like clusters audited in one run vs the slowest of them alone.

    python benchmarks/fleet_bench.py                 # 10 contexts over 3 control planes, 3 repetitions
    python benchmarks/fleet_bench.py --check         # exit 1 when the target (≤ 1.5×) is missed

Real kube-apiservers (tests/live/controlplane.py), each seeded with a scenario of
tests/cases/scenarios. Every context gets its own TCP proxy that holds every chunk the client
sends for LATENCY_S (100 ms) before passing it on, as a remote cluster's network would: each API
request, and each client flight of the TLS handshake, reaches the server 100 ms late. Ten
contexts, each behind its own proxy, point at the control planes in turn.

Timed, side by side in the same run, each a fresh `kfstor audit` process (median of --reps):
- every context alone (`--context ctx-N`): the baseline is the slowest of them;
- the fleet with the default --parallel (10: one slot per cluster here), and with --parallel 4.
The claim is the ratio fleet / slowest alone (target ≤ 1.5). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kfstor.engine.fleet import DEFAULT_PARALLEL  # noqa: E402
from tests.live.controlplane import ControlPlane, find_binaries, start_control_plane  # noqa: E402
from tests.live.scenarios import seed_scenario  # noqa: E402

KFSTOR = [sys.executable, "-m", "kfstor"]
LATENCY_S = 0.100
TARGET = 1.5
SCENARIOS = ("portworx-kubeflow-1.10-healthy", "ceph-kubeflow-1.11", "rwx-on-block-only")


class DelayProxies:
    """TCP proxies on loopback, one per upstream entry, delaying client -> server data by `delay`.

    A delay line, not a sleep per chunk: each chunk is forwarded `delay` after it arrived, so
    back-to-back chunks are not delayed twice. Server -> client data passes at once.
    """

    def __init__(self, upstreams: list[tuple[str, int]], delay: float) -> None:
        self.upstreams = upstreams
        self.delay = delay
        self.ports: list[int] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> DelayProxies:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        for host, port in self.upstreams:
            server = self._loop.run_until_complete(
                asyncio.start_server(lambda r, w, h=host, p=port: self._serve(r, w, h, p), "127.0.0.1", 0)
            )
            self.ports.append(server.sockets[0].getsockname()[1])
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()
            return
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def receive() -> None:
            while chunk := await reader.read(65536):
                queue.put_nowait((time.monotonic() + self.delay, chunk))
            queue.put_nowait((time.monotonic() + self.delay, b""))

        async def forward() -> None:
            while True:
                due, chunk = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    up_writer.write_eof() if up_writer.can_write_eof() else None
                    return
                up_writer.write(chunk)
                await up_writer.drain()

        async def back() -> None:
            while chunk := await up_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
            writer.close()

        tasks = [asyncio.ensure_future(t()) for t in (receive, forward, back)]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in tasks:
            task.cancel()
        for w in (writer, up_writer):
            w.close()


def write_kubeconfig(path: Path, contexts: list[tuple[str, str, ControlPlane]]) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": url, "certificate-authority": str(cp.ca_path)}}
            for name, url, cp in contexts
        ],
        "users": [{"name": name, "user": {"token": cp.admin_token}} for name, _, cp in contexts],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}} for name, _, _ in contexts],
        "current-context": contexts[0][0],
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def timed(args: list[str], expect: set[int]) -> float:
    started = time.monotonic()
    result = subprocess.run([*KFSTOR, *args], capture_output=True, text=True, check=False, timeout=300)
    elapsed = time.monotonic() - started
    if result.returncode not in expect:
        raise SystemExit(f"kfstor {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[:500]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contexts", type=int, default=10)
    parser.add_argument("--planes", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the results as JSON to this file")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when fleet / slowest alone > {TARGET}")
    args = parser.parse_args()
    binaries, reason = find_binaries()
    if binaries is None:
        raise SystemExit(f"no test control plane: {reason}")

    planes = [start_control_plane(binaries=binaries) for _ in range(args.planes)]
    try:
        for index, plane in enumerate(planes):
            seed_scenario(plane, SCENARIOS[index % len(SCENARIOS)])
        upstreams = []
        for i in range(args.contexts):
            host, port = planes[i % len(planes)].url.removeprefix("https://").rsplit(":", 1)
            upstreams.append((host, int(port)))
        with DelayProxies(upstreams, LATENCY_S) as proxies, tempfile.TemporaryDirectory() as tmp:
            names = [f"ctx-{i:02d}" for i in range(args.contexts)]
            contexts = [
                (name, f"https://127.0.0.1:{port}", planes[i % len(planes)])
                for i, (name, port) in enumerate(zip(names, proxies.ports, strict=True))
            ]
            kubeconfig = str(write_kubeconfig(Path(tmp) / "kubeconfig.json", contexts))
            base = ["audit", "--kubeconfig", kubeconfig, "--format", "json"]
            gates = {0, 1}
            timed([*base, "--context", names[0]], gates)  # warm the page cache and the servers
            alone: dict[str, list[float]] = {name: [] for name in names}
            fleet_default: list[float] = []
            fleet_four: list[float] = []
            for _ in range(args.reps):  # interleaved, so drift hits every measurement alike
                for name in names:
                    alone[name].append(timed([*base, "--context", name], gates))
                fleet_default.append(timed([*base, "--all-contexts"], gates))
                fleet_four.append(timed([*base, "--all-contexts", "--parallel", "4"], gates))
    finally:
        for plane in planes:
            plane.stop()

    medians = {name: statistics.median(times) for name, times in alone.items()}
    slowest_name = max(medians, key=lambda n: medians[n])
    slowest = medians[slowest_name]
    default, four = statistics.median(fleet_default), statistics.median(fleet_four)
    results: dict[str, Any] = {
        "contexts": args.contexts,
        "control_planes": args.planes,
        "latency_ms": int(LATENCY_S * 1000),
        "reps": args.reps,
        "alone_median_s": {n: round(v, 3) for n, v in medians.items()},
        "slowest_alone_s": round(slowest, 3),
        "fastest_alone_s": round(min(medians.values()), 3),
        "fleet_default_parallel_s": round(default, 3),
        "fleet_parallel_4_s": round(four, 3),
        "default_parallel": DEFAULT_PARALLEL,
        "ratio_fleet_vs_slowest": round(default / slowest, 3),
        "ratio_parallel_4_vs_slowest": round(four / slowest, 3),
        # The slowest of ten medians leans high by chance; the typical cluster alone, for scale.
        "ratio_fleet_vs_median_alone": round(default / statistics.median(medians.values()), 3),
        "sequential_estimate_s": round(sum(medians.values()), 3),
        "target": TARGET,
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
    }
    print(f"{args.contexts} contexts over {args.planes} control planes, +{LATENCY_S * 1000:.0f} ms per client send")
    print(f"alone: slowest {slowest:.2f} s ({slowest_name}), fastest {min(medians.values()):.2f} s")
    print(
        f"fleet (default --parallel {DEFAULT_PARALLEL}): {default:.2f} s = {default / slowest:.2f}x the slowest alone"
    )
    print(f"fleet --parallel 4: {four:.2f} s = {four / slowest:.2f}x")
    print(f"one after the other would take about {sum(medians.values()):.1f} s")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results))
    if args.check and default / slowest > TARGET:
        raise SystemExit(f"fleet / slowest alone = {default / slowest:.2f} > {TARGET}")


if __name__ == "__main__":
    main()
