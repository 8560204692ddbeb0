"""The floor: list the kinds the audit needs with plain paginated HTTPS GETs and json.loads.

Nothing else happens here (no kubeconfig library, no objects kept), so this is as fast as the
data can be had from the API server. Run as a subprocess like kfstor, so both pay for starting
Python. Prints one JSON line: object count and raw bytes received.

    python benchmarks/floor.py KUBECONFIG PATH [PATH ...]
"""

from __future__ import annotations

import http.client
import json
import ssl
import sys
from urllib.parse import quote, urlsplit

PAGE = 500  # kfstor's page size, and kubectl's default --chunk-size


def main() -> None:
    with open(sys.argv[1]) as handle:
        config = json.load(handle)
    cluster = config["clusters"][0]["cluster"]
    token = config["users"][0]["user"]["token"]
    url = urlsplit(cluster["server"])
    context = ssl.create_default_context(cafile=cluster["certificate-authority"])
    conn = http.client.HTTPSConnection(url.hostname or "127.0.0.1", url.port, context=context)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    objects = 0
    size = 0
    for path in sys.argv[2:]:
        token_continue = ""
        while True:
            query = f"?limit={PAGE}" + (f"&continue={quote(token_continue)}" if token_continue else "")
            conn.request("GET", path + query, headers=headers)
            response = conn.getresponse()
            body = response.read()
            if response.status == 404:  # an optional API that is not installed
                break
            page = json.loads(body)
            size += len(body)
            objects += len(page.get("items") or [])
            token_continue = (page.get("metadata") or {}).get("continue") or ""
            if not token_continue:
                break
    print(json.dumps({"objects": objects, "bytes": size}))


if __name__ == "__main__":
    main()
