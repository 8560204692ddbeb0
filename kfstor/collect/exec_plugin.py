"""Running a kubeconfig exec credential plugin (aws, gke-gcloud-auth-plugin, kubelogin, ...).

kfstor runs the plugin itself rather than through the kubernetes client, which calls it with no
timeout, logs its failures to the root logger and then sends the requests unauthenticated, and
runs it again before every request once its token has expired. Here the plugin runs once per run,
within --request-timeout, in its own process group (ended with kfstor: on a timeout, Ctrl-C or
SIGTERM the whole group is killed), never interactively (kfstor is a CI tool: stdin is closed),
and any failure is one line naming the plugin (exit code 3).

Protocol: client.authentication.k8s.io/v1 and v1beta1 ExecCredential (KUBERNETES_EXEC_INFO in,
status.token or status.clientCertificateData + clientKeyData out).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from typing import Any

from kfstor.collect.kubeconfig_files import Chosen, KubeconfigError, absolute, command_path

API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
KILL_GRACE_S = 1.0


class PluginError(Exception):
    """The plugin failed, printed something unusable or did not answer in time (exit code 3)."""


@dataclass(frozen=True, slots=True)
class Credential:
    token: str = ""
    client_certificate: str = ""  # PEM
    client_key: str = ""  # PEM
    expires: str = ""  # expirationTimestamp, RFC 3339, when given


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _spec(chosen: Chosen, spec: dict[str, Any]) -> tuple[list[str], dict[str, str], str]:
    user = chosen.user
    assert user is not None  # exec_spec is only set for a user
    where = f"kubeconfig {user.file}: user {user.name!r}: exec"
    command = spec.get("command")
    if not isinstance(command, str) or not command:
        raise KubeconfigError(f"{where}: no command")
    api_version = spec.get("apiVersion")
    if api_version not in API_VERSIONS:
        raise KubeconfigError(f"{where}: apiVersion {api_version!r} is not one of {', '.join(API_VERSIONS)}")
    args = spec.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise KubeconfigError(f"{where}: args must be a list of strings")
    env = dict(os.environ)
    for index, item in enumerate(spec.get("env") or []):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise KubeconfigError(f"{where}: env[{index}] must have a name and a value")
        env[item["name"]] = str(item.get("value") or "")
    return [command, *args], env, str(api_version)


def _exec_info(chosen: Chosen, spec: dict[str, Any], api_version: str) -> str:
    info: dict[str, Any] = {"apiVersion": api_version, "kind": "ExecCredential", "spec": {"interactive": False}}
    if spec.get("provideClusterInfo") is True:
        cluster = chosen.cluster.value
        data = cluster.get("certificate-authority-data") or ""
        ca_file = cluster.get("certificate-authority")
        if not data and ca_file:
            try:
                with open(absolute(str(ca_file), chosen.cluster.file), "rb") as handle:
                    data = base64.b64encode(handle.read()).decode()
            except OSError:
                data = ""
        described: dict[str, Any] = {"server": chosen.server}
        for key in ("tls-server-name", "insecure-skip-tls-verify", "proxy-url"):
            if key in cluster:
                described[key] = cluster[key]
        if data:
            described["certificate-authority-data"] = data
        for extension in cluster.get("extensions") or []:
            if isinstance(extension, dict) and extension.get("name") == "client.authentication.k8s.io/exec":
                described["config"] = extension.get("extension")
        info["spec"]["cluster"] = described
    return json.dumps(info)


def _end(process: subprocess.Popen[bytes]) -> None:
    """End the plugin and anything it started (its own process group)."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            process.wait(timeout=KILL_GRACE_S)
            break
        except subprocess.TimeoutExpired:
            continue
    # What the plugin started may ignore SIGTERM, or outlive it: nothing of its group stays behind.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def run(chosen: Chosen, timeout: float) -> Credential | None:
    """The credential of the chosen user's exec plugin, or None when it has none."""
    spec = chosen.exec_spec
    if spec is None:
        return None
    argv, env, api_version = _spec(chosen, spec)
    assert chosen.user is not None
    name = argv[0]
    label = f"exec plugin {name!r} of user {chosen.user.name!r} ({chosen.user.file})"
    resolved = command_path(name, chosen.user.file)
    found = shutil.which(resolved, path=env.get("PATH")) if os.sep not in resolved else resolved
    if not found or not os.path.isfile(found):
        hint = spec.get("installHint")
        extra = f": {_one_line(str(hint), 160)}" if isinstance(hint, str) and hint.strip() else ""
        raise PluginError(f"{label}: command not found{extra}")
    env["KUBERNETES_EXEC_INFO"] = _exec_info(chosen, spec, api_version)
    try:
        process = subprocess.Popen(
            [found, *argv[1:]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own group: ended as a whole, and a terminal's Ctrl-C is ours
        )
    except OSError as exc:
        raise PluginError(f"{label}: cannot run: {exc.strerror or exc}") from None
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise PluginError(f"{label}: no answer within --request-timeout {timeout:g}s") from None
    finally:
        _end(process)  # on a timeout, Ctrl-C or SIGTERM too: the plugin never outlives kfstor
    if process.returncode != 0:
        said = stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f": {_one_line(said[-1])}" if said else ""
        raise PluginError(f"{label} failed (exit code {process.returncode}){detail}")
    return _parse(stdout, api_version, label)


def _parse(stdout: bytes, api_version: str, label: str) -> Credential:
    try:
        data = json.loads(stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        shown = _one_line(stdout.decode("utf-8", "replace"), 80) or "nothing"
        raise PluginError(f"{label} printed invalid output (not an ExecCredential JSON object): {shown}") from None
    if not isinstance(data, dict) or data.get("kind") != "ExecCredential":
        raise PluginError(f"{label} printed invalid output: not an ExecCredential")
    if data.get("apiVersion") != api_version:
        raise PluginError(f"{label} printed apiVersion {data.get('apiVersion')!r}, expected {api_version}")
    status = data.get("status")
    if not isinstance(status, dict):
        raise PluginError(f"{label} printed an ExecCredential without status")
    token = status.get("token")
    cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
    expires = status.get("expirationTimestamp")
    expires = expires if isinstance(expires, str) else ""
    if isinstance(token, str) and token:
        return Credential(token=token, expires=expires)
    if isinstance(cert, str) and cert and isinstance(key, str) and key:
        return Credential(client_certificate=cert, client_key=key, expires=expires)
    raise PluginError(f"{label} printed no token and no client certificate with key")


def apply(credential: Credential, user: dict[str, Any]) -> dict[str, Any]:
    """The kubeconfig user section with the plugin's credential in place of its exec section."""
    if credential.token:
        return {**user, "token": credential.token}
    return {
        **user,
        "client-certificate-data": base64.b64encode(credential.client_certificate.encode()).decode(),
        "client-key-data": base64.b64encode(credential.client_key.encode()).decode(),
    }
