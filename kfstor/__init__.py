"""kfstor: storage readiness auditor for Kubeflow.

Check authors import from kfstor.api. The same names are importable from kfstor itself (as
kfstor 1.0 documented), resolved on first use so that importing a leaf module such as
kfstor.model loads nothing else.
"""

import importlib
from typing import Any

__version__ = "1.0.0"


def __getattr__(name: str) -> Any:
    # import_module, not `from kfstor import api`: that looks the name up here first and recurses.
    api = importlib.import_module("kfstor.api")
    if name in api.__all__:
        return getattr(api, name)
    raise AttributeError(f"module 'kfstor' has no attribute {name!r}")
