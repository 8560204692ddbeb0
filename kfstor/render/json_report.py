"""Machine-readable report, versioned as kfstor.report/v1 (schema: kfstor/schema/report-v1.json)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, TextIO

from kfstor.facts.plan import PlanEntry
from kfstor.model import CheckResult, Finding, Waiver
from kfstor.render import grouping
from kfstor.render.report import Report
from kfstor.render.review import Review, ReviewItem
from kfstor.render.sanitize import json_value

SCHEMA = "kfstor.report/v1"


def finding_dict(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "status": finding.status.value,
        "kind": finding.ref.kind,
        "namespace": finding.ref.namespace,
        "name": finding.ref.name,
        "object": str(finding.ref),
        "message": finding.message,
    }
    if finding.original_status is not None:
        data["original_status"] = finding.original_status.value
    if finding.waived is not None:
        data["waiver"] = {
            "reason": finding.waived.reason,
            "expires": finding.waived.expires.isoformat() if finding.waived.expires else None,
        }
    if finding.note:
        data["note"] = finding.note
    if finding.code:
        data["code"] = finding.code
    if finding.caused_by is not None:
        data["caused_by"] = {"code": finding.caused_by.code, "object": str(finding.caused_by.ref)}
    if finding.fix is not None:
        data["fix"] = {"commands": list(finding.fix.commands), "docs": finding.fix.docs, "text": finding.fix.text}
    return data


def result_dict(result: CheckResult) -> dict[str, Any]:
    check = result.check
    return {
        "id": check.id,
        "title": check.title,
        "status": result.status.value,
        "reason": result.reason,
        "kinds": list(check.kinds),
        "optional_kinds": list(check.optional_kinds),
        "origin": check.origin,
        "summary": check.summary,
        "remediation": check.remediation,
        "findings": [finding_dict(f) for f in result.findings],
    }


# --- install plan ---------------------------------------------------------------------


def plan_entry_dict(entry: PlanEntry) -> dict[str, Any]:
    claim = entry.claim
    return {
        "namespace": claim.namespace,
        "name": claim.name,
        "template": claim.template,
        "size": claim.size,
        "access_modes": list(claim.access_modes),
        "volume_mode": claim.volume_mode,
        "requested_class": claim.storage_class,
        "storage_class": entry.class_name,
        "class_source": entry.cls.source.value,
        "outcome": entry.outcome.value,
        "status": entry.outcome.status.value,
        "reason": entry.reason,
        "exists": entry.existing is not None,
        "workload": claim.workload,
        "stores": claim.stores,
        "role": claim.role,
        "database": claim.database,
        "created_by": claim.created_by,
        "source": claim.source,
    }


def _plan_fields(report: Report) -> dict[str, Any]:
    """`plan` and `plan_info`, present when the report has a plan (manifests or built-in)."""
    plan = report.plan
    if plan.source == "none":
        return {}
    return {
        "plan_info": {
            "source": plan.source,
            "label": plan.label,
            "inputs": plan.inputs,
            "objects": plan.objects,
            "secrets_dropped": plan.secrets,
            "summary": plan.summary(),
            "counts": plan.counts(),
            "notes": list(plan.notes),
        },
        "plan": [plan_entry_dict(e) for e in plan.entries],
    }


def waiver_dict(waiver: Waiver) -> dict[str, Any]:
    return {
        "check": waiver.check,
        "object": waiver.object,
        "reason": waiver.reason,
        "expires": waiver.expires.isoformat() if waiver.expires else None,
        "code": waiver.code,
    }


def _item(item: ReviewItem) -> dict[str, Any]:
    data: dict[str, Any] = {
        "check": item.check,
        "code": item.code,
        "object": item.object,
        "status": item.status,
        "message": item.message,
    }
    if item.previous:
        data["previous"] = item.previous
    return data


def review_dict(review: Review) -> dict[str, Any]:
    return {
        "baseline": review.baseline,
        "baseline_created": review.baseline_created,
        "new": [_item(i) for i in review.new],
        "resolved": [_item(i) for i in review.resolved],
        "unchanged": [_item(i) for i in review.unchanged],
    }


def report_dict(report: Report) -> dict[str, Any]:
    counts = report.counts()
    return json_value(_report_dict(report, counts))  # type: ignore[no-any-return]


def _report_dict(report: Report, counts: dict[str, int]) -> dict[str, Any]:
    groups = grouping.group(report)
    roots = [
        {
            "check": r.root.check,
            "code": r.root.finding.code,
            "object": str(r.root.finding.ref),
            "status": r.root.finding.status.value,
            "message": r.root.finding.message,
            "causes": [
                {
                    "check": c.check,
                    "code": c.finding.code,
                    "object": str(c.finding.ref),
                    "status": c.finding.status.value,
                }
                for c in r.caused
            ],
        }
        for r in groups.roots
    ]
    extra: dict[str, Any] = {}
    if report.review is not None:
        extra["since_last_review"] = review_dict(report.review)
    return {
        "schema": SCHEMA,
        "kfstor_version": report.version,
        "created": report.created,
        "source": asdict(report.source),
        "namespace": report.namespace,
        "gate": {
            "fail_on": report.fail_on.value,
            "allow_partial": report.allow_partial,
            "passed": report.exit_status == 0,
            "exit_code": report.exit_status,
            "verdict": report.verdict(),
            "not_evaluated": [{"id": r.id, "reason": r.reason} for r in report.not_evaluated()],
        },
        "config": {
            "file": report.config.path or None,
            "waivers_applied": [waiver_dict(w) for w in report.config.waivers],
            "waivers": [waiver_dict(w) for w in report.config.declared],
        },
        "summary": {
            **counts,
            "total": len(report.results),
            "verdict": report.verdict_key,
            "root_causes": len(groups.roots),
            "cleared_by_root_causes": groups.cleared,
        },
        "notes": list(report.notes),
        "root_causes": roots,
        **extra,
        "checks": [result_dict(r) for r in report.results],
        "inventory": {
            "storage_classes": [
                {**asdict(row), "parameters": dict(row.parameters)} for row in report.inventory.classes
            ],
            "kubeflow_claims": [
                {**asdict(row), "access_modes": list(row.access_modes), "mounted_by": list(row.mounted_by)}
                for row in report.inventory.claims
            ],
            "class_usage": [{**asdict(row), "phases": dict(row.phases)} for row in report.inventory.usage],
            "csi_drivers": [asdict(row) for row in report.inventory.drivers],
            "snapshot_classes": [asdict(row) for row in report.inventory.snapshot_classes],
            "notebooks": [asdict(row) for row in report.inventory.notebooks],
        },
        **_plan_fields(report),
    }


def render(report: Report, out: TextIO) -> None:
    json.dump(report_dict(report), out, indent=2, ensure_ascii=False)
    out.write("\n")
