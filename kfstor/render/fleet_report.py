"""What a fleet run (several clusters in one run) hands the renderers: one ClusterRun per context,
with its Report or the one-line reason there is none, and the combined gate."""

from __future__ import annotations

from dataclasses import dataclass

from kfstor.model import EXIT_CLUSTER, EXIT_INCOMPLETE, EXIT_OK, FailOn, worst_exit
from kfstor.render.report import Report


@dataclass(frozen=True, slots=True)
class ClusterRun:
    """One cluster of a fleet run: its report, or the one-line reason there is none."""

    context: str
    server: str  # from the kubeconfig or the connection, without credentials
    exit_code: int  # the report's gate, or 2/3 when it could not be audited
    duration: float  # seconds this cluster's audit took
    report: Report | None = None
    error: str = ""

    @property
    def state(self) -> str:
        """passed, failed, incomplete (exit 4: checks not evaluated), unreachable (exit 3) or error
        (any other reason there is no report)."""
        if self.report is not None:
            if self.exit_code == EXIT_INCOMPLETE:
                return "incomplete"
            return "passed" if self.exit_code == EXIT_OK else "failed"
        return "unreachable" if self.exit_code == EXIT_CLUSTER else "error"


@dataclass(frozen=True, slots=True)
class FleetReport:
    """Several clusters audited in one run, in the order they were named."""

    runs: tuple[ClusterRun, ...]
    created: str  # ISO 8601, when the run ended
    version: str  # kfstor version
    fail_on: FailOn
    duration: float  # seconds, wall time of the whole run

    @property
    def exit_status(self) -> int:
        return worst_exit(run.exit_code for run in self.runs)

    def states(self) -> dict[str, int]:
        states = {"passed": 0, "failed": 0, "incomplete": 0, "unreachable": 0, "error": 0}
        for run in self.runs:
            states[run.state] += 1
        return states

    def verdict(self) -> str:
        parts = ", ".join(f"{count} {state}" for state, count in self.states().items() if count)
        gate = "FAILED" if self.exit_status else "PASSED"
        return f"Fleet storage readiness gate {gate} ({len(self.runs)} clusters: {parts or 'none'})"
