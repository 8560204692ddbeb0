"""The report every renderer formats: the check results of one audit, where the data came from,
and the facts view the inventory is read from.

The engine makes it; renderers only format it. The gate (exit code and verdict) is decided here,
once, so every format states the same verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from kfstor.collect.snapshot import Source
from kfstor.facts.plan import Plan
from kfstor.facts.view import Facts
from kfstor.model import EXIT_GATE_FAILED, EXIT_OK, CheckResult, FailOn, Status
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
        if any(r.status is Status.ERROR for r in self.results):
            return EXIT_GATE_FAILED
        if self.fail_on is FailOn.NEVER:
            return EXIT_OK
        threshold = Status.WARN if self.fail_on is FailOn.WARN else Status.FAIL
        if any(r.status.rank >= threshold.rank for r in self.results):
            return EXIT_GATE_FAILED
        # A planned claim predicted to stay Pending (unknown, with --fail-on warn) fails the gate
        # even when no selected check reports it: the install would hang.
        if self.plan.status.rank >= threshold.rank:
            return EXIT_GATE_FAILED
        return EXIT_OK

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
        parts = ", ".join(f"{counts[s.value]} {s.value}" for s in reversed(Status) if counts[s.value])
        gate = "FAILED" if self.exit_status else "PASSED"
        planned = self.plan.summary()
        plan_text = f"; plan: {planned}" if planned else ""
        return f"Storage readiness gate {gate} ({parts or 'no checks'}{plan_text})"
