"""The report every renderer formats: the check results of one audit, where the data came from,
and the facts view the inventory is read from.

The engine makes it; renderers only format it. The gate (exit code and verdict) is decided here,
once, so every format states the same verdict.
"""

from __future__ import annotations

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
        if fail_on is not FailOn.NEVER:
            failing = {Status.FAIL} if fail_on is FailOn.FAIL else {Status.WARN, Status.FAIL}
            if any(r.status in failing for r in self.results):
                return EXIT_GATE_FAILED
            # A planned claim predicted to stay Pending (unknown, with --fail-on warn) fails the gate
            # even when no selected check reports it: the install would hang.
            if self.plan.status in failing:
                return EXIT_GATE_FAILED
        if self.not_evaluated() and not self.allow_partial:
            return EXIT_INCOMPLETE
        return EXIT_OK

    def gaps(self) -> str:
        """ "2 checks not evaluated: forbidden: list csidrivers, forbidden: list persistentvolumes"."""
        missing = self.not_evaluated()
        if not missing:
            return ""
        reasons = ", ".join(dict.fromkeys(r.reason for r in sorted(missing, key=lambda r: r.reason)))
        noun = "check" if len(missing) == 1 else "checks"
        return f"{len(missing)} {noun} not evaluated: {reasons}"

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
        code = self.exit_status
        gate = {EXIT_OK: "PASSED", EXIT_INCOMPLETE: "INCOMPLETE"}.get(code, "FAILED")
        planned = self.plan.summary()
        plan_text = f"; plan: {planned}" if planned else ""
        verdict = f"Storage readiness gate {gate} ({parts or 'no checks'}{plan_text})"
        gaps = self.gaps()
        if gaps:
            allowed = " (allowed by --allow-partial)" if self.allow_partial else ""
            verdict += f"; incomplete: {gaps}{allowed}"
        return verdict
