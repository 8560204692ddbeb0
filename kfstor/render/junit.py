"""JUnit XML for CI test panels: a testsuite per check, a testcase per finding.

fail -> <failure>, error -> <error>, skip -> <skipped>; warn passes with the message in
<system-out> so a warning shows in the panel without failing the job (the gate decides that).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TextIO

from kfstor.model import Finding, Status
from kfstor.render.report import Report


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
    if fix is None:
        return ""
    lines = [f"Fix: {fix.text}"] if fix.text else []
    lines += [f"  $ {command}" for command in fix.commands]
    if fix.docs:
        lines.append(f"Docs: {fix.docs}")
    return "".join(line + "\n" for line in lines)


def render(report: Report, out: TextIO) -> None:
    root = ET.Element("testsuites", name="kfstor", tests="0", failures="0", errors="0", skipped="0")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in report.results:
        suite = ET.SubElement(root, "testsuite", name=result.id)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="title", value=result.check.title)
        # The problem code leads the message, as in every other format; the fix follows a failure.
        cases = [
            (str(f.ref), f.status, f"{f.code}: {f.message}" if f.code else f.message, _remarks(f), _fix_text(f))
            for f in result.findings
        ]
        if not cases:  # a skipped or crashed check has no findings: one testcase carries its reason
            cases = [("check", result.status, result.reason, "", "")]
        for name, status, message, note, fix in cases:
            case = ET.SubElement(suite, "testcase", classname=f"kfstor.{result.id}", name=name)
            counts["tests"] += 1
            text = f"{message} ({note})" if note else message
            if status is Status.FAIL:
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", message=text, type="fail")
                failure.text = f"{text}\n{fix}Remediation: {result.check.remediation}"
            elif status is Status.ERROR:
                counts["errors"] += 1
                ET.SubElement(case, "error", message=text, type="error").text = text
            elif status is Status.SKIP:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=text)
            else:
                ET.SubElement(case, "system-out").text = f"{status.value}: {text}"
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
