"""The contexts of a kubeconfig and their servers, read without authenticating (for fleet runs).

The kubeconfig is read by the `kubernetes` client's own merger, so KUBECONFIG lists merge as they
do for kubectl (first file wins for a name). Nothing here runs exec plugins or opens connections:
a context whose credentials are broken is still listed, and fails later, on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from kfstor.collect.cluster import KubeconfigError, _safe_url


@dataclass(frozen=True, slots=True)
class KubeContext:
    name: str
    server: str  # the cluster's URL without any user:password part, or "" when the entry has none


def _paths(kubeconfig: str | None) -> str:
    if kubeconfig:
        if not os.path.exists(kubeconfig):
            raise KubeconfigError(f"--kubeconfig {kubeconfig}: no such file")
        return kubeconfig
    return os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")


def _plain(node: Any) -> Any:
    """ConfigNode values (the merger's wrapper) as plain dicts and lists."""
    value = getattr(node, "value", node)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def list_contexts(kubeconfig: str | None = None) -> list[KubeContext]:
    """Every context of the kubeconfig, in file order. Raises KubeconfigError when there is none."""
    from kfstor.collect import kubeconfig as loader

    config = loader.load()  # also makes the client's import lazy before any worker thread starts
    from kubernetes.config.config_exception import ConfigException

    paths = _paths(kubeconfig)
    try:
        merged = config.kube_config.KubeConfigMerger(paths).config
    except (ConfigException, OSError, ValueError) as exc:
        raise KubeconfigError(f"kubeconfig: {' '.join(str(exc).split())[:300]}") from None
    except Exception as exc:  # yaml errors and other malformed content
        raise KubeconfigError(f"kubeconfig: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}") from None
    doc = _plain(merged) if merged is not None else {}
    if not isinstance(doc, dict):
        raise KubeconfigError(f"kubeconfig {paths}: not a kubeconfig")
    clusters = {
        str(c.get("name")): (c.get("cluster") or {}).get("server") or ""
        for c in doc.get("clusters") or []
        if isinstance(c, dict)
    }
    found = []
    for entry in doc.get("contexts") or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        cluster = (entry.get("context") or {}).get("cluster") if isinstance(entry.get("context"), dict) else None
        server = clusters.get(str(cluster), "") if cluster else ""
        found.append(KubeContext(str(entry["name"]), _safe_url(str(server)) if server else ""))
    if not found:
        raise KubeconfigError(f"kubeconfig {paths}: no contexts")
    return found


def select(available: list[KubeContext], names: list[str], all_contexts: bool) -> list[KubeContext]:
    """The contexts named (each once, in the order given), or all of them. An unknown name is an
    error before anything is audited: a typo must not silently shrink the fleet."""
    if all_contexts:
        return available
    by_name = {c.name: c for c in available}
    unknown = [n for n in dict.fromkeys(names) if n not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name))
        raise KubeconfigError(f"kubeconfig has no context {', '.join(map(repr, unknown))} (contexts: {known})")
    return [by_name[n] for n in dict.fromkeys(names)]
