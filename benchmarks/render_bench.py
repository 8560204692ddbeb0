"""Rendering alone, in-process: each report format for a healthy and a broken cluster of N claims.

    python benchmarks/render_bench.py              # N = 10,000
    python benchmarks/render_bench.py --claims 50000

The healthy cluster is benchmarks/synth.py's. The broken one is the same cluster with no default
StorageClass and every other claim naming none, so it stays Pending: thousands of findings, all
caused by one root cause, the worst case for grouping and for the HTML's root-cause card. Each
format's best of three runs is printed, with `json.dumps` of the JSON report's data as the
baseline measured in the same run (these machines are noisy: the ratio is the figure to compare).
The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import synth
from kfstor.collect.snapshot import Source, build
from kfstor.engine import runner
from kfstor.engine.loader import load_checks
from kfstor.render import FORMATS, renderer
from kfstor.render.json_report import report_dict
from kfstor.render.report import Report

DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def broken(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """No default class, and every other claim naming no class: Pending for want of a default."""
    out = []
    pending = 0
    for obj in objects:
        obj = json.loads(json.dumps(obj))
        if obj["kind"] == "StorageClass":
            obj["metadata"].get("annotations", {}).pop(DEFAULT_ANNOTATION, None)
        elif obj["kind"] == "PersistentVolumeClaim":
            pending += 1
            if pending % 2:
                obj["spec"].pop("storageClassName", None)
                obj["spec"].pop("volumeName", None)
                obj["status"] = {"phase": "Pending"}
        out.append(obj)
    return out


def best_of_three(work: Any) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(report: Report) -> dict[str, float]:
    data = report_dict(report)
    seconds = {"baseline json.dumps": best_of_three(lambda: json.dumps(data))}
    for fmt in FORMATS:
        renderer(fmt)(report, io.StringIO())  # imports and the inventory outside the timing
        seconds[fmt] = best_of_three(lambda fmt=fmt: renderer(fmt)(report, io.StringIO()))
    return {name: round(value, 3) for name, value in seconds.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    args = parser.parse_args()
    checks = load_checks(include_plugins=False).checks
    objects = synth.cluster(args.claims)
    results = {}
    for name, cluster in (("healthy", objects), ("broken", broken(objects))):
        report = runner.run(checks, build(cluster, Source(kind="file", description=f"synthetic {name}")))
        findings = sum(len(r.findings) for r in report.results)
        seconds = measure(report)
        results[name] = {"findings": findings, "seconds": seconds}
        print(f"{name} ({args.claims} claims, {findings} findings):")
        for fmt, value in seconds.items():
            print(f"  {fmt:20} {value:6.3f} s")
    print(json.dumps({"claims": args.claims, "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
