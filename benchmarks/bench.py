"""Scale benchmark: kfstor against the real test API server, as ratios to baselines in the same run.

    python benchmarks/bench.py            # N = 1,000 and 10,000
    python benchmarks/bench.py --quick    # N = 500 and 5,000, with the regression guard (CI)
    python benchmarks/bench.py --large    # N = 1,000, 10,000 and 50,000
    python benchmarks/bench.py --live-only --sizes 50000   # only the floor and the live audit

For each N: a fresh kube-apiserver + etcd (tests/live/controlplane.py) is seeded with the
synthetic cluster of benchmarks/synth.py (N claims + N volumes, N/10 notebooks with their pods,
events, Kubeflow's layout). Then, several repetitions each (median and spread reported):
the floor (benchmarks/floor.py: plain paginated GETs + json.loads), kubectl get of the same kinds
as JSON, kfstor audit live (table, html), kfstor audit --from its snapshot (yaml, json) and from
`kubectl get -o yaml` of the same kinds, a json.load of the JSON snapshot, and each kfstor run's
peak RSS; plus `kfstor --help` and `kfstor checks` start-up, and check evaluation and each report
format's rendering alone in-process. Machines here are noisy, so the
claims are ratios between commands timed side by side. The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.seed import seed  # noqa: E402
from benchmarks.synth import cluster  # noqa: E402
from tests.live.controlplane import find_binaries, install_crds, start_control_plane  # noqa: E402

KFSTOR = [sys.executable, "-m", "kfstor"]
PY = [sys.executable]

# Generous limits for --quick in CI: far above what noise produces, far below what a regression
# costs (a quadratic join, a request per object, YAML read by PyYAML again: 25-45x parse).
# Measured here at N=5,000 (a loaded machine, see RESULTS.md): live/floor 1.35, offline json/parse 1.8,
# offline yaml/parse 3.1 (kubectl's 3.3), yaml RSS / json RSS 1.7, growth x3.8 (500 -> 5,000),
# help 0.2 s, slowest renderer 0.05 s. (At 10,000 the fixed start-up weighs less: 1.2, 2.4-2.5.)
GUARD = {
    "live_vs_floor": 3.0,
    "growth_10x": 16.0,
    "offline_json_vs_parse": 3.0,
    "offline_yaml_vs_parse": 6.0,
    "offline_kubectl_yaml_vs_parse": 6.0,
    "yaml_rss_vs_json_rss": 3.5,
    "render_max_s": 1.0,
    "help_s": 1.5,
    # Peak RSS of the live audit / raw JSON: 4.35 at 5,000 claims, where the interpreter and
    # libraries (about 50 MB) still weigh (1.9 at 50,000); a second copy of every object reaches 6.
    "rss_vs_raw_json": 6.0,
}


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def spread(self) -> str:
        return f"{min(self.seconds):.3f}–{max(self.seconds):.3f}"


# Each command runs under this small launcher: it forks and execs the command and reports the
# command's wall time and peak RSS. A child forked straight from this (large) process would count
# the pages it inherited at fork in its peak RSS, before exec replaced them.
LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{time.perf_counter() - start} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run(
    cmd: list[str],
    stdout: Any = subprocess.DEVNULL,
    env: dict[str, str] | None = None,
    ok_codes: tuple[int, ...] = (0, 1),
) -> tuple[float, int]:
    """Run a command; return (wall seconds, peak RSS in KiB of that command)."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as report:
        subprocess.run([*PY, "-c", LAUNCHER, report.name, *cmd], stdout=stdout, stderr=err, env=env, check=True)
        elapsed, rss, code = report.read().split()
        if int(code) not in ok_codes:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} exited {code}: {err.read().decode()[-800:]}")
    return float(elapsed), int(rss)


def repeat(reps: int, cmd: list[str], **kwargs: Any) -> Timing:
    timing = Timing()
    for _ in range(reps):
        seconds, rss = run(cmd, **kwargs)
        timing.seconds.append(seconds)
        timing.rss_kb.append(rss)
    return timing


def needed_paths() -> tuple[list[str], list[str]]:
    """(API list paths, kubectl resource names) for the kinds kfstor's checks read."""
    from kfstor.collect.kinds import KINDS
    from kfstor.engine.loader import load_checks

    kinds = sorted({k for c in load_checks(include_plugins=False).checks for k in c.all_kinds})
    paths, names = [], []
    for kind in kinds:
        info = KINDS[kind]
        prefix = "/api/v1" if not info.group else f"/apis/{info.group}/{info.versions[0]}"
        paths.append(f"{prefix}/{info.plural}")
        names.append(info.plural if not info.group else f"{info.plural}.{info.group}")
    return paths, names


def kfstor_requests(audit_log: Path) -> int:
    count = 0
    with audit_log.open() as handle:
        for line in handle:
            if '"userAgent":"kfstor"' in line and '"stage":"ResponseComplete"' in line:
                count += 1
    return count


def measure(n: int, reps: int, binaries: Any, work: Path, live_only: bool = False) -> dict[str, Any]:
    cp = start_control_plane(work / f"cp-{n}", binaries)
    try:
        install_crds(cp)
        objects = cluster(n)
        start = time.perf_counter()
        created = seed(cp, objects)
        seed_s = time.perf_counter() - start
        kubeconfig = str(cp.kubeconfig("admin"))
        paths, names = needed_paths()
        # As installed: bytecode cached (a PYTHONDONTWRITEBYTECODE shell would recompile kfstor every run).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["NO_COLOR"] = "1"
        run([*KFSTOR, "audit", "--from", str(REPO / "examples" / "portworx-kubeflow-1.10.yaml")], env=env)  # warm-up

        floor_out = subprocess.run(
            [*PY, str(REPO / "benchmarks" / "floor.py"), kubeconfig, *paths], capture_output=True, text=True, check=True
        ).stdout
        raw = json.loads(floor_out)
        # What every result says of its cluster, whichever measurements follow.
        seeded = {
            "n": n,
            "objects_seeded": created,
            "seed_s": round(seed_s, 2),
            "raw_json_mb": round(raw["bytes"] / 2**20, 2),
            "objects_listed": raw["objects"],
            "kinds": len(paths),
        }
        if live_only:
            # The floor and the live audit interleaved, so both see the same machine load.
            floor, live_table = Timing(), Timing()
            before = kfstor_requests(cp.audit_log_path)
            for _ in range(reps):
                for timing, cmd in (
                    (floor, [*PY, str(REPO / "benchmarks" / "floor.py"), kubeconfig, *paths]),
                    (live_table, [*KFSTOR, "audit", "--kubeconfig", kubeconfig]),
                ):
                    seconds, rss = run(cmd, env=env)
                    timing.seconds.append(seconds)
                    timing.rss_kb.append(rss)
            return {
                **seeded,
                "floor": floor,
                "live_table": live_table,
                "kfstor_requests_per_run": (kfstor_requests(cp.audit_log_path) - before) / reps,
            }
        floor = repeat(reps, [*PY, str(REPO / "benchmarks" / "floor.py"), kubeconfig, *paths])
        kubectl = None
        if shutil.which("kubectl"):
            kubectl = repeat(
                reps, ["kubectl", "--kubeconfig", kubeconfig, "get", ",".join(names), "-A", "-o", "json"], env=env
            )
        before = kfstor_requests(cp.audit_log_path)
        live_table = repeat(reps, [*KFSTOR, "audit", "--kubeconfig", kubeconfig], env=env)
        requests_per_run = (kfstor_requests(cp.audit_log_path) - before) / reps
        html_path = work / f"report-{n}.html"
        live_html = repeat(
            reps,
            [*KFSTOR, "audit", "--kubeconfig", kubeconfig, "--format", "html"],
            stdout=html_path.open("w"),
            env=env,
        )
        snap_yaml, snap_json = work / f"snap-{n}.yaml", work / f"snap-{n}.json"
        run([*KFSTOR, "snapshot", "--kubeconfig", kubeconfig, "-o", str(snap_yaml)], env=env)
        run([*KFSTOR, "snapshot", "--kubeconfig", kubeconfig, "-o", str(snap_json), "--format", "json"], env=env)
        kubectl_yaml = work / f"kubectl-{n}.yaml"
        if shutil.which("kubectl"):
            with kubectl_yaml.open("w") as handle:
                run(["kubectl", "--kubeconfig", kubeconfig, "get", ",".join(names), "-A", "-o", "yaml"], stdout=handle)
        else:  # no kubectl: the snapshot in go-yaml's style is not available; kfstor's YAML stands in
            shutil.copy(snap_yaml, kubectl_yaml)
        offline_yaml = repeat(reps, [*KFSTOR, "audit", "--from", str(snap_yaml)], env=env)
        offline_kubectl_yaml = repeat(reps, [*KFSTOR, "audit", "--from", str(kubectl_yaml)], env=env)
        offline_json = repeat(reps, [*KFSTOR, "audit", "--from", str(snap_json)], env=env)
        parse_json = repeat(reps, [*PY, "-c", f"import json; json.load(open({str(snap_json)!r}))"])
        eval_s, render_s = evaluation_seconds(snap_json)
        return {
            **seeded,
            "floor": floor,
            "kubectl": kubectl,
            "live_table": live_table,
            "live_html": live_html,
            "offline_yaml": offline_yaml,
            "offline_kubectl_yaml": offline_kubectl_yaml,
            "offline_json": offline_json,
            "parse_json": parse_json,
            "eval_s": eval_s,
            "render_s": render_s,
            "kfstor_requests_per_run": requests_per_run,
            "snapshot_json_mb": round(snap_json.stat().st_size / 2**20, 2),
        }
    finally:
        cp.stop()


def evaluation_seconds(snapshot_file: Path) -> tuple[float, dict[str, float]]:
    """Check evaluation alone (all built-in checks plus the inventory), in-process, best of 3; and
    each format's rendering of that report (the inventory built once, as in a run), best of 3."""
    import io

    from kfstor.collect.snapshot import from_files
    from kfstor.engine import runner
    from kfstor.engine.loader import load_checks
    from kfstor.render import FORMATS, renderer

    snap = from_files([str(snapshot_file)])
    checks = load_checks(include_plugins=False).checks
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        report = runner.run(checks, snap)
        _ = report.inventory
        best = min(best, time.perf_counter() - start)
    render = {}
    for fmt in FORMATS:
        renderer(fmt)(report, io.StringIO())  # imports outside the timing
        times = []
        for _ in range(3):
            start = time.perf_counter()
            renderer(fmt)(report, io.StringIO())
            times.append(time.perf_counter() - start)
        render[fmt] = round(min(times), 3)
    return round(best, 3), render


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, "
        f"Python {platform.python_version()}"
    )


def ratio(a: float, b: float | None) -> float | None:
    return round(a / b, 3) if b else None


def live_only_report(results: list[dict[str, Any]], out: Path | None) -> int:
    """--live-only: the live audit against the floor and its peak RSS against the raw JSON."""
    print(f"\nmachine: {machine()}")
    header = (
        f"{'N':>7} {'objects':>8} {'raw MB':>7} {'floor s':>8} {'live s':>8} {'live/floor':>11} "
        f"{'peak MB':>8} {'peak/raw':>9} {'requests':>9}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for r in results:
        peak_mb = max(r["live_table"].rss_kb) / 1024
        row = {
            "n": r["n"],
            "live_vs_floor": ratio(r["live_table"].median, r["floor"].median),
            "peak_rss_mb": round(peak_mb, 1),
            "raw_json_mb": r["raw_json_mb"],
            "rss_vs_raw_json": round(peak_mb / max(r["raw_json_mb"], 0.01), 2),
            "requests_per_run": r["kfstor_requests_per_run"],
        }
        rows.append(row)
        print(
            f"{r['n']:>7} {r['objects_listed']:>8} {r['raw_json_mb']:>7} {r['floor'].median:>8.3f} "
            f"{r['live_table'].median:>8.3f} {row['live_vs_floor']:>11} {peak_mb:>8.0f} "
            f"{row['rss_vs_raw_json']:>9} {r['kfstor_requests_per_run']:>9.0f}"
        )
    if out:
        detail = [{k: (vars(v) if isinstance(v, Timing) else v) for k, v in r.items()} for r in results]
        out.write_text(json.dumps({"machine": machine(), "summary": rows, "runs": detail}, indent=1))
    print(json.dumps({"mode": "live-only", "sizes": rows}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small N with the CI regression guard")
    mode.add_argument("--large", action="store_true", help="also N = 50,000")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per measurement")
    parser.add_argument("--out", type=Path, default=None, help="results file (JSON)")
    parser.add_argument("--sizes", default="", help="comma-separated numbers of claims instead of the mode's")
    parser.add_argument(
        "--live-only",
        action="store_true",
        help="only the floor and the live audit (table), interleaved: time and peak RSS (no guard)",
    )
    args = parser.parse_args()

    sizes = [500, 5000] if args.quick else [1000, 10000, 50000] if args.large else [1000, 10000]
    if args.sizes:
        try:
            sizes = [int(size) for size in args.sizes.split(",")]
        except ValueError:
            parser.error(f"--sizes {args.sizes}: expected numbers such as 10000,50000")
    reps = args.reps or (3 if args.quick else 5)
    binaries, reason = find_binaries(build=True)
    if binaries is None:
        print(f"bench: no control plane: {reason}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="kfstor-bench-"))
    results = []
    try:
        for n in sizes:
            print(f"bench: N={n}: seeding and measuring ({reps} repetitions each)…", file=sys.stderr, flush=True)
            results.append(measure(n, reps, binaries, work, live_only=args.live_only))
        if args.live_only:
            return live_only_report(results, args.out)
        help_t = repeat(reps * 2, [*KFSTOR, "--help"])
        checks_t = repeat(reps * 2, [*KFSTOR, "checks"])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = []
    print(f"\nmachine: {machine()}")
    header = f"{'N':>7} {'objects':>8} {'raw MB':>7} {'what':<22} {'median s':>9} {'spread s':>14} {'peak MB':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        for label in (
            "floor",
            "kubectl",
            "live_table",
            "live_html",
            "offline_yaml",
            "offline_kubectl_yaml",
            "offline_json",
            "parse_json",
        ):
            t: Timing | None = r[label]
            if t is None:
                continue
            peak = f"{max(t.rss_kb) / 1024:.0f}" if label.startswith(("live", "offline")) else ""
            print(
                f"{r['n']:>7} {r['objects_listed']:>8} {r['raw_json_mb']:>7} {label:<22} {t.median:>9.3f} "
                f"{t.spread():>14} {peak:>8}"
            )
        rows.append(r)
    print(
        f"\n{'N':>7} {'live/floor':>11} {'live/kubectl':>13} {'html/floor':>11} {'json/parse':>11} "
        f"{'yaml/parse':>11} {'kubectl yaml/parse':>19} {'yaml/json RSS':>14} {'eval s':>7} {'requests':>9} "
        f"{'peak/raw':>9}"
    )
    for r in rows:
        print(
            f"{r['n']:>7} {ratio(r['live_table'].median, r['floor'].median):>11} "
            f"{ratio(r['live_table'].median, r['kubectl'].median if r['kubectl'] else None)!s:>13} "
            f"{ratio(r['live_html'].median, r['floor'].median):>11} "
            f"{ratio(r['offline_json'].median, r['parse_json'].median):>11} "
            f"{ratio(r['offline_yaml'].median, r['parse_json'].median):>11} "
            f"{ratio(r['offline_kubectl_yaml'].median, r['parse_json'].median):>19} "
            f"{ratio(max(r['offline_yaml'].rss_kb), max(r['offline_json'].rss_kb)):>14} {r['eval_s']:>7} "
            f"{r['kfstor_requests_per_run']:>9.0f} "
            f"{max(r['live_table'].rss_kb) / 1024 / max(r['raw_json_mb'], 0.01):>9.2f}"
        )
        print(f"{'':>7} render s: " + ", ".join(f"{fmt} {sec}" for fmt, sec in r["render_s"].items()))
    # Growth is judged over a tenfold step (1,000 -> 10,000 in every mode but --quick's 500 -> 5,000).
    big = rows[-1]
    small, tenfold = next((a, b) for a in rows for b in rows if b["n"] == 10 * a["n"])
    growth = ratio(tenfold["live_table"].median, small["live_table"].median)
    print(
        f"\ngrowth from N={small['n']} to N={tenfold['n']} (x10 objects): live x{growth} "
        f"(floor x{ratio(tenfold['floor'].median, small['floor'].median)}), "
        f"offline json x{ratio(tenfold['offline_json'].median, small['offline_json'].median)}"
    )
    print(f"kfstor --help {help_t.median:.3f} s ({help_t.spread()}); kfstor checks {checks_t.median:.3f} s")

    summary = {
        "n": big["n"],
        "live_vs_floor": ratio(big["live_table"].median, big["floor"].median),
        "live_vs_kubectl": ratio(big["live_table"].median, big["kubectl"].median) if big["kubectl"] else None,
        "growth_10x": growth,
        "offline_json_vs_parse": ratio(big["offline_json"].median, big["parse_json"].median),
        "offline_yaml_vs_parse": ratio(big["offline_yaml"].median, big["parse_json"].median),
        "offline_kubectl_yaml_vs_parse": ratio(big["offline_kubectl_yaml"].median, big["parse_json"].median),
        "yaml_rss_vs_json_rss": ratio(
            max(big["offline_yaml"].rss_kb + big["offline_kubectl_yaml"].rss_kb), max(big["offline_json"].rss_kb)
        ),
        "render_s": big["render_s"],
        "render_max_s": max(big["render_s"].values()),
        "peak_rss_mb": round(max(big["live_table"].rss_kb + big["offline_json"].rss_kb) / 1024, 1),
        "raw_json_mb": big["raw_json_mb"],
        "rss_vs_raw_json": round(max(big["live_table"].rss_kb) / 1024 / max(big["raw_json_mb"], 0.01), 2),
        "eval_s": big["eval_s"],
        "help_s": round(help_t.median, 3),
        "checks_s": round(checks_t.median, 3),
        "requests_per_run": big["kfstor_requests_per_run"],
        "mode": "quick" if args.quick else "large" if args.large else "default",
    }
    if args.out:
        detail = [{k: (vars(v) if isinstance(v, Timing) else v) for k, v in r.items()} for r in rows]
        args.out.write_text(json.dumps({"machine": machine(), "summary": summary, "runs": detail}, indent=1))
    failed = []
    if args.quick:
        # Requests: at most one list per page per kind plus discovery; a request per object breaks this.
        allowed = big["kinds"] * (1 + big["objects_listed"] // 500) + 4
        if big["kfstor_requests_per_run"] > allowed:
            failed.append(f"kfstor made {big['kfstor_requests_per_run']:.0f} requests per audit (allowed {allowed})")
        for key in GUARD:
            if summary[key] is not None and summary[key] > GUARD[key]:
                failed.append(f"{key} = {summary[key]} exceeds the guard {GUARD[key]}")
        for message in failed:
            print(f"bench: REGRESSION: {message}", file=sys.stderr)
    print(json.dumps(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
