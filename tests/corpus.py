"""The check corpus: kubectl-style YAML files whose leading comment block states the exact outcome.

    # expect:
    #   default_storage_class:
    #     check: warn
    #     StorageClass/fast: pass
    #     StorageClass/old: warn
    # messages:
    #   default_storage_class:
    #     StorageClass/old: "Kubernetes uses the newest default fast"
    # namespace: kubeflow          (optional)
    # options: {stateful_replication: {min_replicas: 2}}   (optional)
    apiVersion: v1
    kind: List
    items: [...]

The body is plain kubectl output, so `kfstor audit --from <case>` works on every case. `expect`
lists every finding of the check by object (`Cluster` for cluster-wide findings) and the check's
overall status under `check`; a test fails on any finding that is missing, extra or different.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).parent / "cases"
# The shipped examples carry the same expectation header, so a new user's first audit is tested too.
EXAMPLES_DIR = Path(__file__).parent.parent / "examples"


@dataclass(frozen=True)
class Case:
    path: Path
    check_id: str
    expected_check: str
    expected_findings: dict[str, str]
    messages: dict[str, str] = field(default_factory=dict)
    namespace: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        root = CASES_DIR if self.path.is_relative_to(CASES_DIR) else EXAMPLES_DIR.parent
        return f"{self.path.relative_to(root).with_suffix('')}::{self.check_id}"


def header(path: Path) -> dict[str, Any]:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    data = yaml.safe_load("\n".join(lines)) or {}
    if not isinstance(data, dict) or "expect" not in data:
        raise ValueError(f"{path}: the leading comment block has no 'expect:' mapping")
    return data


def load_cases() -> list[Case]:
    cases = []
    for path in [*sorted(CASES_DIR.rglob("*.yaml")), *sorted(EXAMPLES_DIR.glob("*.yaml"))]:
        data = header(path)
        for check_id, expected in data["expect"].items():
            expected = dict(expected)
            overall = expected.pop("check")
            cases.append(
                Case(
                    path=path,
                    check_id=check_id,
                    expected_check=overall,
                    expected_findings={str(k): str(v) for k, v in expected.items()},
                    messages={str(k): str(v) for k, v in (data.get("messages", {}).get(check_id) or {}).items()},
                    namespace=data.get("namespace"),
                    options=dict((data.get("options") or {}).get(check_id) or {}),
                )
            )
    return cases
