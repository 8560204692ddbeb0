"""The public check API: everything a check module imports, and nothing that does I/O.

A check reads the facts view (kfstor.facts.view.Facts), judges with small functions that return
a Status and a message, and yields findings. It never imports the CLI, the cluster client, the
engine or the renderers; tests/test_layers.py enforces that.
"""

from kfstor.collect.snapshot import Snapshot
from kfstor.facts import fixes, k8s, kubeflow, storage
from kfstor.facts.view import ClaimClass, ClassSource, Facts, PlatformClaimFacts
from kfstor.model import (
    CLUSTER,
    Cause,
    Check,
    Code,
    Context,
    Finding,
    Fix,
    Ref,
    Status,
    Verdict,
    fail,
    finding,
    judged,
    ok,
    skip,
    warn,
    worst,
)

__all__ = [
    "CLUSTER",
    "Cause",
    "Check",
    "ClaimClass",
    "ClassSource",
    "Code",
    "Context",
    "Facts",
    "Finding",
    "Fix",
    "PlatformClaimFacts",
    "Ref",
    "Snapshot",
    "Status",
    "Verdict",
    "fail",
    "finding",
    "fixes",
    "judged",
    "k8s",
    "kubeflow",
    "ok",
    "skip",
    "storage",
    "warn",
    "worst",
]
