"""Reading a live cluster: the only module that talks to the Kubernetes API.

Kubeconfig handling (--kubeconfig, KUBECONFIG with several files, --context, exec and OIDC auth
plugins, in-cluster service accounts) is the `kubernetes` client's, so kfstor authenticates
exactly as kubectl does. Lists are read as raw JSON into plain dicts (the keys the API and
`kubectl get -o yaml` use), page by page, each needed kind once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kfstor.collect.kinds import FORBIDDEN_KINDS, KINDS, KindInfo
from kfstor.collect.snapshot import Snapshot, Source, build, share_strings, slim
from kfstor.model import one_line, utc_timestamp

PAGE_SIZE = 500
DEFAULT_TIMEOUT = 30.0


class ClusterError(Exception):
    """The cluster cannot be used: unreachable, TLS or authentication failure (exit code 3)."""


class KubeconfigError(Exception):
    """A --kubeconfig or --context the user named does not work (exit code 2)."""


@dataclass(frozen=True, slots=True)
class Target:
    kubeconfig: str | None = None
    context: str | None = None
    request_timeout: float = DEFAULT_TIMEOUT


class _Connection:
    """An HTTP connection pool set up from the kubernetes client's Configuration.

    Only the Configuration (host, TLS files, bearer token with its refresh hook for exec and
    OIDC plugins) comes from the client; requests are plain urllib3 GETs, so kfstor does not
    depend on the generated client's calling conventions, which change between releases.
    """

    def __init__(self, configuration: Any, context: str, timeout: float) -> None:
        import ssl

        import urllib3

        self.configuration = configuration
        self.server = _safe_url(configuration.host)
        self.base = configuration.host.rstrip("/")
        self.context = context
        self.timeout = timeout
        tls: dict[str, Any] = {
            "cert_reqs": ssl.CERT_REQUIRED if configuration.verify_ssl else ssl.CERT_NONE,
            "ca_certs": configuration.ssl_ca_cert,
            "cert_file": configuration.cert_file,
            "key_file": configuration.key_file,
        }
        if getattr(configuration, "tls_server_name", None):
            tls["server_hostname"] = configuration.tls_server_name
        if configuration.assert_hostname is not None:
            tls["assert_hostname"] = configuration.assert_hostname
        if not configuration.verify_ssl:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        retries = urllib3.Retry(total=0, redirect=3)  # fail fast: retries would hide an unreachable server
        if configuration.proxy:
            self.pool: Any = urllib3.ProxyManager(configuration.proxy, maxsize=4, retries=retries, **tls)
        else:
            self.pool = urllib3.PoolManager(maxsize=4, retries=retries, **tls)

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "kfstor"}
        # auth_settings() runs the refresh hook of exec/OIDC auth plugins before reading the token.
        token = (self.configuration.auth_settings().get("BearerToken") or {}).get("value")
        if token:
            headers["Authorization"] = token
        return headers


def _safe_url(url: str) -> str:
    """The server URL without any user:password part, fit to print in a report."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        parts = parts._replace(netloc=host)
    return urlunsplit(parts)


def connect(target: Target) -> _Connection:
    from kfstor.collect import kubeconfig

    config = kubeconfig.load()
    from kubernetes.client.configuration import Configuration
    from kubernetes.config.config_exception import ConfigException

    configuration = Configuration()
    context_name = ""
    explicit = target.kubeconfig or target.context
    try:
        if target.kubeconfig and not os.path.exists(target.kubeconfig):
            raise KubeconfigError(f"--kubeconfig {target.kubeconfig}: no such file")
        env_paths = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
        default_path = os.path.expanduser("~/.kube/config")
        have_file = bool(target.kubeconfig) or any(os.path.exists(p) for p in env_paths) or os.path.exists(default_path)
        if not have_file and os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config(client_configuration=configuration)
            context_name = "in-cluster"
        elif not have_file:
            raise ClusterError(
                "no cluster configured: no kubeconfig found (KUBECONFIG, ~/.kube/config) and not "
                "running in a pod; use --kubeconfig, or --from to audit a snapshot file"
            )
        else:
            config.load_kube_config(
                config_file=target.kubeconfig,
                context=target.context,
                client_configuration=configuration,
                persist_config=False,
            )
            _, active = config.list_kube_config_contexts(config_file=target.kubeconfig)
            context_name = target.context or (active or {}).get("name", "")
    except (KubeconfigError, ClusterError):
        raise
    except ConfigException as exc:
        message = " ".join(str(exc).split())
        if explicit and ("context" in message.lower() or "Invalid kube-config" in message):
            raise KubeconfigError(f"kubeconfig: {message}") from None
        raise ClusterError(f"cannot load cluster credentials: {message}") from None
    except Exception as exc:  # exec plugins and OIDC refreshers raise anything
        raise ClusterError(f"cannot load cluster credentials: {type(exc).__name__}: {one_line(exc)}") from None
    return _Connection(configuration, context_name, target.request_timeout)


class _Forbidden(Exception):
    pass


class _NotFound(Exception):
    pass


class _Expired(Exception):
    """410 Gone: a list's continue token outlived etcd's compaction window."""


def _get(conn: _Connection, path: str, query: list[tuple[str, Any]] | None = None) -> Any:
    """GET a path and parse its JSON; map transport and HTTP failures to kfstor's errors."""
    from urllib.parse import urlencode

    from urllib3.exceptions import HTTPError, MaxRetryError

    url = conn.base + path + (f"?{urlencode(query)}" if query else "")
    try:
        response = conn.pool.request("GET", url, headers=conn.headers(), timeout=conn.timeout, preload_content=True)
    except MaxRetryError as exc:
        raise ClusterError(_transport_message(conn, exc.reason or exc)) from None
    except (HTTPError, OSError) as exc:
        raise ClusterError(_transport_message(conn, exc)) from None
    except Exception as exc:  # an exec/OIDC plugin failing while refreshing the token
        raise ClusterError(f"cannot authenticate to {conn.server}: {one_line(exc)}") from None
    status = response.status
    if status == 401:
        raise ClusterError(
            f"authentication failed at {conn.server} (401 Unauthorized): "
            "check the credentials of your kubeconfig context"
        )
    if status == 403:
        raise _Forbidden()
    if status == 404:
        raise _NotFound()
    if status == 410:
        raise _Expired()
    if status >= 300:
        raise ClusterError(f"the API server at {conn.server} answered {status} {response.reason or ''} for {path}")
    try:
        return json.loads(response.data)
    except ValueError:
        raise ClusterError(f"the API server at {conn.server} sent a response that is not JSON for {path}") from None


def _transport_message(conn: _Connection, exc: BaseException | str) -> str:
    text = one_line(exc) if isinstance(exc, BaseException) else str(exc)
    lowered = text.lower()
    if "certificate" in lowered or "ssl" in lowered:
        detail = "certificate has expired" if "expired" in lowered else "TLS verification failed"
        return f"cannot reach the cluster at {conn.server}: {detail} ({text[:160]})"
    if "timed out" in lowered or "timeout" in lowered:
        return f"cannot reach the cluster at {conn.server}: no answer within --request-timeout {conn.timeout:g}s"
    if "refused" in lowered:
        return f"cannot reach the cluster at {conn.server}: connection refused"
    if (
        "remotedisconnected" in lowered
        or "connection aborted" in lowered
        or "reset by peer" in lowered
        or "broken pipe" in lowered
    ):
        # urllib3 words this "('Connection aborted.', RemoteDisconnected(...))": say what happened.
        return (
            f"cannot reach the cluster at {conn.server}: the server closed the connection "
            "without answering (did it stop?)"
        )
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "resolve" in lowered:
        return f"cannot reach the cluster at {conn.server}: host name does not resolve"
    return f"cannot reach the cluster at {conn.server}: {text[:200]}"


def _served_versions(conn: _Connection, groups: set[str]) -> dict[str, set[str]]:
    """Versions served for each named API group, from discovery (/apis). Absent groups map to {}."""
    discovery = _get(conn, "/apis")
    served: dict[str, set[str]] = {group: set() for group in groups}
    for group in discovery.get("groups", []) if isinstance(discovery, dict) else []:
        name = group.get("name")
        if name in served:
            served[name] = {str(v.get("version")) for v in group.get("versions", []) if isinstance(v, dict)}
    return served


def _list_path(info: KindInfo, version: str) -> str:
    prefix = f"/api/{version}" if not info.group else f"/apis/{info.group}/{version}"
    return f"{prefix}/{info.plural}"


def _list_all(
    conn: _Connection, info: KindInfo, version: str, shared: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every object of one kind across all namespaces, following `continue` tokens. Repeated
    string values become one object through `shared` (see snapshot.share_strings)."""
    api_version = version if not info.group else f"{info.group}/{version}"
    path = _list_path(info, version)
    items: list[dict[str, Any]] = []
    shared = {} if shared is None else shared
    token = ""
    restarted = False
    while True:
        query: list[tuple[str, Any]] = [("limit", PAGE_SIZE)]
        if token:
            query.append(("continue", token))
        try:
            page = _get(conn, path, query)
        except _Expired:
            # The continue token expired (etcd compaction): start the list over, once.
            if not token or restarted:
                raise ClusterError(f"the list of {info.plural} kept changing too fast to read consistently") from None
            items, token, restarted = [], "", True
            continue
        for item in page.get("items") or []:
            item["apiVersion"] = api_version
            item["kind"] = info.kind
            items.append(slim(item))  # page by page, so memory never holds the unneeded fields
            share_strings(item, shared)
        token = (page.get("metadata") or {}).get("continue") or ""
        if not token:
            return items


def collect(
    kinds: Iterable[str], target: Target, progress: Callable[[str], None] | None = None, conn: _Connection | None = None
) -> Snapshot:
    """Read the needed kinds from the cluster. Forbidden or uninstalled kinds are recorded in
    Snapshot.unavailable with the reason, never silently treated as empty."""
    wanted = [KINDS[k] for k in dict.fromkeys(kinds) if k in KINDS and k not in FORBIDDEN_KINDS]
    conn = conn or connect(target)
    say = progress or (lambda _message: None)
    say(f"connecting to {conn.server}")
    version = _get(conn, "/version")
    server_version = str(version.get("gitVersion", "")) if isinstance(version, dict) else ""

    optional_groups = {info.group for info in wanted if info.optional}
    served = _served_versions(conn, optional_groups) if optional_groups else {}
    plan: list[tuple[KindInfo, str]] = []
    unavailable: dict[str, str] = {}
    for info in wanted:
        if info.optional:
            versions = [v for v in info.versions if v in served.get(info.group, set())]
            if not versions:
                unavailable[info.kind] = f"not installed: {info.group} API ({info.plural}) is not served"
                continue
            plan.append((info, versions[0]))
        else:
            plan.append((info, info.versions[0]))

    def read(entry: tuple[KindInfo, str]) -> tuple[KindInfo, list[dict[str, Any]] | str]:
        info, version = entry
        say(f"listing {info.plural}")
        try:
            return info, _list_all(conn, info, version, shared)
        except _Forbidden:
            return info, f"forbidden: list {info.plural}"
        except _NotFound:
            return info, f"not served: {_list_path(info, version)}"

    objects: list[dict[str, Any]] = []
    collected: set[str] = set()
    shared: dict[str, str] = {}  # across kinds: a claim and its volume repeat each other's names
    # A few lists in flight at once: the server does the work, so latency overlaps well.
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(read, entry) for entry in plan]
        # The first list that fails ends the run: cancel the lists not started yet instead of
        # letting each wait out its own --request-timeout against a server that is gone or hung.
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = [exc for f in futures if f.done() and not f.cancelled() and (exc := f.exception()) is not None]
        if failed:
            for future in futures:
                future.cancel()
            raise failed[0]
        for future in futures:
            info, outcome = future.result()
            if isinstance(outcome, str):
                unavailable[info.kind] = outcome
            else:
                objects.extend(outcome)
                collected.add(info.kind)
    collected_at = utc_timestamp()
    source = Source(
        kind="cluster",
        description=conn.server,
        context=conn.context,
        server_version=server_version,
        collected_at=collected_at,
    )
    return build(objects, source, collected=frozenset(collected), unavailable=unavailable)
