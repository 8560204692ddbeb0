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

from kfstor.collect import kubeconfig_files, transport
from kfstor.collect.kinds import FORBIDDEN_KINDS, KINDS, KindInfo
from kfstor.collect.kubeconfig_files import KubeconfigError
from kfstor.collect.snapshot import NOT_DISCOVERED, NOT_INSTALLED, Snapshot, Source, in_order, key, share_strings, slim
from kfstor.collect.transport import Aborted, Proxy, Transport, TransportError, transport_message
from kfstor.model import one_line, utc_timestamp

__all__ = ["PAGE_SIZE", "Aborted", "ClusterError", "KubeconfigError", "Target", "collect", "connect"]

PAGE_SIZE = 500
DEFAULT_TIMEOUT = 30.0
MAX_LIST_RESTARTS = 3


class ClusterError(Exception):
    """The cluster cannot be used: unreachable, TLS or authentication failure (exit code 3)."""


@dataclass(frozen=True, slots=True)
class Target:
    kubeconfig: str | None = None
    context: str | None = None
    request_timeout: float = DEFAULT_TIMEOUT


class _Connection:
    """kfstor's view of one API server: a Transport (timeouts, retries, proxy) with the headers
    of the credential, obtained once per run.

    Only the Configuration (host, TLS files, the token) comes from the kubernetes client;
    requests are plain urllib3 GETs, so kfstor does not depend on the generated client's calling
    conventions, which change between releases.
    """

    def __init__(
        self,
        configuration: Any,
        context: str,
        timeout: float,
        proxy: Proxy | None = None,
        insecure: bool = False,
        insecure_source: str = "",
    ) -> None:
        import ssl

        import urllib3

        self.configuration = configuration
        self.server = _safe_url(configuration.host)
        self.context = context
        self.timeout = timeout
        self.insecure = insecure or not configuration.verify_ssl
        self.insecure_source = insecure_source
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
        headers = {"Accept": "application/json", "User-Agent": "kfstor"}
        try:
            # auth_settings() runs the refresh hook of OIDC auth providers; once, here, for the run.
            token = (configuration.auth_settings().get("BearerToken") or {}).get("value")
        except Exception as exc:  # an OIDC refresher or gcp helper failing: raise anything
            raise ClusterError(f"cannot obtain credentials: {type(exc).__name__}: {one_line(exc)}") from None
        if token:
            headers["Authorization"] = token
        self.transport = Transport(configuration.host, self.server, timeout, tls, proxy, headers)

    def headers(self) -> dict[str, str]:
        return dict(self.transport.headers)

    def abort(self) -> None:
        self.transport.abort()


def _safe_url(url: str) -> str:
    """The server URL without any user:password part, fit to print in a report."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        parts = parts._replace(netloc=host)
    return urlunsplit(parts)


def connect(target: Target, warn: Callable[[str], None] | None = None) -> _Connection:
    """Load the kubeconfig (or the in-cluster service account), obtain the credential once and
    set up the transport. KubeconfigError (exit 2) for a kubeconfig or context that cannot be used,
    ClusterError (exit 3) for a credential that cannot be obtained."""
    from kfstor.collect import exec_plugin, kubeconfig, kubeconfig_files

    say = warn or (lambda _message: None)
    config = kubeconfig.load()
    from kubernetes.client.configuration import Configuration
    from kubernetes.config.config_exception import ConfigException

    files, _how = kubeconfig_files.paths(target.kubeconfig)
    configuration = Configuration()
    if not files:
        if target.context:
            raise KubeconfigError(f"--context {target.context}: no kubeconfig found (KUBECONFIG, ~/.kube/config)")
        if not os.environ.get("KUBERNETES_SERVICE_HOST"):
            raise ClusterError(
                "no cluster configured: no kubeconfig found (KUBECONFIG, ~/.kube/config) and not "
                "running in a pod; use --kubeconfig, or --from to audit a snapshot file"
            )
        from kfstor.collect import incluster

        try:
            incluster.load(config, configuration)  # the pod's ServiceAccount (KFSTOR_SERVICE_ACCOUNT_DIR: tests)
        except Exception as exc:
            raise ClusterError(f"cannot load the in-cluster service account: {one_line(exc)}") from None
        return _Connection(configuration, "in-cluster", target.request_timeout, _env_proxy(configuration.host))

    chosen = kubeconfig_files.choose(files, target.context)
    single = kubeconfig_files.client_config(chosen)
    try:
        credential = exec_plugin.run(chosen, target.request_timeout)
    except exec_plugin.PluginError as exc:
        raise ClusterError(str(exc)) from None
    if credential is not None:
        single["users"][0]["user"] = exec_plugin.apply(credential, single["users"][0]["user"])
    try:
        config.load_kube_config_from_dict(
            config_dict=single,
            context=chosen.context.name,
            client_configuration=configuration,
            persist_config=False,
        )
    except ConfigException as exc:
        raise KubeconfigError(f"kubeconfig {chosen.context.file}: {one_line(exc)}") from None
    except Exception as exc:  # OIDC refreshers and gcp helpers raise anything
        user = chosen.user.name if chosen.user else ""
        raise ClusterError(
            f"cannot obtain credentials for user {user!r}: {type(exc).__name__}: {one_line(exc)}"
        ) from None
    # The credential is obtained once per run: no refresh hook runs before each request.
    configuration.refresh_api_key_hook = None
    proxy = transport.choose_proxy(chosen.server, chosen.proxy_url, chosen.cluster.file)
    if proxy is not None and proxy.source.startswith(("HTTPS_PROXY", "HTTP_PROXY")):
        kubeconfig_files.check_proxy(proxy.url, proxy.source)
    if chosen.insecure:
        say(
            f"TLS verification is off for {_safe_url(chosen.server)} (insecure-skip-tls-verify in "
            f"{chosen.cluster.file}): the server's identity is not checked"
        )
    if chosen.anonymous:
        who = f"user {chosen.user.name!r}" if chosen.user else f"context {chosen.context.name!r}"
        say(f"kubeconfig {who} has no credentials: requests are anonymous")
    return _Connection(
        configuration,
        chosen.context.name,
        target.request_timeout,
        proxy,
        insecure=chosen.insecure,
        insecure_source=chosen.cluster.file,
    )


def _env_proxy(server: str) -> Proxy | None:
    proxy = transport.choose_proxy(server, "", "")
    if proxy is not None:
        kubeconfig_files.check_proxy(proxy.url, proxy.source)
    return proxy


class _Forbidden(Exception):
    pass


class _NotFound(Exception):
    pass


class _Expired(Exception):
    """410 Gone: a list's continue token outlived etcd's compaction window."""


class _Refused(Exception):
    """Another answer that means "this path cannot be read here" (discovery only)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}".strip())
        self.status = status


def _get(conn: _Connection, path: str, query: list[tuple[str, Any]] | None = None) -> Any:
    """GET a path and parse its JSON; map transport and HTTP failures to kfstor's errors."""
    try:
        response = conn.transport.get(path, query)
    except TransportError as exc:
        raise ClusterError(str(exc)) from None
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
        raise _Refused(status, response.reason)
    try:
        return json.loads(response.data)
    except (ValueError, RecursionError):
        raise ClusterError(f"the API server at {conn.server} sent a response that is not JSON for {path}") from None


def _transport_message(conn: _Connection, exc: BaseException | str) -> str:
    text = one_line(exc) if isinstance(exc, BaseException) else str(exc)
    return transport_message(conn.server, text, conn.timeout)


def _served_versions(conn: _Connection, groups: set[str]) -> tuple[dict[str, set[str]], str]:
    """Versions served for each named API group, from discovery (/apis): absent groups map to {}.
    When discovery itself is refused, ({}, why): the kinds of those groups cannot be judged."""
    try:
        discovery = _get(conn, "/apis")
    except _Forbidden:
        return {}, f"{NOT_DISCOVERED}: /apis answered 403 Forbidden"
    except _NotFound:
        return {}, f"{NOT_DISCOVERED}: /apis answered 404 Not Found"
    except (_Expired, _Refused) as exc:
        return {}, f"{NOT_DISCOVERED}: /apis answered {str(exc) or '410 Gone'}"
    served: dict[str, set[str]] = {group: set() for group in groups}
    listed = discovery.get("groups") if isinstance(discovery, dict) else None
    if not isinstance(listed, list):
        return {}, f"{NOT_DISCOVERED}: /apis sent no list of API groups"
    for group in listed:
        if not isinstance(group, dict):
            continue
        name = group.get("name")
        versions = group.get("versions")
        if name in served and isinstance(versions, list):
            served[name] = {str(v.get("version")) for v in versions if isinstance(v, dict)}
    return served, ""


def _server_version(conn: _Connection) -> str:
    """gitVersion from /version. Forbidden (some hardened servers) leaves it unknown; any other
    refusal means the URL is not a Kubernetes API server kfstor can use."""
    try:
        version = _get(conn, "/version")
    except _Forbidden:
        return ""
    except _NotFound:
        raise ClusterError(
            f"the server at {conn.server} answered 404 Not Found for /version: is it a Kubernetes API server?"
        ) from None
    except (_Expired, _Refused) as exc:
        raise ClusterError(
            f"the server at {conn.server} answered {str(exc) or '410 Gone'} for /version: "
            "is it a Kubernetes API server?"
        ) from None
    return str(version.get("gitVersion", "")) if isinstance(version, dict) else ""


def _list_path(info: KindInfo, version: str) -> str:
    prefix = f"/api/{version}" if not info.group else f"/apis/{info.group}/{version}"
    return f"{prefix}/{info.plural}"


def _list_all(
    conn: _Connection, info: KindInfo, version: str, shared: dict[str, str] | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    """Every object of one kind across all namespaces by (namespace, name), following `continue`
    tokens. An expired continue token (410, etcd compacted meanwhile) restarts the list from its
    start. Each page is slimmed, its repeated string values made one object through `shared` (see
    snapshot.share_strings) and its objects keyed as it arrives, while the next pages are still on
    the way: after the last page the snapshot only has to be put in order."""
    api_version = version if not info.group else f"{info.group}/{version}"
    path = _list_path(info, version)
    items: dict[tuple[str, str], dict[str, Any]] = {}
    shared = {} if shared is None else shared
    token = ""
    restarts = 0
    while True:
        query: list[tuple[str, Any]] = [("limit", PAGE_SIZE)]
        if token:
            query.append(("continue", token))
        try:
            page = _get(conn, path, query)
        except _Expired:
            if restarts >= MAX_LIST_RESTARTS:
                raise ClusterError(
                    f"the list of {info.plural} kept expiring (410 Gone) before it could be read "
                    f"({MAX_LIST_RESTARTS} restarts): the cluster changes faster than it can be paged"
                ) from None
            items, token, restarts = {}, "", restarts + 1
            continue
        except _Refused as exc:
            raise ClusterError(f"the API server at {conn.server} answered {exc} for {path}") from None
        page_items = page.get("items") if isinstance(page, dict) else None
        if not isinstance(page_items, list) and page_items is not None:
            raise ClusterError(f"the API server at {conn.server} sent a response that is not a list for {path}")
        for item in page_items or []:
            if type(item) is not dict:
                continue
            item["apiVersion"] = api_version
            item["kind"] = info.kind
            slim(item)  # page by page, so memory never holds the unneeded fields
            share_strings(item, shared)
            items[key(item)] = item  # a name listed twice: the last one wins, as in snapshot.build()
        metadata = page.get("metadata") if isinstance(page, dict) else None
        token = str((metadata if isinstance(metadata, dict) else {}).get("continue") or "")
        if not token:
            return items


def collect(
    kinds: Iterable[str],
    target: Target,
    progress: Callable[[str], None] | None = None,
    conn: _Connection | None = None,
    warn: Callable[[str], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> Snapshot:
    """Read the needed kinds from the cluster. Forbidden or uninstalled kinds are recorded in
    Snapshot.unavailable with the reason, never silently treated as empty. `meanwhile` runs in
    this thread once the lists are under way (the caller's imports, overlapping the network)."""
    wanted = [KINDS[k] for k in dict.fromkeys(kinds) if k in KINDS and k not in FORBIDDEN_KINDS]
    conn = conn or connect(target, warn=warn)
    try:
        return _collect(conn, wanted, progress or (lambda _message: None), meanwhile)
    except BaseException:
        conn.abort()  # Ctrl-C, SIGTERM or a failed list: end the requests still in flight now
        raise
    finally:
        conn.transport.close()


def _collect(
    conn: _Connection, wanted: list[KindInfo], say: Callable[[str], None], meanwhile: Callable[[], None] | None
) -> Snapshot:
    say(f"connecting to {conn.server}")
    server_version = _server_version(conn)

    optional_groups = {info.group for info in wanted if info.optional}
    served, undiscovered = _served_versions(conn, optional_groups) if optional_groups else ({}, "")
    plan: list[tuple[KindInfo, str]] = []
    unavailable: dict[str, str] = {}
    for info in wanted:
        if info.optional:
            if undiscovered:
                unavailable[info.kind] = undiscovered
                continue
            versions = [v for v in info.versions if v in served.get(info.group, set())]
            if not versions:
                unavailable[info.kind] = f"{NOT_INSTALLED}: {info.group} API ({info.plural}) is not served"
                continue
            plan.append((info, versions[0]))
        else:
            plan.append((info, info.versions[0]))

    def read(
        entry: tuple[KindInfo, str],
    ) -> tuple[KindInfo, tuple[dict[tuple[str, str], dict[str, Any]], tuple[dict[str, Any], ...]] | str]:
        info, version = entry
        say(f"listing {info.plural}")
        try:
            keyed = _list_all(conn, info, version, shared)
        except _Forbidden:
            return info, f"forbidden: list {info.plural}"
        except _NotFound:
            return info, f"not served: {_list_path(info, version)}"
        return info, (keyed, in_order(keyed))  # ordered here, while other lists are in flight

    keyed: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    objects: dict[str, tuple[dict[str, Any], ...]] = {}
    collected: set[str] = set()
    shared: dict[str, str] = {}  # across kinds: a claim and its volume repeat each other's names
    # A few lists in flight at once: the server does the work, so latency overlaps well.
    pool = ThreadPoolExecutor(max_workers=4)
    try:
        futures = [pool.submit(read, entry) for entry in plan]
        if meanwhile is not None:
            meanwhile()
        # The first list that fails ends the run: cancel the lists not started yet and end those in
        # flight instead of letting each wait out its own --request-timeout.
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = [
            exc
            for f in futures
            if f.done() and not f.cancelled() and (exc := f.exception()) is not None and not isinstance(exc, Aborted)
        ]
        if failed:
            raise failed[0]
        for future in futures:
            info, outcome = future.result()
            if isinstance(outcome, str):
                unavailable[info.kind] = outcome
                continue
            collected.add(info.kind)
            if outcome[1]:  # as snapshot.build(): a kind without objects has no entry
                keyed[info.kind], objects[info.kind] = outcome
    except BaseException:
        conn.abort()
        raise
    finally:
        # Never wait here for requests in flight: abort() has ended them (or they are done).
        pool.shutdown(wait=False, cancel_futures=True)
    collected_at = utc_timestamp()
    source = Source(
        kind="cluster",
        description=conn.server,
        context=conn.context,
        server_version=server_version,
        collected_at=collected_at,
        insecure_tls=conn.insecure,
    )
    return Snapshot(objects, source, collected=frozenset(collected), unavailable=unavailable, keyed=keyed)
