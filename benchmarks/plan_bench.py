"""What planning adds to an audit: a 700-object render, read with and without planning.

    python benchmarks/plan_bench.py [--objects 700] [--reps 7] [--out FILE]

Writes a synthetic render shaped like `kubectl kustomize example` of Kubeflow 26.03 (CRDs with
large schemas, RBAC, webhooks, Services, Secrets, ConfigMaps, Deployments and StatefulSets with
claims, the spawner and Katib configurations; about 700 objects) and times, in one process and
the same run, medians of --reps repetitions:

- read: `read_manifests` of the file (parsing YAML, flattening, keeping what planning reads);
- plan: the plan built from the read manifests against a small cluster snapshot (every planned
  claim's class, outcome, quota and capacity), on a fresh facts view each time;
- audit: `runner.run` of every built-in check without manifests, then with them.

It prints one JSON line: `plan_s` (what planning adds), `plan_vs_read` ((read + plan) / read),
`audit_added_s` and `audit_vs_without` (reading and planning the render inside a whole audit).
Planning must add well under a second (the guard: 0.5 s).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kfstor.collect.manifests import read_manifests  # noqa: E402
from kfstor.collect.snapshot import from_files  # noqa: E402
from kfstor.engine import runner  # noqa: E402
from kfstor.engine.loader import load_checks  # noqa: E402
from kfstor.facts.view import Facts  # noqa: E402

CLUSTER = ROOT / "tests" / "cases" / "kubeflow_claims" / "pre-install-eks.yaml"
GUARD_ADDED_S = 0.5


def _crd(i: int) -> dict[str, Any]:
    # Real CRDs carry large OpenAPI schemas: most of a render's bytes.
    props = {f"field{j}": {"type": "string", "description": "x" * 80} for j in range(60)}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"things{i}.example.kubeflow.org"},
        "spec": {
            "group": "example.kubeflow.org",
            "names": {"kind": f"Thing{i}", "plural": f"things{i}"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": props}},
                }
            ],
        },
    }


def _deployment(i: int, claim: str | None, image: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [
            {
                "name": "main",
                "image": image,
                "env": [{"name": "PASSWORD", "value": "secret"}],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}] if claim else [],
            }
        ]
    }
    if claim:
        spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"app{i}", "namespace": "kubeflow"},
        "spec": {"selector": {"matchLabels": {"app": f"app{i}"}}, "template": {"spec": spec}},
    }


def render(objects: int) -> list[dict[str, Any]]:
    """About `objects` objects in the proportions of a Kubeflow render."""
    docs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubeflow"}}]
    images = ("mysql:8.4", "chrislusf/seaweedfs:4.00", "docker.io/bitnami/postgresql:16", "ghcr.io/kubeflow/app:v1")
    i = -1
    while len(docs) < objects - 3:  # three configuration objects follow
        i += 1
        docs.append(_crd(i))
        claim = f"data-{i}" if i % 4 == 0 else None
        if claim:
            docs.append(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": claim, "namespace": "kubeflow"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
                }
            )
        docs.append(_deployment(i, claim, images[i % len(images)]))
        docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc{i}", "namespace": "kubeflow"}})
        docs.append(
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": f"sa{i}", "namespace": "kubeflow"}}
        )
        docs.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": f"role{i}"},
                "rules": [{"apiGroups": ["*"], "resources": ["things"], "verbs": ["get", "list"]}],
            }
        )
        docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"s{i}", "namespace": "kubeflow"}})
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"cm{i}", "namespace": "kubeflow"},
                "data": {"k": "v" * 200},
            }
        )
        if i % 10 == 0:
            docs.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "metadata": {"name": f"db{i}", "namespace": "kubeflow"},
                    "spec": {
                        "replicas": 3,
                        "template": {"spec": {"containers": [{"name": "db", "image": "postgres:16"}]}},
                        "volumeClaimTemplates": [
                            {
                                "metadata": {"name": "pg"},
                                "spec": {
                                    "accessModes": ["ReadWriteOnce"],
                                    "resources": {"requests": {"storage": "5Gi"}},
                                },
                            }
                        ],
                    },
                }
            )
    spawner = {
        "spawnerFormDefaults": {
            "workspaceVolume": {
                "value": {
                    "newPvc": {
                        "metadata": {"name": "{notebook-name}-workspace"},
                        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}},
                    }
                }
            }
        }
    }
    katib = {
        "runtime": {
            "suggestions": [
                {
                    "algorithmName": "pbt",
                    "persistentVolumeClaimSpec": {
                        "accessModes": ["ReadWriteMany"],
                        "resources": {"requests": {"storage": "5Gi"}},
                    },
                }
            ]
        }
    }
    docs.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "jupyter-web-app-config", "namespace": "kubeflow"},
            "data": {"spawner_ui_config.yaml": yaml.safe_dump(spawner)},
        }
    )
    docs.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "katib-config", "namespace": "kubeflow"},
            "data": {"katib-config.yaml": yaml.safe_dump(katib)},
        }
    )
    docs.append({"apiVersion": "kubeflow.org/v1", "kind": "Profile", "metadata": {"name": "kubeflow-user-example-com"}})
    return docs


def median_of(reps: int, work: Callable[[], object]) -> tuple[float, list[float]]:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=700)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    checks = load_checks(include_plugins=False).checks
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "render.yaml"
        docs = render(args.objects)
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
        size = path.stat().st_size
        snap_path = str(CLUSTER)

        def read() -> object:
            return read_manifests([str(path)])

        manifests_read = read_manifests([str(path)])
        snap = from_files([snap_path])

        def plan_only() -> object:
            return Facts(snap, "kubeflow", manifests_read).plan

        def audit(with_manifests: bool) -> object:
            manifests = read_manifests([str(path)]) if with_manifests else None
            return runner.run(checks, from_files([snap_path]), manifests=manifests).exit_status

        read(), plan_only()  # warm imports before timing
        read_s, read_times = median_of(args.reps, read)
        plan_s, plan_times = median_of(args.reps, plan_only)
        base_s, base_times = median_of(args.reps, lambda: audit(False))
        full_s, full_times = median_of(args.reps, lambda: audit(True))
        plan = Facts(from_files([snap_path]), "kubeflow", read_manifests([str(path)])).plan
    summary = {
        "objects": len(docs),
        "bytes": size,
        "planned_claims": len(plan.entries),
        "read_s": round(read_s, 4),
        "plan_s": round(plan_s, 4),
        "plan_vs_read": round((read_s + plan_s) / read_s, 3),
        "audit_s": round(base_s, 4),
        "audit_manifests_s": round(full_s, 4),
        "audit_added_s": round(full_s - base_s, 4),
        "audit_vs_without": round(full_s / base_s, 3),
        "spread": {
            "read": [round(t, 4) for t in (min(read_times), max(read_times))],
            "plan": [round(t, 4) for t in (min(plan_times), max(plan_times))],
            "audit": [round(t, 4) for t in (min(base_times), max(base_times))],
            "audit_manifests": [round(t, 4) for t in (min(full_times), max(full_times))],
        },
    }
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))
    # Planning itself (plan_s) is the claim; audit_added_s also holds reading the render.
    if summary["plan_s"] > GUARD_ADDED_S:
        print(f"planning took {summary['plan_s']} s, above the guard {GUARD_ADDED_S} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
