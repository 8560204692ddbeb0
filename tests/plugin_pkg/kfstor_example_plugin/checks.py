"""Every PersistentVolumeClaim says which application it belongs to.

A claim without the `app.kubernetes.io/part-of` label has data nobody can attribute: when a
namespace is cleaned up or a volume runs out of space, there is no owner to ask. This check warns
for each such claim and passes the labelled ones.
"""

from __future__ import annotations

from collections.abc import Iterator

from kfstor import Check, Context, Finding, Snapshot, ok, warn

LABEL = "app.kubernetes.io/part-of"


def evaluate(snap: Snapshot, ctx: Context) -> Iterator[Finding]:
    for pvc in snap.of("PersistentVolumeClaim"):
        meta = pvc.get("metadata") or {}
        where = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        owner = (meta.get("labels") or {}).get(LABEL)
        if owner:
            yield ok(pvc, f"claim {where} is part of {owner}")
        else:
            yield warn(pvc, f"claim {where} has no {LABEL} label: nobody can tell which application owns its data")


CHECK = Check(
    id="example_pvc_labels",
    title="Claims say which application they belong to",
    kinds=("PersistentVolumeClaim",),
    evaluate=evaluate,
    description=__doc__ or "",
    remediation=f"Label each claim: kubectl label pvc <name> -n <namespace> {LABEL}=<application>",
)
