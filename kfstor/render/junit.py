"""JUnit XML for CI test panels: a testsuite per check, a testcase per finding.

fail -> <failure>, error -> <error>, skip -> <skipped>; warn passes with the message in
<system-out> so a warning shows in the panel without failing the job (the gate decides that).
not_evaluated -> <error type="not_evaluated"> (the check could not look, so the panel must not show
it as passed or skipped), or <skipped> naming it when --allow-partial accepts the gap.
Every string passes through sanitize.xml: the file stays well-formed XML whatever the cluster says.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TextIO

from kfstor.model import Check, Finding, Status
from kfstor.render.report import Report
from kfstor.render.sanitize import xml as clean


def _remarks(finding: Finding) -> str:
    """The waiver that turned a finding into a pass and the runner's note: a CI panel must not
    show a waived failure as a plain pass."""
    parts = []
    if finding.waived is not None:
        was = f" ({finding.original_status.value})" if finding.original_status else ""
        until = f", until {finding.waived.expires}" if finding.waived.expires else ""
        parts.append(f"waived{was}: {finding.waived.reason}{until}")
    if finding.note:
        parts.append(finding.note)
    return "; ".join(parts)


def _fix_text(finding: Finding) -> str:
    fix = finding.fix
    lines = []
    if finding.caused_by is not None:
        # A CI panel shows failures one by one: say which one to fix first.
        lines.append(f"Caused by {finding.caused_by}: fixing that clears this finding")
    if fix is None:
        return "".join(line + "\n" for line in lines)
    lines += [f"Fix: {fix.text}"] if fix.text else []
    lines += [f"  $ {command}" for command in fix.commands]
    if fix.docs:
        lines.append(f"Docs: {fix.docs}")
    return "".join(line + "\n" for line in lines)


def _remediation(check: Check, code: str) -> str:
    """How to fix the finding's problem in general (its code's entry, as `kfstor explain` prints
    it), else the check's remediation: the concrete fix above already names the objects."""
    for entry in check.codes:
        if entry.id == code:
            return entry.fix
    return check.remediation


# --- install plan ---------------------------------------------------------------------


def _plan(root: ET.Element, report: Report, totals: dict[str, int]) -> None:
    """One testsuite "plan", a testcase per planned claim: stays Pending -> failure. Only for a
    plan from --manifests: the built-in expectations are no test of the install (the checks'
    pre-install findings are)."""
    plan = report.plan
    if not plan.from_manifests:
        return
    suite = ET.SubElement(root, "testsuite", name="plan")
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="title", value=f"Install plan: {plan.label}")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for entry in plan.entries:
        claim = entry.claim
        case = ET.SubElement(suite, "testcase", classname="kfstor.plan", name=str(entry.ref))
        counts["tests"] += 1
        text = (
            f"{claim.size or 'no size'} {'/'.join(claim.access_modes)}, class {entry.class_text}: "
            f"{entry.outcome.label}: {entry.reason} ({claim.role}; from {claim.source})"
        )
        if entry.outcome.status is Status.FAIL:
            counts["failures"] += 1
            ET.SubElement(case, "failure", message=text, type="pending").text = text
        else:
            ET.SubElement(case, "system-out").text = f"{entry.outcome.value}: {text}"
    for key, value in counts.items():
        suite.set(key, str(value))
        totals[key] += value


def add_suites(root: ET.Element, report: Report, prefix: str = "") -> dict[str, int]:
    """One testsuite per check of `report` under `root` (and the plan's, with --manifests); `prefix`
    (a fleet's cluster) goes in front of suite and class names. Returns the totals the caller adds
    to the root element."""
    # Run-level facts go on every suite: the common JUnit schemas allow properties only there.
    run = [("verdict", clean(report.verdict())), ("config", clean(report.config.path or "none"))]
    run += [("waiver", clean(f"{w.check} on {w.object}: {w.reason}")) for w in report.config.waivers]
    if report.source.insecure_tls:
        run.append(("tls", "not verified (insecure-skip-tls-verify)"))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in report.results:
        suite = ET.SubElement(root, "testsuite", name=f"{clean(prefix)}{result.id}")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="title", value=clean(result.check.title))
        for prop, prop_value in run:
            ET.SubElement(properties, "property", name=prop, value=prop_value)
        # The problem code leads the message, as in every other format; the fix follows a failure.
        cases = [
            (
                clean(f.ref),
                f.status,
                clean(f"{f.code}: {f.message}" if f.code else f.message),
                clean(_remarks(f)),
                clean(_fix_text(f)),
                f.code,
            )
            for f in result.findings
        ]
        if not cases:  # a skipped or crashed check has no findings: one testcase carries its reason
            cases = [("check", result.status, clean(result.reason), "", "", "")]
        for name, status, message, note, fix, code in cases:
            classname = f"kfstor.{clean(prefix)}{clean(result.id)}"
            case = ET.SubElement(suite, "testcase", classname=classname, name=name)
            counts["tests"] += 1
            text = f"{message} ({note})" if note else message
            if status is Status.FAIL:
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", message=text, type="fail")
                failure.text = f"{text}\n{fix}Remediation: {clean(_remediation(result.check, code))}"
            elif status is Status.ERROR:
                counts["errors"] += 1
                ET.SubElement(case, "error", message=text, type="error").text = text
            elif status is Status.NOT_EVALUATED and not report.allow_partial:
                counts["errors"] += 1
                text = f"not evaluated: {text}"
                ET.SubElement(case, "error", message=text, type="not_evaluated").text = text
            elif status is Status.NOT_EVALUATED:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"not evaluated (allowed by --allow-partial): {text}")
            elif status is Status.SKIP:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=text)
            else:
                ET.SubElement(case, "system-out").text = f"{status.value}: {text}"
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    _plan(root, report, totals)
    return totals


def write(root: ET.Element, totals: dict[str, int], out: TextIO) -> None:
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")


def render(report: Report, out: TextIO) -> None:
    root = ET.Element("testsuites", name="kfstor", tests="0", failures="0", errors="0", skipped="0")
    write(root, add_suites(root, report), out)
