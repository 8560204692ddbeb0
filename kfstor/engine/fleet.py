"""Several clusters in one run: each kubeconfig context audited (or snapshotted) concurrently.

Every cluster runs on its own thread, at most `parallel` at once, with its own deadline
(`cluster_timeout`, counted from when its turn starts) and its own error handling: a cluster that
is unreachable, refuses the credentials, has a broken kubeconfig entry or runs out of time is
recorded with its one-line reason and exit code, and the other clusters are still audited.

The time a cluster takes is almost all waiting for its API server, so threads overlap well; the
checks themselves are pure and each cluster has its own snapshot.

A deadline is enforced twice: the cluster's requests are given at most the whole budget each, and
its collector is told to stop at its next step (the progress callback raises). Should a cluster
still be busy (a request in flight, a hung exec credential plugin), it is reported as timed out
at its deadline and its thread is abandoned; `FleetOutcome.abandoned` lets the caller end the
process without waiting for it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from kfstor import __version__
from kfstor.collect.cluster import ClusterError, KubeconfigError, Target, collect
from kfstor.collect.contexts import KubeContext
from kfstor.collect.snapshot import Snapshot
from kfstor.engine import runner
from kfstor.engine.config import Config, ConfigError
from kfstor.model import EXIT_CLUSTER, EXIT_GATE_FAILED, EXIT_USAGE, Check, FailOn
from kfstor.render.fleet_report import ClusterRun, FleetReport

# Ten clusters at once: the time is almost all waiting on API servers, so ten overlap on a small
# machine (benchmarks/fleet_bench.py); fleets larger than that queue.
DEFAULT_PARALLEL = 10
DEFAULT_CLUSTER_TIMEOUT = 300.0

T = TypeVar("T")


class Timeout(Exception):
    """Raised inside a cluster's work when its deadline has passed."""


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What one cluster's work gave: a value, or an exit code and a one-line reason."""

    member: KubeContext
    duration: float
    value: T | None = None
    exit_code: int = 0
    error: str = ""


@dataclass
class _Slot(Generic[T]):
    member: KubeContext
    started: float | None = None
    done: bool = False
    outcome: Outcome[T] | None = None
    stop: threading.Event = field(default_factory=threading.Event)


def _failure(exc: BaseException, timeout: float) -> tuple[int, str]:
    if isinstance(exc, Timeout):
        return EXIT_CLUSTER, f"no complete answer within --cluster-timeout {timeout:g}s"
    if isinstance(exc, (KubeconfigError, ConfigError)):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, ClusterError):
        return EXIT_CLUSTER, str(exc)
    summary = " ".join(str(exc).split())[:300]
    return EXIT_GATE_FAILED, f"audit crashed: {type(exc).__name__}" + (f": {summary}" if summary else "")


def run_all(
    members: Sequence[KubeContext],
    work: Callable[[KubeContext, Callable[[], None]], T],
    parallel: int = DEFAULT_PARALLEL,
    timeout: float = DEFAULT_CLUSTER_TIMEOUT,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[Outcome[T]], int]:
    """Run work(member, checkpoint) for every member, at most `parallel` at once, each within
    `timeout` seconds of its start. `checkpoint()` raises Timeout once the member's time is up.
    Returns the outcomes in member order and how many threads were abandoned still running."""
    say = progress or (lambda _message: None)
    lock = threading.Condition(threading.RLock())  # re-entrant: the main thread finishes late slots
    turns = threading.Semaphore(max(1, parallel))
    slots = [_Slot[T](member) for member in members]
    finished = 0

    def finish(slot: _Slot[T], outcome: Outcome[T]) -> bool:
        """Record the outcome unless the slot already has one; the first to finish frees the turn."""
        nonlocal finished
        with lock:
            if slot.done:
                return False
            slot.done, slot.outcome = True, outcome
            finished += 1
            lock.notify_all()
        turns.release()
        say(f"{finished} of {len(slots)} clusters done")
        return True

    def worker(slot: _Slot[T]) -> None:
        turns.acquire()
        with lock:
            slot.started = time.monotonic()
            lock.notify_all()
        started = slot.started

        def checkpoint() -> None:
            if slot.stop.is_set() or time.monotonic() - started >= timeout:
                raise Timeout()

        try:
            value = work(slot.member, checkpoint)
            checkpoint()  # a result that came in after the deadline does not count
        except BaseException as exc:  # every failure is this cluster's, never the fleet's
            # A request cut short by the deadline (its timeout is the cluster's budget at most)
            # is the deadline's doing: say so, not "no answer within --request-timeout".
            late = slot.stop.is_set() or time.monotonic() - started >= timeout
            code, message = _failure(Timeout() if late else exc, timeout)
            finish(slot, Outcome(slot.member, time.monotonic() - started, exit_code=code, error=message))
            return
        finish(slot, Outcome(slot.member, time.monotonic() - started, value=value))

    threads = [
        threading.Thread(target=worker, args=(slot,), daemon=True, name=f"kfstor-{i}") for i, slot in enumerate(slots)
    ]
    for thread in threads:
        thread.start()
    late_slots: set[int] = set()
    with lock:
        while finished < len(slots):
            now = time.monotonic()
            running = [s for s in slots if s.started is not None and not s.done]
            late = [s for s in running if now - (s.started or now) >= timeout]
            for slot in late:
                slot.stop.set()
                late_slots.add(id(slot))
                code, message = _failure(Timeout(), timeout)
                finish(slot, Outcome(slot.member, timeout, exit_code=code, error=message))
            if late:
                continue
            waits = [(s.started or now) + timeout - now for s in running]
            lock.wait(timeout=min(waits) if waits else None)
    outcomes = [slot.outcome for slot in slots if slot.outcome is not None]
    abandoned = sum(
        1 for slot, thread in zip(slots, threads, strict=True) if id(slot) in late_slots and thread.is_alive()
    )
    return outcomes, abandoned


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class FleetOutcome:
    report: FleetReport
    abandoned: int  # cluster threads still running after their deadline


def audit(
    members: Sequence[KubeContext],
    checks: Sequence[Check],
    kubeconfig: str | None,
    request_timeout: float,
    *,
    cluster_timeout: float = DEFAULT_CLUSTER_TIMEOUT,
    parallel: int = DEFAULT_PARALLEL,
    config: Config | None = None,
    namespace: str | None = None,
    notes: Sequence[str] = (),
    fail_on: FailOn = FailOn.FAIL,
    progress: Callable[[str], None] | None = None,
) -> FleetOutcome:
    """Audit every context; one combined FleetReport, clusters in the order given."""
    kinds = sorted({k for c in checks for k in c.all_kinds})
    per_request = min(request_timeout, cluster_timeout)
    started = time.monotonic()

    def one(member: KubeContext, checkpoint: Callable[[], None]) -> ClusterRun:
        snap = collect(kinds, Target(kubeconfig, member.name, per_request), progress=lambda _m: checkpoint())
        checkpoint()
        report = runner.run(checks, snap, config=config, namespace=namespace, notes=notes, fail_on=fail_on)
        return ClusterRun(member.name, snap.source.description, report.exit_status, 0.0, report=report)

    outcomes, abandoned = run_all(members, one, parallel, cluster_timeout, progress)
    runs = []
    for outcome in outcomes:
        if outcome.value is not None:
            run = outcome.value
            runs.append(ClusterRun(run.context, run.server, run.exit_code, outcome.duration, report=run.report))
        else:
            member = outcome.member
            runs.append(
                ClusterRun(member.name, member.server, outcome.exit_code, outcome.duration, error=outcome.error)
            )
    fleet = FleetReport(
        runs=tuple(runs),
        created=_now(),
        version=__version__,
        fail_on=fail_on,
        duration=time.monotonic() - started,
    )
    return FleetOutcome(fleet, abandoned)


def snapshots(
    members: Sequence[KubeContext],
    kinds: Sequence[str],
    kubeconfig: str | None,
    request_timeout: float,
    *,
    cluster_timeout: float = DEFAULT_CLUSTER_TIMEOUT,
    parallel: int = DEFAULT_PARALLEL,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[Outcome[Snapshot]], int]:
    """Collect every context's snapshot concurrently (for `kfstor snapshot` with several contexts)."""
    per_request = min(request_timeout, cluster_timeout)

    def one(member: KubeContext, checkpoint: Callable[[], None]) -> Snapshot:
        return collect(kinds, Target(kubeconfig, member.name, per_request), progress=lambda _m: checkpoint())

    return run_all(members, one, parallel, cluster_timeout, progress)


def _file_name(context: str) -> str:
    """A context name as a file name: EKS ARNs, `user@cluster` and slashes become safe characters."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", context).strip("._")
    return safe or "context"


def snapshot_paths(output: str, contexts: Sequence[str], fmt: str | None) -> dict[str, tuple[Path, str]]:
    """Where `kfstor snapshot -o OUTPUT` writes each context's file, and in which format.

    OUTPUT is a directory (existing, or ending in /) that receives <context>.yaml (or .json), or a
    name with {context} in it. Raises ValueError for anything else (one file cannot hold several
    snapshots) or when two contexts would land in the same file."""
    if output == "-":
        raise ValueError("-o -: several contexts need a directory or a name with {context} in it, not stdout")
    templated = "{context}" in output
    if not templated and not (output.endswith(("/", os.sep)) or os.path.isdir(output)):
        raise ValueError(
            f"-o {output}: with several contexts, give a directory (ending in /) or a name with {{context}} in it"
        )
    paths: dict[str, tuple[Path, str]] = {}
    owners: dict[Path, str] = {}
    for context in contexts:
        if templated:
            path = Path(output.replace("{context}", _file_name(context)))
            out_format = fmt or ("json" if path.name.lower().endswith(".json") else "yaml")
        else:
            out_format = fmt or "yaml"
            path = Path(output) / f"{_file_name(context)}.{out_format}"
        if path in owners:
            raise ValueError(f"contexts {owners[path]!r} and {context!r} would both be written to {path}")
        owners[path] = context
        paths[context] = (path, out_format)
    return paths
