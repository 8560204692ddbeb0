"""The read-only RBAC kfstor needs, derived from the same kind table the collector lists."""

from __future__ import annotations

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


def cluster_role_yaml(kinds: Iterable[str], name: str = "kfstor-auditor") -> str:
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
    lines += [
        "---",
        "# Example binding: replace the subject with the user, group or ServiceAccount that runs kfstor.",
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
        "  name: kfstor",
        "  namespace: kfstor",
    ]
    return "\n".join(lines) + "\n"
