"""kfstor: storage readiness auditor for Kubeflow.

The public API for check authors is re-exported here: a check module imports what it needs
from kfstor (and kfstor.k8s / kfstor.storage / kfstor.kubeflow for helpers) and nothing else.
"""

from kfstor.model import CLUSTER, Check, Context, Finding, Ref, Status, fail, ok, skip, warn
from kfstor.snapshot import Snapshot

__version__ = "1.0.0"

__all__ = [
    "CLUSTER",
    "Check",
    "Context",
    "Finding",
    "Ref",
    "Snapshot",
    "Status",
    "__version__",
    "fail",
    "ok",
    "skip",
    "warn",
]
