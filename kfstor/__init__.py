"""kfstor: storage readiness auditor for Kubeflow.

Check authors import from kfstor.api. The same names are importable from kfstor itself (as
kfstor 1.0 documented), resolved on first use so that importing a leaf module such as
kfstor.model loads nothing else.
"""

from typing import Any

__version__ = "1.0.0"


def __getattr__(name: str) -> Any:
    # import_module, not `from kfstor import api`: that asks this very __getattr__ for "api" first
    # and recurses when kfstor.api is not imported yet.
    import importlib

    api = importlib.import_module("kfstor.api")
    if name in api.__all__:
        return getattr(api, name)
    raise AttributeError(f"module 'kfstor' has no attribute {name!r}")
