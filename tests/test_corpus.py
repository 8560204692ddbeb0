"""One parametrized test over the whole check corpus (tests/cases): exact statuses per object."""

from __future__ import annotations

import os
from collections import Counter

import pytest

from kfstor.collect.snapshot import from_files
from kfstor.engine import runner
from kfstor.engine.config import CheckConfig, Config
from kfstor.engine.loader import load_checks
from kfstor.model import Finding
from tests.corpus import Case, load_cases

CHECKS = {c.id: c for c in load_checks(include_plugins=False).checks}
ONLY = os.environ.get("KFSTOR_CHECK")  # KFSTOR_CHECK=rwx_claims runs one check's cases
CASES = [c for c in load_cases() if not ONLY or c.check_id == ONLY]


def ref_key(ref: object) -> str:
    text = str(ref)
    return "Cluster" if text == "cluster" else text


def finding_keys(findings: tuple[Finding, ...]) -> list[str]:
    """A finding's key in a case header: its object, and its problem code too when the object
    carries several findings (one problem each: `PersistentVolumeClaim/kubeflow/katib-mysql
    KFS-DB-NO-EXPANSION`)."""
    per_ref = Counter(ref_key(f.ref) for f in findings)
    return [ref_key(f.ref) if per_ref[ref_key(f.ref)] == 1 else f"{ref_key(f.ref)} {f.code}" for f in findings]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    assert case.check_id in CHECKS, f"{case.path}: unknown check {case.check_id}"
    snap = from_files([str(case.path)])
    config = Config(checks={case.check_id: CheckConfig(options=case.options)})
    report = runner.run([CHECKS[case.check_id]], snap, config=config, namespace=case.namespace)
    result = report.results[0]
    keys = finding_keys(result.findings)
    assert len(set(keys)) == len(keys), f"two findings share an object and a code: {keys}"
    got = {key: f.status.value for key, f in zip(keys, result.findings, strict=True)}
    detail = "\n".join(f"  {f.status.value:5} {key}: {f.message}" for key, f in zip(keys, result.findings, strict=True))
    assert result.reason or result.findings, "a check result must carry findings or a reason"
    assert got == case.expected_findings, f"findings differ:\n{detail}\nreason: {result.reason}"
    assert result.status.value == case.expected_check, f"check status {result.status.value}:\n{detail}"
    messages = {key: f.message for key, f in zip(keys, result.findings, strict=True)}
    for ref, fragment in case.messages.items():
        assert fragment in messages[ref], f"{ref}: {messages[ref]!r} lacks {fragment!r}"
