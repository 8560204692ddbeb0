"""The public check API: everything a check module imports, and nothing that does I/O.

A check reads the facts view (kfstor.facts.view.Facts), judges with small functions that return
a Status and a message, and yields findings. It never imports the CLI, the cluster client, the
engine or the renderers; tests/test_layers.py enforces that.
"""

from kfstor.collect.snapshot import Snapshot
from kfstor.facts import k8s, kubeflow, storage
from kfstor.facts.view import ClaimClass, ClassSource, Facts, PlatformClaimFacts
from kfstor.model import (
    CLUSTER,
    Check,
    Context,
    Finding,
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
    "Check",
    "ClaimClass",
    "ClassSource",
    "Context",
    "Facts",
    "Finding",
    "PlatformClaimFacts",
    "Ref",
    "Snapshot",
    "Status",
    "Verdict",
    "fail",
    "finding",
    "judged",
    "k8s",
    "kubeflow",
    "ok",
    "skip",
    "storage",
    "warn",
    "worst",
]
