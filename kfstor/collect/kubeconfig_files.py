"""Reading kubeconfig files as kubectl does, with errors a person can act on.

kubectl's rules: the files are --kubeconfig, else every file of KUBECONFIG (missing ones ignored),
else ~/.kube/config; clusters, users and contexts are merged by name, the first file that defines
a name wins, and so does the first file that sets current-context. Relative paths in a file
(certificates, token files, an exec command with a slash) are relative to that file's folder.

Every problem is a KubeconfigError naming the file and the entry, one line, the same however the
file was named (exit code 2). The result is one self-contained kubeconfig (absolute paths, the
chosen context only) for the kubernetes client to load, and the chosen user's exec plugin, which
kfstor runs itself (see exec_plugin.py).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DEFAULT_PATH = "~/.kube/config"
PROXY_SCHEMES = ("http", "https")


class KubeconfigError(Exception):
    """A kubeconfig or context that cannot be used (exit code 2)."""


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    value: dict[str, Any]  # the inner "cluster:", "user:" or "context:" mapping
    file: str


@dataclass(frozen=True, slots=True)
class Chosen:
    """The context kfstor will use, with its cluster and user, each with the file it came from."""

    files: tuple[str, ...]
    context: Entry
    cluster: Entry
    user: Entry | None  # None: the context names no user (anonymous requests)

    @property
    def server(self) -> str:
        return str(self.cluster.value.get("server") or "")

    @property
    def insecure(self) -> bool:
        return self.cluster.value.get("insecure-skip-tls-verify") is True

    @property
    def proxy_url(self) -> str:
        return str(self.cluster.value.get("proxy-url") or "")

    @property
    def exec_spec(self) -> dict[str, Any] | None:
        """The exec plugin to run: only when no auth the client applies first is set (its order:
        auth-provider, token, exec, basic auth)."""
        user = self.user.value if self.user else {}
        if user.get("auth-provider") or user.get("token") or user.get("tokenFile"):
            return None
        spec = user.get("exec")
        return spec if isinstance(spec, dict) else None

    @property
    def anonymous(self) -> bool:
        user = self.user.value if self.user else {}
        keys = ("token", "tokenFile", "client-certificate", "client-certificate-data", "exec", "auth-provider")
        return not any(user.get(k) for k in keys) and not (user.get("username") and user.get("password"))

    def where(self, entry: Entry, kind: str) -> str:
        return f"{kind} {entry.name!r} (in {entry.file})"


def paths(explicit: str | None) -> tuple[list[str], str]:
    """The kubeconfig files to read and how they were named, for messages. An empty list: no
    kubeconfig at all (the caller may try the in-cluster service account)."""
    if explicit:
        if not os.path.exists(explicit):
            raise KubeconfigError(f"--kubeconfig {explicit}: no such file")
        return [explicit], "--kubeconfig"
    env = os.environ.get("KUBECONFIG", "")
    if env:
        listed = [os.path.expanduser(p) for p in env.split(os.pathsep) if p]
        existing = [p for p in dict.fromkeys(listed) if os.path.exists(p)]
        if not existing and listed:
            raise KubeconfigError(f"KUBECONFIG names no existing file ({', '.join(listed)})")
        return existing, "KUBECONFIG"
    default = os.path.expanduser(DEFAULT_PATH)
    return ([default] if os.path.exists(default) else []), DEFAULT_PATH


def _read(path: str) -> dict[str, Any]:
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise KubeconfigError(f"kubeconfig {path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise KubeconfigError(f"kubeconfig {path}: not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "cannot parse"
        raise KubeconfigError(f"kubeconfig {path}: invalid YAML{where}: {problem}") from None
    except RecursionError:
        raise KubeconfigError(f"kubeconfig {path}: nested too deeply") from None
    if data is None:
        return {}  # an empty file is an empty config, as for kubectl
    if not isinstance(data, dict):
        raise KubeconfigError(
            f"kubeconfig {path}: not a kubeconfig (expected a mapping with clusters, users, contexts)"
        )
    return data


def _entries(data: dict[str, Any], path: str, section: str, inner: str) -> list[Entry]:
    raw = data.get(section)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise KubeconfigError(f"kubeconfig {path}: {section} must be a list")
    entries = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise KubeconfigError(f"kubeconfig {path}: {section}[{index}] has no name")
        value = item.get(inner)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise KubeconfigError(f"kubeconfig {path}: {section}[{index}] ({item['name']}): {inner} must be a mapping")
        entries.append(Entry(item["name"], value, path))
    return entries


def choose(files: Sequence[str], context: str | None) -> Chosen:
    merged: dict[str, dict[str, Entry]] = {"clusters": {}, "users": {}, "contexts": {}}
    current = ""
    for path in files:
        data = _read(path)
        for section, inner in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            for entry in _entries(data, path, section, inner):
                merged[section].setdefault(entry.name, entry)  # the first file wins
        value = data.get("current-context")
        if not current and isinstance(value, str):
            current = value
    shown = ", ".join(files)
    contexts = merged["contexts"]
    available = ", ".join(sorted(contexts)) or "none"
    name = context or current
    if not name:
        raise KubeconfigError(
            f"kubeconfig {shown}: no current-context is set; choose one with --context (available: {available})"
        )
    if name not in contexts:
        how = f"--context {name}" if context else f"current-context {name!r}"
        raise KubeconfigError(f"kubeconfig {shown}: {how}: no such context (available: {available})")
    ctx = contexts[name]
    cluster_name = ctx.value.get("cluster")
    if not isinstance(cluster_name, str) or not cluster_name:
        raise KubeconfigError(f"kubeconfig {ctx.file}: context {name!r} names no cluster")
    cluster = merged["clusters"].get(cluster_name)
    if cluster is None:
        raise KubeconfigError(
            f"kubeconfig {ctx.file}: context {name!r} names cluster {cluster_name!r}, which is not defined in {shown}"
        )
    user: Entry | None = None
    user_name = ctx.value.get("user")
    if isinstance(user_name, str) and user_name:
        user = merged["users"].get(user_name)
        if user is None:
            raise KubeconfigError(
                f"kubeconfig {ctx.file}: context {name!r} names user {user_name!r}, which is not defined in {shown}"
            )
    chosen = Chosen(tuple(files), ctx, cluster, user)
    _validate(chosen)
    return chosen


def _validate(chosen: Chosen) -> None:
    cluster = chosen.cluster
    where = f"kubeconfig {cluster.file}: cluster {cluster.name!r}"
    server = chosen.server
    if not server:
        raise KubeconfigError(f"{where} has no server")
    if urlsplit(server).scheme not in ("https", "http") or not urlsplit(server).hostname:
        raise KubeconfigError(f"{where}: server {server!r} is not an https:// URL")
    if chosen.proxy_url:
        check_proxy(chosen.proxy_url, f"{where}: proxy-url")
    for entry, keys in ((cluster, ("certificate-authority",)), (chosen.user, ("client-certificate", "client-key"))):
        if entry is None:
            continue
        for key in keys:
            value = entry.value.get(key)
            if value and not entry.value.get(f"{key}-data") and not os.path.isfile(absolute(str(value), entry.file)):
                kind = "cluster" if entry is cluster else "user"
                raise KubeconfigError(
                    f"kubeconfig {entry.file}: {kind} {entry.name!r}: {key} {absolute(str(value), entry.file)}: "
                    "no such file"
                )


def check_proxy(url: str, where: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in PROXY_SCHEMES or not urlsplit(url).hostname:
        shown = scheme or url
        raise KubeconfigError(
            f"{where} {url}: unsupported proxy scheme {shown!r} (kfstor supports http:// and https:// proxies)"
        )


def absolute(path: str, kubeconfig: str) -> str:
    path = os.path.expanduser(path)
    if os.path.isabs(path):
        return path
    return os.path.join(os.path.dirname(os.path.abspath(kubeconfig)), path)


def client_config(chosen: Chosen) -> dict[str, Any]:
    """One self-contained kubeconfig of the chosen context for the kubernetes client: paths made
    absolute against the file each entry came from, and no exec section (kfstor runs plugins)."""
    cluster = dict(chosen.cluster.value)
    if cluster.get("certificate-authority"):
        cluster["certificate-authority"] = absolute(str(cluster["certificate-authority"]), chosen.cluster.file)
    cluster.pop("proxy-url", None)  # kfstor picks the proxy itself (proxy-url, else the environment)
    user: dict[str, Any] = {}
    if chosen.user is not None:
        user = {k: v for k, v in chosen.user.value.items() if k != "exec"}
        for key in ("client-certificate", "client-key", "tokenFile"):
            if user.get(key):
                user[key] = absolute(str(user[key]), chosen.user.file)
        provider = user.get("auth-provider")
        if isinstance(provider, dict) and isinstance(provider.get("config"), dict):
            config = dict(provider["config"])
            if config.get("idp-certificate-authority"):
                config["idp-certificate-authority"] = absolute(
                    str(config["idp-certificate-authority"]), chosen.user.file
                )
            user["auth-provider"] = {**provider, "config": config}
    name = chosen.context.name
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kfstor", "cluster": cluster}],
        "users": [{"name": "kfstor", "user": user}],
        "contexts": [{"name": name, "context": {"cluster": "kfstor", "user": "kfstor"}}],
        "current-context": name,
    }


def command_path(command: str, kubeconfig: str) -> str:
    """An exec command as kubectl runs it: a relative path with a slash is relative to the
    kubeconfig's folder; a bare name is looked up on PATH by the caller."""
    if os.sep in command and not os.path.isabs(os.path.expanduser(command)):
        return absolute(command, kubeconfig)
    return os.path.expanduser(command)
