"""Import the kubernetes client's kubeconfig loader without its generated API classes.

`import kubernetes` runs `kubernetes/__init__.py`, which imports the whole generated client
(hundreds of model modules, pydantic): about 0.4 s, a sixth of a 10,000-claim live audit.
kfstor needs only `kubernetes.config` (kubeconfig, exec and OIDC plugins, in-cluster) and the
`Configuration` class. So, when nothing has imported `kubernetes` yet, the two package modules
are registered as placeholders that know their real folders (submodules import normally) and
that run their real `__init__` the first time anything asks them for a name they lack. Code that
later uses `kubernetes.client.CoreV1Api` or `kubernetes.watch` gets the complete package.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any


class _LazyPackage(types.ModuleType):
    """A package module whose __init__ runs on the first attribute it does not have."""

    def __init__(self, name: str, spec: Any) -> None:
        super().__init__(name)
        self.__spec__ = spec
        self.__path__ = list(spec.submodule_search_locations)
        self.__file__ = spec.origin
        self.__package__ = name
        self._kfstor_completed = False

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_kfstor") or self.__dict__.get("_kfstor_completed", True):
            raise AttributeError(attr)
        self._kfstor_completed = True
        source = Path(self.__file__ or "").read_text(encoding="utf-8")
        exec(compile(source, self.__file__ or self.__name__, "exec"), self.__dict__)
        return getattr(self, attr)


def load() -> Any:
    """The `kubernetes.config` module, importing as little of the client as possible."""
    if "kubernetes" not in sys.modules:
        root = importlib.util.find_spec("kubernetes")
        # Not find_spec("kubernetes.client"): that would import the parent package, in full.
        client = (
            importlib.machinery.PathFinder.find_spec("kubernetes.client", list(root.submodule_search_locations))
            if root is not None and root.submodule_search_locations
            else None
        )
        if root is not None and client is not None:
            sys.modules["kubernetes"] = _LazyPackage("kubernetes", root)
            lazy_client = _LazyPackage("kubernetes.client", client)
            sys.modules["kubernetes.client"] = lazy_client
            # What kubernetes.config imports from the client package by name. ApiClient is only
            # used by OIDC token refresh and new_client_from_config: resolved when first called.
            from kubernetes.client.configuration import Configuration

            lazy_client.Configuration = Configuration  # type: ignore[attr-defined]
            lazy_client.ApiClient = _DeferredApiClient  # type: ignore[attr-defined]
            try:
                # import_module, not attribute access on the package: that would complete it.
                return importlib.import_module("kubernetes.config")
            finally:
                # kubernetes.config holds its own references now; anyone else asking the package
                # for these names gets the real ones (the package completes on first use).
                del lazy_client.ApiClient, lazy_client.Configuration
    return importlib.import_module("kubernetes.config")


class _DeferredApiClient:
    """Stands in for kubernetes.client.ApiClient inside kubernetes.config until it is called."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.api_client import ApiClient

        return ApiClient(*args, **kwargs)
