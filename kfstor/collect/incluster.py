"""In-cluster configuration: what a pod receives (KUBERNETES_SERVICE_HOST/PORT, and the token and
CA files of its ServiceAccount), loaded by the `kubernetes` client's own in-cluster loader.

The files are read from /var/run/secrets/kubernetes.io/serviceaccount, as in every pod.
KFSTOR_SERVICE_ACCOUNT_DIR names another directory with the same two files (`token`, `ca.crt`):
a test seam, so the live tests can hand kfstor a real ServiceAccount token without root; it is
also usable where a token is projected elsewhere. The client re-reads the token file as kubelet
rotates it.
"""

from __future__ import annotations

import os
from typing import Any

DEFAULT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DIR_ENV = "KFSTOR_SERVICE_ACCOUNT_DIR"


def service_account_dir() -> str:
    return os.environ.get(DIR_ENV) or DEFAULT_DIR


def load(config: Any, configuration: Any) -> None:
    """Fill `configuration` (a kubernetes Configuration) from the pod's environment and files."""
    directory = service_account_dir()
    loader = config.incluster_config.InClusterConfigLoader(
        token_filename=os.path.join(directory, "token"),
        cert_filename=os.path.join(directory, "ca.crt"),
    )
    loader.load_and_set(configuration)
