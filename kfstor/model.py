"""The values every part of kfstor shares: statuses, findings, checks, results and the report.

Pure data, no I/O. Checks build findings with ok()/warn()/fail()/skip(); the runner turns them
into CheckResults; renderers read a Report.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kfstor.collect.snapshot import Snapshot
    from kfstor.render.inventory import Inventory

K8sObject = Mapping[str, Any]


class Status(enum.Enum):
    """Outcome of a finding or a check. Declaration order is severity order (worst last).

    SKIP means not applicable (nothing to judge); NOT_EVALUATED means the check could not look
    (a kind it needs was forbidden or unreadable, or discovery was refused): the gate never
    passes it as if it had been judged (exit 4 unless --allow-partial).
    """

    SKIP = "skip"
    PASS = "pass"
    WARN = "warn"
    NOT_EVALUATED = "not_evaluated"
    FAIL = "fail"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def label(self) -> str:
        """For people: "not evaluated", not the identifier."""
        return self.value.replace("_", " ")

    def __str__(self) -> str:
        return self.value


_RANK = {status: index for index, status in enumerate(Status)}


def worst(statuses: Iterable[Status], default: Status = Status.SKIP) -> Status:
    return max(statuses, key=lambda s: s.rank, default=default)


@dataclass(frozen=True, slots=True, order=True)
class Ref:
    """Which Kubernetes object a finding is about. Cluster-wide findings use kind "Cluster"."""

    kind: str
    name: str
    namespace: str | None = None

    def __str__(self) -> str:
        if self.kind == "Cluster":
            return "cluster"
        if self.namespace:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"

    @classmethod
    def of(cls, obj: K8sObject) -> Ref:
        meta = obj.get("metadata") or {}
        if not isinstance(meta, Mapping):
            meta = {}
        namespace = meta.get("namespace")
        return cls(
            kind=str(obj.get("kind") or "Object"),
            name=str(meta.get("name") or ""),
            namespace=str(namespace) if namespace else None,
        )


CLUSTER = Ref("Cluster", "")


@dataclass(frozen=True, slots=True)
class Waiver:
    """An accepted risk from kfstor.yaml: a check id, an object, a reason and an end date."""

    check: str
    object: str
    reason: str
    expires: dt.date | None = None

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires


@dataclass(frozen=True, slots=True)
class Finding:
    """One judgement about one object. `waived` holds the waiver that turned a warn/fail into pass;
    `note` carries runner remarks such as an expired waiver or a status override."""

    status: Status
    ref: Ref
    message: str
    waived: Waiver | None = None
    original_status: Status | None = None
    note: str = ""


def _finding(status: Status, subject: K8sObject | Ref, message: str) -> Finding:
    ref = subject if isinstance(subject, Ref) else Ref.of(subject)
    return Finding(status=status, ref=ref, message=message)


def ok(subject: K8sObject | Ref, message: str) -> Finding:
    return _finding(Status.PASS, subject, message)


def warn(subject: K8sObject | Ref, message: str) -> Finding:
    return _finding(Status.WARN, subject, message)


def fail(subject: K8sObject | Ref, message: str) -> Finding:
    return _finding(Status.FAIL, subject, message)


def skip(subject: K8sObject | Ref, message: str) -> Finding:
    return _finding(Status.SKIP, subject, message)


@dataclass(frozen=True, slots=True)
class Context:
    """What a check may know besides the snapshot: the Kubeflow namespace and its own options."""

    namespace: str = "kubeflow"
    options: Mapping[str, Any] = field(default_factory=dict)

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


Evaluate = Callable[["Snapshot", Context], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Check:
    """A check's metadata and its pure evaluate function.

    `kinds` must be readable for the check to run (a forbidden or unreadable kind makes it
    not_evaluated; an API that is not installed, skip); `optional_kinds` are used when present and
    collected when available.
    """

    id: str
    title: str
    kinds: tuple[str, ...]
    evaluate: Evaluate
    description: str
    remediation: str
    optional_kinds: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    origin: str = "builtin"

    @property
    def all_kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.kinds + self.optional_kinds))

    @property
    def summary(self) -> str:
        """First paragraph of the description, on one line."""
        first = self.description.strip().split("\n\n", 1)[0]
        return " ".join(first.split())


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: Check
    status: Status
    findings: tuple[Finding, ...]
    reason: str = ""  # why the check was skipped or errored, empty otherwise

    @property
    def id(self) -> str:
        return self.check.id


@dataclass(frozen=True, slots=True)
class Source:
    """Where the snapshot came from, shown in every report header."""

    kind: str  # "cluster" or "file"
    description: str  # the server URL or the file names
    context: str = ""
    server_version: str = ""
    collected_at: str = ""  # ISO 8601 time the objects were read
    insecure_tls: bool = False  # the kubeconfig turned TLS verification off (insecure-skip-tls-verify)


class FailOn(enum.Enum):
    FAIL = "fail"
    WARN = "warn"
    NEVER = "never"


# Exit codes are part of the public interface (README, --help).
EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_CLUSTER = 3
# What a reader can do about a check that could not look.
NOT_EVALUATED_FIX = (
    "the check could not read what it needs; grant read access (`kfstor rbac` prints the ClusterRole) "
    "or rerun with --allow-partial to accept the gap"
)
EXIT_INCOMPLETE = 4  # a check could not be evaluated (forbidden or unreadable kinds), unless --allow-partial
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT)
EXIT_TERMINATED = 143  # SIGTERM


@dataclass(frozen=True, slots=True)
class AppliedConfig:
    """Which config file the run used and the waivers that turned a finding into a pass."""

    path: str = ""  # "" when no kfstor.yaml was used
    waivers: tuple[Waiver, ...] = ()


@dataclass(frozen=True, slots=True)
class Report:
    source: Source
    results: tuple[CheckResult, ...]
    created: str  # ISO 8601, when the report was made
    version: str  # kfstor version
    namespace: str
    inventory: Inventory
    notes: tuple[str, ...] = ()  # run-level remarks (kinds absent from an offline input, ...)
    fail_on: FailOn = FailOn.FAIL  # the gate this run is judged by
    allow_partial: bool = False  # --allow-partial: checks not evaluated do not fail the gate
    config: AppliedConfig = field(default_factory=AppliedConfig)

    @property
    def exit_status(self) -> int:
        return self.exit_code(self.fail_on)

    def not_evaluated(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.status is Status.NOT_EVALUATED)

    @property
    def worst(self) -> Status:
        return worst((r.status for r in self.results), default=Status.PASS)

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for result in self.results:
            counts[result.status.value] += 1
        return counts

    def ordered(self) -> tuple[CheckResult, ...]:
        """Worst first, then by id: the order every human-facing renderer uses."""
        return tuple(sorted(self.results, key=lambda r: (-r.status.rank, r.id)))

    def exit_code(self, fail_on: FailOn) -> int:
        """1 when an evaluated check fails the gate (or crashed), else 4 when a check could not be
        evaluated (unless --allow-partial), else 0. A failure wins: it is certain, the gaps are not."""
        if any(r.status is Status.ERROR for r in self.results):
            return EXIT_GATE_FAILED
        if fail_on is not FailOn.NEVER:
            failing = {Status.FAIL} if fail_on is FailOn.FAIL else {Status.WARN, Status.FAIL}
            if any(r.status in failing for r in self.results):
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

    def verdict(self) -> str:
        counts = self.counts()
        parts = ", ".join(f"{counts[s.value]} {s.label}" for s in reversed(Status) if counts[s.value])
        code = self.exit_status
        gate = {EXIT_OK: "PASSED", EXIT_INCOMPLETE: "INCOMPLETE"}.get(code, "FAILED")
        verdict = f"Storage readiness gate {gate} ({parts or 'no checks'})"
        gaps = self.gaps()
        if gaps:
            allowed = " (allowed by --allow-partial)" if self.allow_partial else ""
            verdict += f"; incomplete: {gaps}{allowed}"
        return verdict
