"""kfstor.collect.kubeconfig: the client's kubeconfig loader without the rest of the package, and a
package that still completes for any other user in the same process."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from kfstor.collect import kubeconfig
config = kubeconfig.load()
skipped = [m for m in ("kubernetes.watch", "kubernetes.dynamic", "kubernetes.stream", "kubernetes.leaderelection")
           if m in sys.modules]
has_loader = callable(config.load_kube_config) and callable(config.load_incluster_config)
from kubernetes import client
import kubernetes
import kubernetes.watch
print(json.dumps({
    "imported_early": skipped,
    "loader": has_loader,
    "api_client": f"{client.ApiClient.__module__}.{client.ApiClient.__name__}",
    "core_v1": client.CoreV1Api.__name__,
    "version": kubernetes.__version__,
    "watch": kubernetes.watch.Watch.__name__,
}))
"""


def test_loader_without_the_rest_and_complete_package_afterwards() -> None:
    # A fresh interpreter: the placeholder is only used when nothing imported kubernetes before.
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    data = json.loads(result.stdout)
    assert data["imported_early"] == []
    assert data["loader"] is True
    assert data["api_client"] == "kubernetes.client.api_client.ApiClient"
    assert data["core_v1"] == "CoreV1Api"
    assert data["watch"] == "Watch"
    from importlib.metadata import version

    assert data["version"] == version("kubernetes")
