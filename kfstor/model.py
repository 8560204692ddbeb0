"""The values every part of kfstor shares: statuses, verdicts, findings, checks and their results.

Pure data, no I/O, and no import of any other kfstor module (tests/test_layers.py). Checks judge
with small functions that return a Verdict, combine them with worst(), and build findings with
finding() (ok/warn/fail/skip are its shorthands); the runner turns them into CheckResults.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

K8sObject = Mapping[str, Any]
# Where Kubeflow lives unless --namespace or kfstor.yaml says otherwise.
DEFAULT_NAMESPACE = "kubeflow"


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


def one_line(value: object, limit: int = 300) -> str:
    """Text for a one-line message: whitespace runs collapsed, at most `limit` characters."""
    return " ".join(str(value).split())[:limit]


def utc_timestamp(when: dt.datetime | None = None) -> str:
    """RFC 3339 in UTC to the second ("2026-12-01T10:00:00Z"), as Kubernetes writes times."""
    moment = when or dt.datetime.now(dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


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
    """An accepted risk from kfstor.yaml: what it covers (a check id, a problem code, or both; one
    object, or every object when `object` is empty), a reason and an end date."""

    check: str
    object: str
    reason: str
    expires: dt.date | None = None
    code: str = ""

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires

    def covers(self, check_id: str, finding: Finding) -> bool:
        if self.check and self.check != check_id:
            return False
        if self.code and self.code != finding.code:
            return False
        return not self.object or self.object == str(finding.ref)

    @property
    def target(self) -> str:
        """What the waiver names, as reports print it ("KFS-DB-RECLAIM-DELETE on PersistentVolumeClaim/...")."""
        what = " ".join(part for part in (self.check, self.code) if part)
        return f"{what} on {self.object}" if self.object else f"{what} on every object"


# A problem code names one distinct problem a check can report ("KFS-DEFAULT-NONE"): the same on
# every object it applies to and in every format. Codes are upper case, dash separated.
CODE_PATTERN = r"^KFS-[A-Z0-9]+(-[A-Z0-9]+)*$"


@dataclass(frozen=True, slots=True)
class Code:
    """One entry of a check's problem catalogue, printed by `kfstor explain CODE`."""

    id: str
    title: str  # a few words: "No default StorageClass"
    meaning: str  # what kfstor saw
    why: str  # why it matters for Kubeflow
    fix: str  # how to fix it, in general (findings carry the concrete commands)
    links: tuple[str, ...] = ()  # Kubernetes or driver documentation


@dataclass(frozen=True, slots=True)
class Fix:
    """A concrete remedy for one finding: shell commands to paste, with the real object names, and
    the documentation that explains them. `text` is advice for what no command can do."""

    commands: tuple[str, ...] = ()
    docs: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class Cause:
    """The finding that caused another one: its problem code and object (a Pending claim is caused
    by KFS-DEFAULT-NONE on the cluster). Reports group the caused finding under its cause."""

    code: str
    ref: Ref

    def __str__(self) -> str:
        return f"{self.code} on {self.ref}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One judgement about one object: one problem (its `code`), its concrete `fix`, and the finding
    that caused it (`caused_by`), when known. `waived` holds the waiver that turned a warn/fail into
    pass; `note` carries runner remarks such as an expired waiver or a status override."""

    status: Status
    ref: Ref
    message: str
    waived: Waiver | None = None
    original_status: Status | None = None
    note: str = ""
    code: str = ""
    caused_by: Cause | None = None
    fix: Fix | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a judge function decides about one aspect of one object (with its problem code, fix and
    cause when it is a problem)."""

    status: Status
    message: str
    code: str = ""
    fix: Fix | None = None
    caused_by: Cause | None = None


def finding(
    status: Status,
    subject: K8sObject | Ref,
    message: str,
    *,
    code: str = "",
    fix: Fix | None = None,
    caused_by: Cause | None = None,
) -> Finding:
    """The one finding constructor: a status and a message about an object (or a Ref), with the
    problem's code, its concrete fix and its cause."""
    ref = subject if isinstance(subject, Ref) else Ref.of(subject)
    return Finding(status=status, ref=ref, message=message, code=code, fix=fix, caused_by=caused_by)


def judged(subject: K8sObject | Ref, verdict: Verdict) -> Finding:
    return finding(
        verdict.status, subject, verdict.message, code=verdict.code, fix=verdict.fix, caused_by=verdict.caused_by
    )


def ok(subject: K8sObject | Ref, message: str, **extra: Any) -> Finding:
    return finding(Status.PASS, subject, message, **extra)


def warn(subject: K8sObject | Ref, message: str, **extra: Any) -> Finding:
    return finding(Status.WARN, subject, message, **extra)


def fail(subject: K8sObject | Ref, message: str, **extra: Any) -> Finding:
    return finding(Status.FAIL, subject, message, **extra)


def skip(subject: K8sObject | Ref, message: str, **extra: Any) -> Finding:
    return finding(Status.SKIP, subject, message, **extra)


@dataclass(frozen=True, slots=True)
class Context:
    """What a check may know besides the snapshot: the Kubeflow namespace and its own options."""

    namespace: str = DEFAULT_NAMESPACE
    options: Mapping[str, Any] = field(default_factory=dict)

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


# A check's evaluate(facts, ctx): `facts` is the audit's kfstor.facts.view.Facts (typed Any here
# because this module imports nothing of kfstor).
Evaluate = Callable[[Any, Context], Iterable[Finding]]


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
    # The smallest value a numeric option accepts: kfstor.yaml is refused (exit 2) below it.
    option_minimums: Mapping[str, int | float] = field(default_factory=dict)
    origin: str = "builtin"
    codes: tuple[Code, ...] = ()  # the problems this check can report (kfstor explain)

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


# How bad each exit code is when a fleet run (several clusters) combines its clusters' codes into
# "the worst of the clusters": an incomplete cluster is worse than a pass; a failed gate is worse
# than an incomplete one, as for one cluster (a failure is certain, a gap is not); a cluster that
# could not be read is worse than a judged one; and a context whose kubeconfig entry is unusable (a
# configuration error) is worst. Codes this table does not know rank just above a failed gate.
EXIT_SEVERITY = (EXIT_OK, EXIT_INCOMPLETE, EXIT_GATE_FAILED, EXIT_CLUSTER, EXIT_USAGE)


@dataclass(frozen=True, slots=True)
class AppliedConfig:
    """Which config file the run used, the waivers that turned a finding into a pass, and every
    waiver the file declares (a review lists them all, applied or not)."""

    path: str = ""  # "" when no kfstor.yaml was used
    waivers: tuple[Waiver, ...] = ()
    declared: tuple[Waiver, ...] = ()


def worst_exit(codes: Iterable[int]) -> int:
    def rank(code: int) -> float:
        return EXIT_SEVERITY.index(code) if code in EXIT_SEVERITY else EXIT_SEVERITY.index(EXIT_GATE_FAILED) + 0.5

    return max(codes, key=rank, default=EXIT_OK)
