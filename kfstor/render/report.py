"""The report every renderer formats: the check results of one audit, where the data came from,
and the facts view the inventory is read from.

The engine makes it; renderers only format it. The gate (exit code and verdict) is decided here,
once, so every format states the same verdict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from kfstor.collect.snapshot import Source
from kfstor.facts.plan import Plan
from kfstor.facts.view import Facts
from kfstor.model import (
    EXIT_GATE_FAILED,
    EXIT_INCOMPLETE,
    EXIT_OK,
    AppliedConfig,
    CheckResult,
    FailOn,
    Status,
)
from kfstor.render.inventory import Inventory, build_inventory
from kfstor.render.review import Review

# The four verdicts, as JSON's summary.verdict spells them, and as people read them.
PASSED = "passed"
PASSED_WITH_WARNINGS = "passed_with_warnings"
FAILED = "failed"
INCOMPLETE = "incomplete"
VERDICT_LABELS = {
    PASSED: "PASSED",
    PASSED_WITH_WARNINGS: "PASSED WITH WARNINGS",
    FAILED: "FAILED",
    INCOMPLETE: "INCOMPLETE",
}


@dataclass(frozen=True, slots=True)
class Report:
    source: Source
    results: tuple[CheckResult, ...]
    created: str  # ISO 8601, when the report was made
    version: str  # kfstor version
    namespace: str
    facts: Facts  # what the inventory tables show
    notes: tuple[str, ...] = ()  # run-level remarks (kinds absent from an offline input, ...)
    fail_on: FailOn = FailOn.FAIL  # the gate this run is judged by
    allow_partial: bool = False  # --allow-partial: checks not evaluated do not fail the gate
    config: AppliedConfig = field(default_factory=AppliedConfig)
    review: Review | None = None  # the comparison with an earlier report (--baseline)

    @property
    def inventory(self) -> Inventory:
        return self.facts.memo("render.inventory", lambda _snap: build_inventory(self.facts))

    @property
    def plan(self) -> Plan:
        """What the install will create (from --manifests, or the built-in expectations before
        install); source "none" when there is nothing to plan."""
        return self.facts.plan

    @property
    def exit_status(self) -> int:
        return self.exit_code(self.fail_on)

    def not_evaluated(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.status is Status.NOT_EVALUATED)

    def exit_code(self, fail_on: FailOn) -> int:
        """1 when an evaluated check fails the gate (or crashed), or a planned claim is predicted to
        stay Pending; else 4 when a check could not be evaluated (unless --allow-partial); else 0. A
        failure wins: it is certain, the gaps are not."""
        if any(r.status is Status.ERROR for r in self.results):
            return EXIT_GATE_FAILED
        failing = {Status.FAIL} if fail_on is FailOn.FAIL else {Status.WARN, Status.FAIL}
        if fail_on is FailOn.NEVER:
            failing = set()
        if self.review is not None:
            # Against a baseline only what is new can fail the gate: known problems are reviewed.
            if self.review.new_at_or_above(fail_on):
                return EXIT_GATE_FAILED
        elif any(r.status in failing for r in self.results):
            return EXIT_GATE_FAILED
        # A planned claim predicted to stay Pending (unknown, with --fail-on warn) fails the gate
        # even when no selected check reports it: the install would hang.
        if self.plan.status in failing:
            return EXIT_GATE_FAILED
        # Not even a baseline excuses what could not be seen.
        if self.not_evaluated() and not self.allow_partial:
            return EXIT_INCOMPLETE
        return EXIT_OK

    def gaps(self) -> str:
        """ "13 checks not evaluated: forbidden: list csidrivers, persistentvolumes": each distinct
        reason once, sorted, the forbidden kinds under one "forbidden: list"."""
        missing = self.not_evaluated()
        if not missing:
            return ""
        noun = "check" if len(missing) == 1 else "checks"
        return f"{len(missing)} {noun} not evaluated: {_distinct_reasons(r.reason for r in missing)}"

    @property
    def verdict_key(self) -> str:
        """passed, passed_with_warnings, failed or incomplete (JSON summary.verdict): the gate's
        decision, then whether anything was left to warn about."""
        code = self.exit_status
        if code == EXIT_INCOMPLETE:
            return INCOMPLETE
        if code != EXIT_OK:
            return FAILED
        if any(r.status in (Status.WARN, Status.FAIL) for r in self.results) or self.plan.status in (
            Status.WARN,
            Status.FAIL,
        ):
            return PASSED_WITH_WARNINGS
        return PASSED

    @property
    def collected_at(self) -> str:
        """When the data was read from the cluster: the snapshot's own time, else (a live audit or
        plain kubectl output) the report's time for a live audit and "" for a file."""
        if self.source.collected_at:
            return self.source.collected_at
        return self.created if self.source.kind == "cluster" else ""

    def collected_text(self) -> str:
        """When the data was collected, for a report's header: a file without a time of its own
        (plain kubectl output) says so rather than pass for fresh."""
        if not self.collected_at:
            return "data collected: unknown (plain kubectl output does not record it)"
        age = self.data_age()
        return f"data collected {self.collected_at}" + (f" ({age} before this report)" if age else "")

    def data_age(self) -> str:
        """How old the data was when the report was made ("2 h 5 min"), or "" when unknown."""
        collected = _parse_time(self.collected_at)
        created = _parse_time(self.created)
        if collected is None or created is None:
            return ""
        seconds = int((created - collected).total_seconds())
        if seconds < 60:
            return "less than a minute" if seconds >= 0 else "collected after the report (clock skew)"
        minutes, _ = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        days, hours = divmod(hours, 24)
        parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
        return " ".join(p for p in parts if p)

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for result in self.results:
            counts[result.status.value] += 1
        return counts

    def ordered(self) -> tuple[CheckResult, ...]:
        """Worst first, then by id: the order every human-facing renderer uses."""
        return tuple(sorted(self.results, key=lambda r: (-r.status.rank, r.id)))

    def verdict(self) -> str:
        counts = self.counts()
        parts = ", ".join(f"{counts[s.value]} {s.label}" for s in reversed(Status) if counts[s.value])
        planned = self.plan.summary()
        plan_text = f"; plan: {planned}" if planned else ""
        # Against a baseline a failing check can pass the gate: say why in the same line.
        review = self.review
        review_text = (
            f"; against the baseline: {len(review.new)} new, {len(review.unchanged)} known"
            if review is not None
            else ""
        )
        verdict = (
            f"Storage readiness gate {VERDICT_LABELS[self.verdict_key]} "
            f"({parts or 'no checks'}{plan_text}{review_text})"
        )
        gaps = self.gaps()
        if gaps:
            allowed = " (allowed by --allow-partial)" if self.allow_partial else ""
            verdict += f"; incomplete: {gaps}{allowed}"
        return verdict


# The engine joins the reasons of one check that could not look (one per unreadable kind) with
# "; " (kfstor/engine/runner.py _unseen); the verdict lists each reason once across all checks.
_REASON_SEPARATOR = "; "
_FORBIDDEN = "forbidden: list "


def _distinct_reasons(reasons: Iterable[str]) -> str:
    """ "forbidden: list a, b; not discovered: ...": every distinct reason once, sorted; the kinds
    that were forbidden to list grouped under one "forbidden: list"."""
    distinct = sorted({part for reason in reasons for part in reason.split(_REASON_SEPARATOR) if part})
    forbidden = [part.removeprefix(_FORBIDDEN) for part in distinct if part.startswith(_FORBIDDEN)]
    others = [part for part in distinct if not part.startswith(_FORBIDDEN)]
    groups = ([_FORBIDDEN + ", ".join(forbidden)] if forbidden else []) + others
    return _REASON_SEPARATOR.join(sorted(groups))


def _parse_time(text: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)
