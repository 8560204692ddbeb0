"""The read-only RBAC kfstor needs, derived from the same kind table the collector lists."""

from __future__ import annotations

import re
from collections.abc import Iterable

from kfstor.collect.kinds import FORBIDDEN_KINDS, KINDS

VERBS = ("get", "list", "watch")


def rules(kinds: Iterable[str]) -> list[tuple[str, list[str]]]:
    """(API group, resources) pairs, sorted; only kinds kfstor knows how to list."""
    by_group: dict[str, set[str]] = {}
    for kind in kinds:
        info = KINDS.get(kind)
        if info is None or kind in FORBIDDEN_KINDS:
            continue
        by_group.setdefault(info.group, set()).add(info.plural)
    return [(group, sorted(resources)) for group, resources in sorted(by_group.items())]


def cluster_role_yaml(
    kinds: Iterable[str], name: str = "kfstor-auditor", service_account: tuple[str, str] | None = None
) -> str:
    """The ClusterRole and a ClusterRoleBinding. With `service_account` (namespace, name) the binding
    is for that ServiceAccount, ready to apply (deploy/base/rbac.yaml is this output); without, it is
    an example to edit."""
    lines = [
        "# Read-only access for kfstor: get/list/watch on exactly the kinds its checks read.",
        "# No Secrets, no writes. Apply with: kubectl apply -f kfstor-rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1",
        "kind: ClusterRole",
        "metadata:",
        f"  name: {name}",
        "rules:",
    ]
    for group, resources in rules(kinds):
        lines += [
            f'- apiGroups: ["{group}"]',
            f"  resources: [{', '.join(resources)}]",
            f"  verbs: [{', '.join(VERBS)}]",
        ]
    namespace, account = service_account or ("kfstor", "kfstor")
    lines += [
        "---",
        f"# Grants the role above to ServiceAccount {namespace}/{account}."
        if service_account
        else "# Example binding: replace the subject with the user, group or ServiceAccount that runs kfstor.",
        "apiVersion: rbac.authorization.k8s.io/v1",
        "kind: ClusterRoleBinding",
        "metadata:",
        f"  name: {name}",
        "roleRef:",
        "  apiGroup: rbac.authorization.k8s.io",
        "  kind: ClusterRole",
        f"  name: {name}",
        "subjects:",
        "- kind: ServiceAccount",
        f"  name: {account}",
        f"  namespace: {namespace}",
    ]
    return "\n".join(lines) + "\n"


# A DNS-1123 label: what Kubernetes accepts as a namespace name (ServiceAccount names are
# subdomains, a superset; a label is what every real one is).
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def parse_service_account(value: str) -> tuple[str, str]:
    """NAMESPACE/NAME -> (namespace, name); ValueError with the reason otherwise."""
    namespace, sep, name = value.partition("/")
    if not sep or not namespace or not name:
        raise ValueError(f"--service-account {value!r}: expected NAMESPACE/NAME, e.g. kfstor/kfstor")
    if len(namespace) > 63 or not _LABEL.match(namespace):
        raise ValueError(f"--service-account {value!r}: {namespace!r} is not a valid namespace name")
    if len(name) > 253 or not _SUBDOMAIN.match(name):
        raise ValueError(f"--service-account {value!r}: {name!r} is not a valid ServiceAccount name")
    return namespace, name
