"""The runner: isolation of crashing checks, skips on unreadable kinds, overrides, waivers, gate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import pytest

from kfstor import CLUSTER, Check, Context, Finding, Ref, Snapshot, Status, fail, ok, warn
from kfstor.collect.snapshot import Source, build
from kfstor.engine import runner
from kfstor.engine.config import CheckConfig, Config, ConfigError
from kfstor.model import FailOn, Waiver

SOURCE = Source("file", "test.yaml")
PVC_A = {"kind": "PersistentVolumeClaim", "metadata": {"name": "a", "namespace": "kubeflow"}}
PVC_B = {"kind": "PersistentVolumeClaim", "metadata": {"name": "b", "namespace": "kubeflow"}}


def snapshot(unavailable: dict[str, str] | None = None) -> Snapshot:
    return build([PVC_A, PVC_B], SOURCE, collected=frozenset({"PersistentVolumeClaim"}), unavailable=unavailable)


def per_claim(snap: Snapshot, ctx: Context) -> Iterator[Finding]:
    limit = ctx.option("limit")
    for pvc in snap.of("PersistentVolumeClaim"):
        name = pvc["metadata"]["name"]
        yield (fail if name == "a" else warn)(pvc, f"claim {name} over limit {limit}")


def crashing(snap: Snapshot, ctx: Context) -> Iterator[Finding]:
    yield ok(CLUSTER, "fine so far")
    raise KeyError("spec")


def make(check_id: str, evaluate, kinds=("PersistentVolumeClaim",), options=None) -> Check:  # type: ignore[no-untyped-def]
    return Check(
        id=check_id,
        title=check_id.title(),
        kinds=kinds,
        evaluate=evaluate,
        description="d",
        remediation="r",
        options=options or {},
    )


CLAIMS = make("claims", per_claim, options={"limit": 3})
CRASH = make("crash", crashing)


def test_crash_is_recorded_and_others_still_run() -> None:
    report = runner.run([CRASH, CLAIMS], snapshot())
    by_id = {r.id: r for r in report.results}
    assert by_id["crash"].status is Status.ERROR
    assert by_id["crash"].reason == "KeyError: 'spec'"
    assert by_id["claims"].status is Status.FAIL
    lenient = runner.run([CRASH, CLAIMS], snapshot(), fail_on=FailOn.NEVER)
    assert lenient.exit_status == 1  # a crashed check never lets the gate pass


def test_findings_sorted_worst_first_and_options_merged() -> None:
    report = runner.run([CLAIMS], snapshot(), config=Config(checks={"claims": CheckConfig(options={"limit": 9})}))
    findings = report.results[0].findings
    assert [(str(f.ref), f.status) for f in findings] == [
        ("PersistentVolumeClaim/kubeflow/a", Status.FAIL),
        ("PersistentVolumeClaim/kubeflow/b", Status.WARN),
    ]
    assert findings[0].message == "claim a over limit 9"


def test_unknown_option_is_a_config_error() -> None:
    config = Config(checks={"claims": CheckConfig(options={"limt": 2})}, path="kfstor.yaml")
    with pytest.raises(
        ConfigError, match=r"kfstor.yaml: checks.claims.options: unknown option\(s\) limt \(known: limit\)"
    ):
        runner.run([CLAIMS], snapshot(), config=config)


def test_unreadable_kind_is_not_evaluated_with_reason() -> None:
    snap = snapshot({"PersistentVolumeClaim": "forbidden: list persistentvolumeclaims"})
    report = runner.run([CLAIMS], snap)
    result = report.results[0]
    assert (result.status, result.reason, result.findings) == (
        Status.NOT_EVALUATED,
        "forbidden: list persistentvolumeclaims",
        (),
    )
    assert report.exit_status == 4
    assert report.verdict() == (
        "Storage readiness gate INCOMPLETE (1 not evaluated); "
        "incomplete: 1 check not evaluated: forbidden: list persistentvolumeclaims"
    )
    allowed = runner.run([CLAIMS], snap, allow_partial=True)
    assert allowed.exit_status == 0
    assert allowed.verdict() == (
        "Storage readiness gate PASSED (1 not evaluated); incomplete: 1 check not evaluated: "
        "forbidden: list persistentvolumeclaims (allowed by --allow-partial)"
    )


def test_the_incomplete_verdict_names_each_reason_once() -> None:
    """Checks that each could not read several kinds: the verdict lists every distinct reason once,
    sorted, the forbidden kinds under one "forbidden: list", not each check's whole reason."""
    snap = snapshot(
        {
            "PersistentVolumeClaim": "forbidden: list persistentvolumeclaims",
            "StorageClass": "forbidden: list storageclasses",
            "PersistentVolume": "not served: /api/v1/persistentvolumes",
        }
    )
    both = ("StorageClass", "PersistentVolumeClaim")
    checks = [
        make("c1", per_claim, kinds=both),
        make("c2", per_claim, kinds=("PersistentVolumeClaim", "StorageClass")),
        make("c3", per_claim, kinds=("StorageClass",)),
        make("c4", per_claim, kinds=(*both, "PersistentVolume")),
    ]
    report = runner.run(checks, snap)
    reasons = {r.id: r.reason for r in report.results}
    assert reasons == {  # each check keeps its own whole reason (JSON gate.not_evaluated, the tables)
        "c1": "forbidden: list storageclasses; forbidden: list persistentvolumeclaims",
        "c2": "forbidden: list persistentvolumeclaims; forbidden: list storageclasses",
        "c3": "forbidden: list storageclasses",
        "c4": "forbidden: list storageclasses; forbidden: list persistentvolumeclaims; "
        "not served: /api/v1/persistentvolumes",
    }
    assert report.exit_status == 4
    assert report.gaps() == (
        "4 checks not evaluated: forbidden: list persistentvolumeclaims, storageclasses; "
        "not served: /api/v1/persistentvolumes"
    )
    assert report.verdict() == "Storage readiness gate INCOMPLETE (4 not evaluated); incomplete: " + report.gaps()
    only_forbidden = runner.run(checks[:3], snap)
    assert only_forbidden.gaps() == "3 checks not evaluated: forbidden: list persistentvolumeclaims, storageclasses"


@pytest.mark.parametrize(
    "reason",
    ["not served: /api/v1/persistentvolumeclaims", "not discovered: /apis answered 403 Forbidden"],
)
def test_unreadable_for_any_reason_is_not_evaluated(reason: str) -> None:
    result = runner.run([CLAIMS], snapshot({"PersistentVolumeClaim": reason})).results[0]
    assert (result.status, result.reason) == (Status.NOT_EVALUATED, reason)


def test_an_api_that_is_not_installed_is_not_applicable() -> None:
    reason = "not installed: kubeflow.org API (notebooks) is not served"
    report = runner.run([CLAIMS], snapshot({"PersistentVolumeClaim": reason}))
    assert (report.results[0].status, report.results[0].reason) == (Status.SKIP, reason)
    assert report.exit_status == 0


def _partly_seen(fail_on: FailOn, allow_partial: bool, statuses: tuple[Status, ...]) -> int:
    def evaluate(snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        for i, status in enumerate(statuses):
            yield Finding(status, Ref("StorageClass", f"sc{i}"), status.value)

    blind = make("blind", per_claim, kinds=("PersistentVolume",))
    snap = snapshot({"PersistentVolume": "forbidden: list persistentvolumes"})
    report = runner.run([make("seen", evaluate), blind], snap, fail_on=fail_on, allow_partial=allow_partial)
    return report.exit_status


@pytest.mark.parametrize(
    ("statuses", "fail_on", "allow_partial", "code"),
    [
        ((Status.PASS,), FailOn.FAIL, False, 4),  # a gap never passes
        ((Status.PASS,), FailOn.FAIL, True, 0),  # unless accepted
        ((Status.FAIL,), FailOn.FAIL, False, 1),  # an evaluated failure wins
        ((Status.WARN,), FailOn.WARN, False, 1),
        ((Status.WARN,), FailOn.FAIL, False, 4),
        ((Status.FAIL,), FailOn.NEVER, False, 4),  # --fail-on never does not accept gaps
        ((Status.FAIL,), FailOn.NEVER, True, 0),
        ((Status.ERROR,), FailOn.NEVER, True, 1),  # a crash never passes
    ],
)
def test_gate_with_checks_not_evaluated(
    statuses: tuple[Status, ...], fail_on: FailOn, allow_partial: bool, code: int
) -> None:
    assert _partly_seen(fail_on, allow_partial, statuses) == code


def test_status_overrides() -> None:
    lowered = runner.run([CLAIMS], snapshot(), config=Config(checks={"claims": CheckConfig(status="warn")}))
    assert [f.status for f in lowered.results[0].findings] == [Status.WARN, Status.WARN]
    assert lowered.results[0].findings[0].note == "fail lowered to warn by kfstor.yaml"
    raised = runner.run([CLAIMS], snapshot(), config=Config(checks={"claims": CheckConfig(status="fail")}))
    assert [f.status for f in raised.results[0].findings] == [Status.FAIL, Status.FAIL]
    off = runner.run([CLAIMS], snapshot(), config=Config(checks={"claims": CheckConfig(status="off")}))
    assert (off.results[0].status, off.results[0].reason) == (Status.SKIP, "turned off in kfstor.yaml")


def test_waivers_apply_until_they_expire() -> None:
    today = dt.date(2026, 11, 28)
    active = Waiver("claims", "PersistentVolumeClaim/kubeflow/a", "accepted until migration", dt.date(2026, 12, 31))
    expired = Waiver("claims", "PersistentVolumeClaim/kubeflow/b", "old exception", dt.date(2026, 1, 31))
    unused = Waiver("claims", "PersistentVolumeClaim/kubeflow/zzz", "typo", None)
    report = runner.run([CLAIMS], snapshot(), config=Config(waivers=(active, expired, unused)), today=today)
    findings = {str(f.ref): f for f in report.results[0].findings}
    a = findings["PersistentVolumeClaim/kubeflow/a"]
    assert (a.status, a.original_status, a.waived) == (Status.PASS, Status.FAIL, active)
    b = findings["PersistentVolumeClaim/kubeflow/b"]
    assert (b.status, b.waived, b.note) == (Status.WARN, None, "waiver expired on 2026-01-31: old exception")
    assert report.results[0].status is Status.WARN
    assert report.notes == ("waiver for claims on PersistentVolumeClaim/kubeflow/zzz matched no warn or fail finding",)


@pytest.mark.parametrize(
    ("statuses", "fail_on", "code"),
    [
        ((Status.PASS, Status.WARN), FailOn.FAIL, 0),
        ((Status.PASS, Status.WARN), FailOn.WARN, 1),
        ((Status.FAIL,), FailOn.FAIL, 1),
        ((Status.FAIL,), FailOn.NEVER, 0),
        ((Status.SKIP,), FailOn.WARN, 0),
    ],
)
def test_gate(statuses: tuple[Status, ...], fail_on: FailOn, code: int) -> None:
    def evaluate(snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        for i, status in enumerate(statuses):
            yield Finding(status, Ref("StorageClass", f"sc{i}"), status.value)

    report = runner.run([make("gate", evaluate)], snapshot(), fail_on=fail_on)
    assert report.exit_status == code
    assert report.verdict().startswith("Storage readiness gate " + ("FAILED" if code else "PASSED"))


def test_no_findings_is_skip_with_reason() -> None:
    result = runner.run([make("empty", lambda snap, ctx: iter(()))], snapshot()).results[0]
    assert (result.status, result.reason) == (Status.SKIP, "nothing to check")


def test_plain_kubectl_input_notes_absent_kinds() -> None:
    snap = build([PVC_A], SOURCE)
    check = make("needs", per_claim, kinds=("PersistentVolumeClaim", "CSIDriver"))
    report = runner.run([check], snap)
    assert report.notes == ("the input has no CSIDriver objects; they were taken to be absent from the cluster",)


def test_refused_discovery_leaves_checks_using_optional_apis_not_evaluated() -> None:
    reason = "not discovered: /apis answered 403 Forbidden"
    uses = make("uses_snapshots", per_claim)
    uses = replace(uses, optional_kinds=("VolumeSnapshotClass",))
    other = make("plain", per_claim)
    snap = snapshot({"VolumeSnapshotClass": reason})
    report = runner.run([uses, other], snap, fail_on=FailOn.NEVER)
    by_id = {r.id: r for r in report.results}
    assert (by_id["uses_snapshots"].status, by_id["uses_snapshots"].reason) == (Status.NOT_EVALUATED, reason)
    assert by_id["plain"].status is Status.FAIL  # judged: it does not need discovery
    assert report.exit_status == 4
    # A forbidden optional kind is the check's to handle (it still runs); only discovery gaps stop it.
    forbidden = runner.run([uses], snapshot({"VolumeSnapshotClass": "forbidden: list volumesnapshotclasses"}))
    assert forbidden.results[0].status is Status.FAIL
