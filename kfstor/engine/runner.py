"""Run checks over a snapshot and apply kfstor.yaml: the only place statuses are decided.

Each check runs in isolation: a crash becomes an `error` result with the exception summary and
the other checks still run. Checks whose required kinds could not be read (forbidden, not served,
discovery refused) are `not_evaluated` with the reason, never judged on missing data; a check whose
optional API is simply not installed is `skip` (not applicable).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

from kfstor import __version__
from kfstor.collect.manifests import Manifests
from kfstor.collect.snapshot import Snapshot, not_discovered, not_installed
from kfstor.engine.config import Config, ConfigError
from kfstor.facts.view import Facts
from kfstor.model import (
    DEFAULT_NAMESPACE,
    AppliedConfig,
    Check,
    CheckResult,
    Context,
    FailOn,
    Finding,
    Status,
    Waiver,
    one_line,
    utc_timestamp,
    worst,
)
from kfstor.render.report import Report


def _options(check: Check, config: Config) -> dict[str, object]:
    given = dict(config.for_check(check.id).options)
    unknown = sorted(set(given) - set(check.options))
    if unknown:
        known = ", ".join(sorted(check.options)) or "none"
        raise ConfigError(
            f"{config.path}: checks.{check.id}.options: unknown option(s) {', '.join(unknown)} (known: {known})"
        )
    return {**check.options, **given}


def _unseen(check: Check, snap: Snapshot) -> CheckResult | None:
    """The result of a check whose required kinds are unavailable: not evaluated when any of them
    could not be read, skip (not applicable) when their API is simply not installed. An optional
    kind whose API could not even be discovered (/apis refused) also leaves the check unable to
    look: whether the API exists is unknown."""
    missing = [snap.unavailable[k] for k in check.kinds if k in snap.unavailable]
    missing += [snap.unavailable[k] for k in check.optional_kinds if not_discovered(snap.unavailable.get(k, ""))]
    if not missing:
        return None
    unread = [reason for reason in missing if not not_installed(reason)]
    status = Status.NOT_EVALUATED if unread else Status.SKIP
    return CheckResult(check, status, (), reason="; ".join(dict.fromkeys(unread or missing)))


def _evaluate(check: Check, facts: Facts, ctx: Context) -> CheckResult:
    unseen = _unseen(check, facts.snapshot)
    if unseen is not None:
        return unseen
    try:
        findings = tuple(check.evaluate(facts, ctx))
        for finding in findings:
            if not isinstance(finding, Finding):
                raise TypeError(f"evaluate yielded a {type(finding).__name__}, not a Finding")
    except Exception as exc:  # any bug in any check: record it, keep auditing
        summary = one_line(exc)
        return CheckResult(
            check, Status.ERROR, (), reason=f"{type(exc).__name__}: {summary}" if summary else type(exc).__name__
        )
    return CheckResult(check, worst(f.status for f in findings), findings)


def _override(finding: Finding, override: str | None, origin: str = "kfstor.yaml") -> Finding:
    if override == "warn" and finding.status is Status.FAIL:
        return replace(
            finding, status=Status.WARN, original_status=Status.FAIL, note=f"fail lowered to warn by {origin}"
        )
    if override == "fail" and finding.status is Status.WARN:
        return replace(
            finding, status=Status.FAIL, original_status=Status.WARN, note=f"warn raised to fail by {origin}"
        )
    if override == "off" and finding.status in (Status.WARN, Status.FAIL):
        # Turned off by choice, not passed: the finding stays visible as a skip with what it was.
        return replace(finding, status=Status.SKIP, original_status=finding.status, note=f"turned off by {origin}")
    return finding


def _code_or_check_override(finding: Finding, config: Config, check_status: str | None) -> Finding:
    """A code override (naming the object, else the whole code) outranks the check's status override."""
    code_override = config.override_for(finding.code, str(finding.ref))
    if code_override is not None:
        return _override(finding, code_override.status, code_override.origin)
    return _override(finding, check_status)


def _waive(finding: Finding, check_id: str, waivers: Sequence[Waiver], today: dt.date, used: set[Waiver]) -> Finding:
    if finding.status not in (Status.WARN, Status.FAIL):
        return finding
    # A waiver for this object and code outranks one for the whole code or the whole check.
    ordered = sorted(waivers, key=lambda w: (not w.object, not w.code))
    for waiver in ordered:
        if not waiver.covers(check_id, finding):
            continue
        used.add(waiver)
        if waiver.expired(today):
            return replace(finding, note=f"waiver expired on {waiver.expires}: {waiver.reason}")
        return replace(
            finding, status=Status.PASS, waived=waiver, original_status=finding.original_status or finding.status
        )
    return finding


def _finish(result: CheckResult, config: Config, today: dt.date, used: set[Waiver]) -> CheckResult:
    if result.status in (Status.ERROR, Status.NOT_EVALUATED) or not result.findings:
        if result.status is Status.SKIP and not result.reason:
            return replace(result, reason="nothing to check")
        return result
    settings = config.for_check(result.id)
    waivers = [w for w in config.waivers if w.check in ("", result.id)]
    findings = [
        _waive(_code_or_check_override(f, config, settings.status), result.id, waivers, today, used)
        for f in result.findings
    ]
    findings.sort(key=lambda f: (-f.status.rank, f.ref.kind, f.ref.namespace or "", f.ref.name))
    status = worst(f.status for f in findings)
    reason = ""
    if status is Status.SKIP:
        reason = findings[0].message
    return replace(result, findings=tuple(findings), status=status, reason=reason)


def run(
    checks: Sequence[Check],
    snap: Snapshot,
    config: Config | None = None,
    namespace: str | None = None,
    today: dt.date | None = None,
    now: str | None = None,
    notes: Sequence[str] = (),
    fail_on: FailOn = FailOn.FAIL,
    manifests: Manifests | None = None,
    allow_partial: bool = False,
) -> Report:
    config = config or Config()
    namespace = namespace or config.namespace or DEFAULT_NAMESPACE
    today = today or dt.date.today()
    used: set[Waiver] = set()
    facts = Facts(snap, namespace, manifests)
    results = []
    for check in checks:
        options = _options(check, config)  # validate before running anything
        if config.for_check(check.id).status == "off":
            results.append(CheckResult(check, Status.SKIP, (), reason="turned off in kfstor.yaml"))
            continue
        ctx = Context(namespace=namespace, options=options)
        results.append(_finish(_evaluate(check, facts, ctx), config, today, used))
    run_notes = list(notes)
    selected = {c.id for c in checks}
    selected_codes = {code.id for c in checks for code in c.codes}
    for waiver in config.waivers:
        applies = waiver.check in selected if waiver.check else waiver.code in selected_codes
        if waiver not in used and applies:
            run_notes.append(f"waiver for {waiver.target} matched no warn or fail finding")
    run_notes.extend(_absent_kind_notes(checks, snap))
    created = now or utc_timestamp()
    return Report(
        source=snap.source,
        results=tuple(sorted(results, key=lambda r: r.id)),
        created=created,
        version=__version__,
        namespace=namespace,
        facts=facts,
        notes=tuple(run_notes),
        fail_on=fail_on,
        allow_partial=allow_partial,
        config=_applied(config, results),
    )


def _applied(config: Config, results: Sequence[CheckResult]) -> AppliedConfig:
    """The config file and the waivers that really turned a finding into a pass, for the report."""
    waived = (f.waived for r in results for f in r.findings if f.waived is not None)
    return AppliedConfig(path=config.path, waivers=tuple(dict.fromkeys(waived)), declared=tuple(config.waivers))


def _absent_kind_notes(checks: Sequence[Check], snap: Snapshot) -> list[str]:
    """Plain kubectl input cannot say whether a kind was left out or has no objects: say which
    needed kinds had none, so a reader knows what the verdicts rest on."""
    if snap.collected is not None or snap.source.kind != "file":
        return []
    needed = sorted({k for c in checks for k in c.all_kinds})
    absent = [k for k in needed if not snap.of(k) and k not in snap.unavailable]
    if not absent:
        return []
    return [f"the input has no {', '.join(absent)} objects; they were taken to be absent from the cluster"]
