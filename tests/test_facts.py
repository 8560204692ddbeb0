"""The facts view: each shared fact, exactly as every check and the inventory read it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from kfstor.collect.snapshot import Source, build, from_files
from kfstor.engine import runner
from kfstor.engine.loader import load_checks
from kfstor.facts.view import ClassSource, Facts
from kfstor.model import Ref
from kfstor.render import renderer

CHECKS = {c.id: c for c in load_checks(include_plugins=False).checks}


def sc(name: str, created: str = "2026-01-01T00:00:00Z", default: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "creationTimestamp": created}
    if default is not None:
        meta["annotations"] = {"storageclass.kubernetes.io/is-default-class": default}
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta, **extra}


def pvc(name: str, ns: str = "kubeflow", cls: str | None = None, **meta: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if cls is not None:
        spec["storageClassName"] = cls
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns, **meta},
        "spec": spec,
        "status": {"phase": "Pending"},
    }


def event(obj: str, reason: str, kind: str, at: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": "kubeflow"},
        "involvedObject": {"kind": "PersistentVolumeClaim", "name": obj, "namespace": "kubeflow"},
        "reason": reason,
        "type": kind,
        "message": reason.lower(),
        "lastTimestamp": at,
    }


def facts(*objects: dict[str, Any], unavailable: dict[str, str] | None = None) -> Facts:
    snap = build([dict(o) for o in objects], Source("file", "test"), unavailable=unavailable)
    return Facts(snap, "kubeflow")


def test_default_class_is_the_newest_honoured_one_and_lookalikes_are_named() -> None:
    view = facts(
        sc("old", "2026-01-01T00:00:00Z", "true"),
        sc("new", "2026-02-01T00:00:00Z", "true"),
        sc("almost", "2026-03-01T00:00:00Z", "True"),
        sc("off", default="false"),
    )
    assert view.default.name == "new"
    assert [c["metadata"]["name"] for c in view.default.others] == ["old"]
    assert [(i.class_name, i.value) for i in view.default.ignored] == [("almost", "True")]


def test_claim_class_sources() -> None:
    view = facts(sc("std", default="true"), sc("fast"))
    assert view.claim_class(pvc("a")).source is ClassSource.DEFAULT
    assert view.claim_class(pvc("a")).name == "std"
    assert view.claim_class(pvc("b", cls="fast")).source is ClassSource.NAMED
    missing = view.claim_class(pvc("c", cls="gone"))
    assert (missing.source, missing.name, missing.obj, missing.missing) == (ClassSource.NAMED, "gone", None, True)
    assert view.claim_class(pvc("d", cls="")).source is ClassSource.EMPTY
    legacy = pvc("e", cls="std", annotations={"volume.beta.kubernetes.io/storage-class": "fast"})
    assert view.claim_class(legacy).name == "fast"  # the legacy annotation wins, as in Kubernetes
    assert facts(sc("x")).claim_class(pvc("f")).source is ClassSource.NO_DEFAULT


def test_csi_drivers_unknown_only_when_not_read() -> None:
    csi = {"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": "ebs.csi.aws.com"}}
    gp3 = sc("gp3", provisioner="ebs.csi.aws.com")
    efs = sc("efs", provisioner="efs.csi.aws.com")
    view = facts(gp3, efs, csi)
    assert view.driver_missing(gp3) is None
    assert view.driver_missing(efs) == "efs.csi.aws.com"
    forbidden = facts(gp3, efs, unavailable={"CSIDriver": "forbidden: list csidrivers"})
    assert forbidden.csi_drivers is None
    assert forbidden.driver_missing(efs) is None
    # an external provisioner is no CSI driver: never "missing"
    assert view.driver_missing(sc("x", provisioner="example.com/nfs")) is None


def test_meaningful_event_prefers_the_newest_warning() -> None:
    view = facts(
        event("db", "Provisioning", "Normal", "2026-11-30T10:00:05Z", "e1"),
        event("db", "ProvisioningFailed", "Warning", "2026-11-30T10:00:06Z", "e2"),
        event("db", "ExternalProvisioning", "Normal", "2026-11-30T10:09:45Z", "e3"),
    )
    assert [e["reason"] for e in view.events("PersistentVolumeClaim", "kubeflow", "db")] == [
        "ExternalProvisioning",
        "ProvisioningFailed",
        "Provisioning",
    ]
    chosen = view.meaningful_event("PersistentVolumeClaim", "kubeflow", "db")
    assert chosen is not None and chosen["reason"] == "ProvisioningFailed"
    assert view.meaningful_event("PersistentVolumeClaim", "kubeflow", "other") is None


def test_waits_for_consumer_only_without_node_or_failed_attempt() -> None:
    wffc = sc("local", default="true", volumeBindingMode="WaitForFirstConsumer")
    waiting = pvc("a")
    selected = pvc("b", annotations={"volume.kubernetes.io/selected-node": "worker-1"})
    failed = pvc("c")
    view = facts(
        wffc, waiting, selected, failed, event("c", "ProvisioningFailed", "Warning", "2026-01-01T00:00:00Z", "e")
    )
    assert view.waits_for_consumer(waiting) is True
    assert view.waits_for_consumer(selected) is False
    assert view.waits_for_consumer(failed) is False
    assert facts(sc("imm", default="true"), waiting).waits_for_consumer(waiting) is False


def test_forbidden_events_are_named_not_called_expired() -> None:
    objects = (sc("std", default="true", provisioner="ebs.csi.aws.com"), pvc("mysql-pv-claim"), pvc("katib-mysql"))
    snap = build([dict(o) for o in objects], Source("file", "test"), unavailable={"Event": "forbidden: list events"})
    report = runner.run([CHECKS["kubeflow_claims"], CHECKS["claim_health"]], snap)
    messages = {(r.id, str(f.ref)): f.message for r in report.results for f in r.findings}
    claim = "PersistentVolumeClaim/kubeflow/mysql-pv-claim"
    assert messages[("kubeflow_claims", claim)].endswith("; events not readable (forbidden: list events)")
    assert messages[("claim_health", claim)].endswith("; events not readable (forbidden: list events)")
    assert "expire" not in messages[("claim_health", claim)]


def test_platform_rows_carry_class_and_volume() -> None:
    pv = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "pv-1"},
        "spec": {"claimRef": {"namespace": "kubeflow", "name": "mysql-pv-claim"}},
    }
    bound = pvc("mysql-pv-claim")
    bound["spec"]["volumeName"] = "pv-1"
    view = facts(sc("std", default="true"), bound, pv)
    platform = view.platform
    assert platform.installed
    rows = {r.claim.name: r for r in platform.claims}
    assert rows["mysql-pv-claim"].pv is pv or rows["mysql-pv-claim"].pv == pv
    assert rows["mysql-pv-claim"].class_name == "std"
    assert rows["katib-mysql"].pvc is None
    assert [r.claim.name for r in platform.databases] == ["mysql-pv-claim"]
    assert {why for _, why in platform.not_judged()} == {
        "claim kubeflow/katib-mysql does not exist; kubeflow_claims reports it"
    }
    assert not facts(sc("std", default="true")).platform.installed


def deployment(name: str, ns: str = "kubeflow") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns}, "spec": {}}


def claims_findings(view: Facts) -> dict[str, tuple[str, str, str]]:
    report = runner.run([CHECKS["kubeflow_claims"]], view.snapshot)
    return {str(f.ref): (f.status.value, f.code, f.message) for f in report.results[0].findings}


def test_a_component_is_expected_only_when_one_of_its_deployments_or_claims_exists() -> None:
    """Standalone Pipelines: Katib's claim is not expected and is reported as not installed; Katib
    only: Pipelines' claim likewise; Katib's controller without its claim: the claim fails."""
    default = sc("std", default="true", provisioner="ebs.csi.aws.com")
    pipelines = facts(default, pvc("mysql-pv-claim"), deployment("ml-pipeline"))
    assert [c.name for c in pipelines.platform.absent] == ["Katib"]
    assert [r.claim.name for r in pipelines.platform.claims] == ["mysql-pv-claim"]
    katib = "PersistentVolumeClaim/kubeflow/katib-mysql"
    status, code, message = claims_findings(pipelines)[katib]
    assert (status, code) == ("skip", "KFS-COMPONENT-NOT-INSTALLED")
    assert message.startswith("Katib is not installed (no katib-controller, katib-db-manager, katib-ui,")
    assert message.endswith("in namespace kubeflow): its katib-mysql claim is not expected")
    assert dict(pipelines.platform.not_judged())[Ref("PersistentVolumeClaim", "katib-mysql", "kubeflow")].startswith(
        "Katib is not installed"
    )

    katib_only = facts(default, pvc("katib-mysql"), deployment("katib-controller"))
    assert [c.name for c in katib_only.platform.absent] == ["Pipelines"]
    status, code, message = claims_findings(katib_only)["PersistentVolumeClaim/kubeflow/mysql-pv-claim"]
    assert (status, code) == ("skip", "KFS-COMPONENT-NOT-INSTALLED")
    assert message.startswith("Pipelines is not installed")

    controller_only = facts(default, pvc("mysql-pv-claim"), deployment("ml-pipeline"), deployment("katib-controller"))
    assert controller_only.platform.absent == ()
    status, code, message = claims_findings(controller_only)[katib]
    assert (status, code) == ("fail", "KFS-PLATFORM-CLAIM-MISSING")
    assert "does not exist although Katib is installed" in message

    # Katib's controller alone is a Kubeflow install: its claim is expected, Pipelines' is not.
    alone = facts(default, deployment("katib-controller"))
    assert alone.platform.installed
    assert claims_findings(alone)[katib][:2] == ("fail", "KFS-PLATFORM-CLAIM-MISSING")


def test_components_stay_expected_when_deployments_were_not_read() -> None:
    """A gate never calls absent what it could not see: with Deployments forbidden, or kubectl output
    holding none, Katib's missing claim still fails and the message says why it is expected."""
    objects = (sc("std", default="true", provisioner="ebs.csi.aws.com"), pvc("mysql-pv-claim"))
    forbidden = facts(*objects, unavailable={"Deployment": "forbidden: list deployments"})
    assert forbidden.platform.absent == ()
    status, code, message = claims_findings(forbidden)["PersistentVolumeClaim/kubeflow/katib-mysql"]
    assert (status, code) == ("fail", "KFS-PLATFORM-CLAIM-MISSING")
    assert (
        "although Kubeflow is installed (Deployments were not read: forbidden: list deployments; "
        "so Katib is taken to be installed)"
    ) in message
    unread = facts(*objects)
    assert claims_findings(unread)["PersistentVolumeClaim/kubeflow/katib-mysql"][0] == "fail"
    assert (
        "(Deployments were not read: the input has none;"
        in claims_findings(unread)["PersistentVolumeClaim/kubeflow/katib-mysql"][2]
    )


def test_a_kind_missing_from_kubectl_output_is_judged_as_absent_like_live() -> None:
    """Plain kubectl output without CSIDrivers, and a live snapshot whose CSIDriver list was read
    and empty, get the same statuses: the report's note says such kinds were taken to be absent."""
    objects = [
        sc("efs", default="true", provisioner="efs.csi.aws.com"),
        pvc("shared", ns="team", cls="efs"),
    ]
    objects[1]["spec"]["accessModes"] = ["ReadWriteMany"]
    kubectl = build([dict(o) for o in objects], Source("file", "dump.yaml"))
    live = build(
        [dict(o) for o in objects],
        Source("cluster", "https://127.0.0.1:6443"),
        collected=frozenset({"StorageClass", "PersistentVolumeClaim", "CSIDriver", "PersistentVolume"}),
    )
    picked = [CHECKS[c] for c in ("rwx_available", "rwx_claims", "provisioner_installed")]
    offline_report = runner.run(picked, kubectl)
    live_report = runner.run(picked, live)
    statuses = {r.id: r.status.value for r in offline_report.results}
    assert statuses == {r.id: r.status.value for r in live_report.results}
    assert statuses == {"rwx_available": "fail", "rwx_claims": "fail", "provisioner_installed": "fail"}
    assert any("taken to be absent" in note for note in offline_report.notes)


def test_forbidden_pods_are_named_not_taken_as_no_pods() -> None:
    notebook = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "metadata": {"name": "nb", "namespace": "team"},
        "spec": {"template": {"spec": {"volumes": [{"name": "w", "persistentVolumeClaim": {"claimName": "nb-ws"}}]}}},
    }
    workspace = pvc("nb-ws", ns="team")
    workspace["status"] = {"phase": "Bound"}
    snap = build(
        [dict(notebook), dict(workspace)],
        Source("file", "test"),
        unavailable={"Pod": "forbidden: list pods"},
    )
    result = runner.run([CHECKS["notebook_volumes"]], snap).results[0]
    assert [(str(f.ref), f.status.value, f.message) for f in result.findings] == [
        ("Notebook/team/nb", "pass", "notebook team/nb: nb-ws Bound"),
        (
            "cluster",
            "skip",
            "notebook pods not readable (forbidden: list pods): which notebooks run, on which nodes, and the "
            "volumes PodDefaults add were not checked",
        ),
    ]


def test_forbidden_snapshot_classes_are_not_evaluated_not_missing() -> None:
    objects = [sc("std", default="true", provisioner="ebs.csi.aws.com")]
    forbidden = build(
        [dict(o) for o in objects],
        Source("cluster", "https://127.0.0.1:6443"),
        collected=frozenset({"StorageClass", "PersistentVolumeClaim"}),
        unavailable={"VolumeSnapshotClass": "forbidden: list volumesnapshotclasses"},
    )
    result = runner.run([CHECKS["snapshot_support"]], forbidden).results[0]
    assert result.status.value == "not_evaluated"
    assert [(str(f.ref), f.status.value, f.message) for f in result.findings] == [
        (
            "cluster",
            "not_evaluated",
            "VolumeSnapshotClasses could not be read (forbidden: list volumesnapshotclasses), so whether "
            "Kubeflow's database volumes can be snapshotted was not evaluated",
        )
    ]
    absent = build(
        [dict(o) for o in objects],
        Source("cluster", "https://127.0.0.1:6443"),
        collected=frozenset({"StorageClass", "PersistentVolumeClaim"}),
        unavailable={"VolumeSnapshotClass": "not installed: snapshot.storage.k8s.io is not served"},
    )
    plain = runner.run([CHECKS["snapshot_support"]], absent).results[0]
    assert [(f.status.value, f.message.split(":")[0]) for f in plain.findings] == [("warn", "no snapshot API")]


def test_a_passing_check_counts_its_skips_in_the_terminal() -> None:
    """Standalone Pipelines: kubeflow_claims passes, and its compact line still says one claim was
    skipped (Katib is not installed), so the terminal never passes over it silently."""
    case = Path(__file__).parent / "cases" / "kubeflow_claims" / "pipelines-without-katib.yaml"
    report = runner.run([CHECKS["kubeflow_claims"]], from_files([str(case)]))
    result = report.results[0]
    passing = sum(f.status.value == "pass" for f in result.findings)
    skipped = sum(f.status.value == "skip" for f in result.findings)
    assert (result.status.value, skipped) == ("pass", 1)
    out = io.StringIO()
    renderer("table")(report, out)
    assert f"({passing} passing, {skipped} skipped)" in out.getvalue()
