"""Live end to end: kfstor audits a real kube-apiserver seeded with full scenarios.

Each scenario (tests/cases/scenarios/<name>.yaml, expectations in its header) gets a FRESH control
plane: scenarios conflict on cluster-scoped objects (StorageClasses, Nodes, CSIDrivers), and the
default-class choice depends on creation order. For each one the live audit must give exactly the
header's statuses per check and object, the same `checks` as auditing the scenario file itself, as
auditing `kfstor snapshot` of the live cluster and as auditing `kubectl get ... -o yaml` of it, and
the exit code the gate implies.

The pagination test seeds more claims and volumes than two pages (kfstor lists with limit=500) and
proves from the API server's audit log how kfstor read them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from kfstor.collect import cluster as kfstor_cluster
from kfstor.collect import snapshot as kfstor_snapshot
from tests.corpus import header

from .controlplane import Binaries, ControlPlane, start_control_plane
from .scenarios import SCENARIOS_DIR, SeedError, load_objects, seed_objects, seed_scenario

pytestmark = pytest.mark.live

# The full-cluster scenarios, by their files in tests/cases/scenarios.
SCENARIOS = [
    "portworx-kubeflow-1.10-healthy",  # the healthy Portworx layout of the seed article
    "no-default-pending",  # no default class, Kubeflow's claims Pending
    "ceph-kubeflow-1.11",  # Kubeflow 1.11 on Ceph, CephFS for RWX
    "pre-install-eks",  # before Kubeflow is installed
    "rwx-on-block-only",  # RWX claims on a block-only class
    "two-defaults-nfs",  # two default classes: which one Kubernetes uses depends on creationTimestamp
]
# seed_scenario() options per scenario. two-defaults-nfs has neither VolumeSnapshotClasses nor
# Notebooks; a file made with `kubectl get ...,volumesnapshotclasses,notebooks` (which fails on an
# API that is not served) still implies both APIs exist, empty: install them. Without them, see
# test_a_missing_snapshot_api_is_reported_live_and_kept_by_snapshots.
SEED_OPTIONS: dict[str, dict[str, Any]] = {"two-defaults-nfs": {"optional_apis": True}}
KUBECTL_RESOURCES = (
    "sc,pv,pvc,pods,deploy,sts,events,csidrivers,nodes,resourcequotas,csistoragecapacities,"
    "volumesnapshotclasses,notebooks"
)
KFSTOR = [sys.executable, "-c", "from kfstor.cli import main; main()"]
COMMAND_TIMEOUT_S = 120
# Seeding a scenario of a few dozen objects (two one-second class steps at most) stays well below this.
SEED_BUDGET_S = 30.0


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def report(self) -> dict[str, Any]:
        assert self.stdout.strip(), f"{self.describe()}: no JSON on stdout"
        data: dict[str, Any] = json.loads(self.stdout)
        return data

    def describe(self) -> str:
        return f"{' '.join(self.argv[3:] if self.argv[:1] == (sys.executable,) else self.argv)} (exit {self.code})"


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        cwd=cwd,
        check=False,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )
    return Run(tuple(argv), result.returncode, result.stdout, result.stderr)


def kfstor(*args: str, cwd: Path) -> Run:
    # cwd is a fresh directory, so no ./kfstor.yaml of the developer's leaks in.
    return run([*KFSTOR, *args], cwd)


def comparable(report: dict[str, Any]) -> list[dict[str, Any]]:
    """What must agree between sources: per check its id, status, reason and findings."""
    return [{key: check.get(key) for key in ("id", "status", "reason", "findings")} for check in report["checks"]]


def first_difference(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> str:
    """A readable description of the first check that differs (for assertion messages)."""
    want_by_id = {c["id"]: c for c in want}
    for check in got:
        other = want_by_id.get(check["id"])
        if other != check:
            return f"check {check['id']}:\n  got:  {json.dumps(check)}\n  want: {json.dumps(other)}"
    return f"check ids differ: {[c['id'] for c in got]} vs {[c['id'] for c in want]}"


def finding_key(finding: dict[str, Any]) -> str:
    """The header's object key: "Cluster" or Kind/namespace/name as reports print it."""
    return "Cluster" if finding["kind"] == "Cluster" else str(finding["object"])


def finding_keys(findings: list[dict[str, Any]]) -> list[str]:
    """The header's keys, as tests/test_corpus.py makes them: the object, plus the problem code when
    the object carries several findings."""
    objects = [finding_key(f) for f in findings]
    return [o if objects.count(o) == 1 else f"{o} {f.get('code', '')}" for o, f in zip(objects, findings, strict=True)]


def expected_exit_code(expect: dict[str, dict[str, str]]) -> int:
    """The default gate (--fail-on fail): 1 when any check fails or errors, else 0."""
    return 1 if any(e["check"] in ("fail", "error") for e in expect.values()) else 0


@dataclass
class Scenario:
    name: str
    path: Path
    cp: ControlPlane
    header: dict[str, Any]
    counts: dict[str, int]
    seed_seconds: float
    workdir: Path
    # Why seeding failed (the server rejected an object of the file), reported by every test.
    seed_error: str = ""

    @property
    def admin(self) -> str:
        return str(self.cp.kubeconfig("admin"))

    def audit_args(self) -> list[str]:
        """--check for each check the header names (a check it does not name is not part of the
        scenario), and --namespace and --config as the header asks (the corpus format's optional keys)."""
        args = [arg for check_id in self.header["expect"] for arg in ("--check", str(check_id))]
        if self.header.get("namespace"):
            args += ["--namespace", str(self.header["namespace"])]
        options = self.header.get("options") or {}
        if options:
            config = self.workdir / "kfstor.yaml"
            config.write_text(yaml.safe_dump({"checks": {k: {"options": v} for k, v in options.items()}}))
            args += ["--config", str(config)]
        return args


def _failed(request: pytest.FixtureRequest) -> bool:
    return request.session.testsfailed > 0 or os.environ.get("KFSTOR_KEEP_WORKDIR") == "1"


# --------------------------------------------------------------------------------------------------
# Fixtures: one fresh control plane per scenario
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=SCENARIOS)
def scenario(
    request: pytest.FixtureRequest, control_plane_binaries: Binaries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    name: str = request.param
    path = SCENARIOS_DIR / f"{name}.yaml"
    data = header(path)
    cp = start_control_plane(binaries=control_plane_binaries)
    try:
        started = time.monotonic()
        try:
            counts, error = seed_scenario(cp, name, **SEED_OPTIONS.get(name, {})), ""
        except SeedError as exc:
            # Not an exception out of this fixture: pytest would start and seed a control plane
            # again for every test of the scenario. Each test fails with this instead.
            counts, error = {}, f"{name}: seeding failed: {exc}"
        seconds = time.monotonic() - started
        print(f"\n[live] seeded {name} in {seconds:.2f}s: {counts or error}")
        yield Scenario(name, path, cp, data, counts, seconds, tmp_path_factory.mktemp(name), error)
    finally:
        cp.stop(keep_workdir=_failed(request))


@pytest.fixture(scope="module")
def live(scenario: Scenario) -> Run:
    """`kfstor audit --format json` against the live server, as the admin."""
    if scenario.seed_error:
        pytest.fail(scenario.seed_error, pytrace=False)
    return kfstor(
        "audit", "--kubeconfig", scenario.admin, "--format", "json", *scenario.audit_args(), cwd=scenario.workdir
    )


# --------------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------------


def test_seeding_creates_every_object_of_the_scenario(scenario: Scenario) -> None:
    if scenario.seed_error:
        pytest.fail(scenario.seed_error, pytrace=False)
    objects = load_objects(scenario.path)
    want = Counter(str(o["kind"]) for o in objects)
    # Namespaces the server creates itself ("default", "kube-system", ...) answer 409 and are not counted.
    preexisting = {"default", "kube-system", "kube-public", "kube-node-lease"}
    want["Namespace"] -= sum(1 for o in objects if o["kind"] == "Namespace" and o["metadata"]["name"] in preexisting)
    referenced = {o["metadata"].get("namespace") for o in objects} - {None, ""} - preexisting
    declared = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    want["Namespace"] += len(referenced - declared)
    assert scenario.counts == {k: v for k, v in sorted(want.items()) if v}
    assert scenario.seed_seconds < SEED_BUDGET_S
    # The server assigned its own identity: no uid of the file survives.
    claims = scenario.cp.call("GET", "/api/v1/persistentvolumeclaims")["items"]
    file_uids = {o["metadata"].get("uid") for o in objects}
    assert not file_uids & {c["metadata"]["uid"] for c in claims}


def test_live_audit_matches_the_scenario_header(scenario: Scenario, live: Run) -> None:
    expect: dict[str, dict[str, str]] = scenario.header["expect"]
    assert {c["id"] for c in live.report()["checks"]} == set(expect), "the audit ran the header's checks"
    assert live.stderr == "", live.stderr
    report = live.report()
    assert report["source"]["kind"] == "cluster"
    assert report["source"]["server_version"] == scenario.cp.server_version
    mismatches = []
    for check in report["checks"]:
        want = {str(k): str(v) for k, v in expect[check["id"]].items()}
        want_check = want.pop("check")
        keys = finding_keys(check["findings"])
        got = {k: f["status"] for k, f in zip(keys, check["findings"], strict=True)}
        if got != want or check["status"] != want_check:
            details = "; ".join(
                f"{k}={f['status']}: {f['message']}" for k, f in zip(keys, check["findings"], strict=True)
            )
            mismatches.append(
                f"{check['id']}: got {check['status']} {got}, header says {want_check} {want}\n    {details}"
            )
    messages = scenario.header.get("messages") or {}
    by_check = {
        c["id"]: {k: f["message"] for k, f in zip(finding_keys(c["findings"]), c["findings"], strict=True)}
        for c in report["checks"]
    }
    for check_id, fragments in messages.items():
        for key, fragment in (fragments or {}).items():
            message = by_check[check_id].get(str(key), "<no finding>")
            if str(fragment) not in message:
                mismatches.append(f"{check_id} {key}: message {message!r} lacks {fragment!r}")
    assert not mismatches, f"{scenario.name}: live audit differs from the header:\n" + "\n".join(mismatches)
    assert live.code == expected_exit_code(expect) == report["gate"]["exit_code"]


def test_live_audit_equals_auditing_the_scenario_file(scenario: Scenario, live: Run) -> None:
    offline = kfstor(
        "audit", "--from", str(scenario.path), "--format", "json", *scenario.audit_args(), cwd=scenario.workdir
    )
    got, want = comparable(live.report()), comparable(offline.report())
    assert got == want, first_difference(got, want)
    assert live.code == offline.code


def test_auditing_a_kfstor_snapshot_gives_the_live_report(scenario: Scenario, live: Run) -> None:
    snapshot_file = scenario.workdir / "snapshot.yaml"
    taken = kfstor("snapshot", "--kubeconfig", scenario.admin, "-o", str(snapshot_file), cwd=scenario.workdir)
    assert taken.code == 0, taken.describe() + taken.stderr
    assert taken.stderr.startswith("kfstor: wrote ") and taken.stderr.count("\n") == 1, taken.stderr
    audited = kfstor(
        "audit", "--from", str(snapshot_file), "--format", "json", *scenario.audit_args(), cwd=scenario.workdir
    )
    assert audited.stderr == ""
    got, want = comparable(audited.report()), comparable(live.report())
    assert got == want, first_difference(got, want)
    assert audited.code == live.code
    snap = yaml.safe_load(snapshot_file.read_text())
    assert snap["metadata"]["annotations"]["kfstor.io/server-version"] == scenario.cp.server_version


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_auditing_kubectl_output_gives_the_live_report(scenario: Scenario, live: Run) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    # Both optional APIs are there whenever the scenario has objects of either (install_crds).
    served = scenario.cp.request("GET", "/apis/snapshot.storage.k8s.io/v1").status == 200
    resources = KUBECTL_RESOURCES if served else KUBECTL_RESOURCES.replace(",volumesnapshotclasses,notebooks", "")
    dumped = run(
        [
            kubectl,
            "--kubeconfig",
            scenario.admin,
            "--cache-dir",
            str(scenario.workdir / "kubectl-cache"),
            "get",
            resources,
            "-A",
            "-o",
            "yaml",
        ],
        scenario.workdir,
    )
    assert (dumped.code, dumped.stderr) == (0, ""), dumped.stderr
    dump = scenario.workdir / "kubectl.yaml"
    dump.write_text(dumped.stdout)
    audited = kfstor("audit", "--from", str(dump), "--format", "json", *scenario.audit_args(), cwd=scenario.workdir)
    assert audited.stderr == ""
    got, want = comparable(audited.report()), comparable(live.report())
    assert got == want, first_difference(got, want)
    assert audited.code == live.code


def test_a_missing_snapshot_api_is_reported_live_and_kept_by_snapshots(
    control_plane_binaries: Binaries, tmp_path: Path
) -> None:
    """A genuine live/offline difference: live, kfstor knows the snapshot API is not served; plain
    kubectl output cannot say so (an empty kind looks the same), while `kfstor snapshot` records it."""
    path = SCENARIOS_DIR / "two-defaults-nfs.yaml"
    cp = start_control_plane(binaries=control_plane_binaries)
    try:
        counts = seed_scenario(cp, "two-defaults-nfs")
        assert "VolumeSnapshotClass" not in counts and "Notebook" not in counts
        assert cp.request("GET", "/apis/snapshot.storage.k8s.io/v1").status == 404
        admin = str(cp.kubeconfig("admin"))
        live = kfstor("audit", "--kubeconfig", admin, "--format", "json", "--check", "snapshot_support", cwd=tmp_path)
        (check,) = live.report()["checks"]
        assert [(f["object"], f["status"]) for f in check["findings"]] == [("cluster", "warn")]
        assert check["findings"][0]["message"].startswith(
            "no snapshot API: VolumeSnapshotClasses cannot be read (not installed: snapshot.storage.k8s.io API "
            "(volumesnapshotclasses) is not served)"
        )
        snapshot_file = tmp_path / "snapshot.yaml"
        assert kfstor("snapshot", "--kubeconfig", admin, "-o", str(snapshot_file), cwd=tmp_path).code == 0
        audited = kfstor(
            "audit", "--from", str(snapshot_file), "--format", "json", "--check", "snapshot_support", cwd=tmp_path
        )
        assert comparable(audited.report()) == comparable(live.report())
        # The scenario file, like plain kubectl output, has no VolumeSnapshotClass: taken as none exist.
        offline = kfstor("audit", "--from", str(path), "--format", "json", "--check", "snapshot_support", cwd=tmp_path)
        (file_check,) = offline.report()["checks"]
        assert file_check["status"] == check["status"] == "warn"
        assert {f["kind"] for f in file_check["findings"]} == {"PersistentVolumeClaim"}
    finally:
        cp.stop()


# --------------------------------------------------------------------------------------------------
# Pagination
# --------------------------------------------------------------------------------------------------

CLAIMS = 1234
NAMESPACES = 40


def _paged_objects() -> list[dict[str, Any]]:
    """CLAIMS Bound claims over NAMESPACES namespaces, each with its Bound PersistentVolume."""
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "csi-fast", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "ebs.csi.aws.com",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
            "allowVolumeExpansion": True,
        }
    ]
    for i in range(CLAIMS):
        ns, claim, volume = f"team-{i % NAMESPACES:02d}", f"data-{i:04d}", f"pvc-{i:08d}-0000-4000-8000-000000000000"
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim, "namespace": ns},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "csi-fast",
                    "volumeName": volume,
                    "resources": {"requests": {"storage": "1Gi"}},
                },
                "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}},
            }
        )
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": volume, "annotations": {"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com"}},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "capacity": {"storage": "1Gi"},
                    "storageClassName": "csi-fast",
                    "persistentVolumeReclaimPolicy": "Delete",
                    "claimRef": {"kind": "PersistentVolumeClaim", "namespace": ns, "name": claim},
                    "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": f"vol-{i:017x}"},
                },
                "status": {"phase": "Bound"},
            }
        )
    return objects


@pytest.fixture(scope="module")
def paged(control_plane_binaries: Binaries, request: pytest.FixtureRequest) -> Iterator[ControlPlane]:
    cp = start_control_plane(binaries=control_plane_binaries)
    try:
        started = time.monotonic()
        counts = seed_objects(cp, _paged_objects())
        print(f"\n[live] seeded {CLAIMS} claims + volumes in {time.monotonic() - started:.1f}s: {counts}")
        assert counts == {
            "Namespace": NAMESPACES,
            "PersistentVolume": CLAIMS,
            "PersistentVolumeClaim": CLAIMS,
            "StorageClass": 1,
        }
        yield cp
    finally:
        cp.stop(keep_workdir=_failed(request))


def _is_kfstor(event: dict[str, Any]) -> bool:
    # kfstor's client says exactly "kfstor"; the apiserver's own loopback client, whose binary is
    # kfstor-testcp, says "kfstor-testcp/v0.0.0 ...".
    return event.get("userAgent") == "kfstor" and (event.get("user") or {}).get("username") == "admin"


def _kfstor_requests(cp: ControlPlane, resource: str, since: int, want: int) -> list[dict[str, Any]]:
    """kfstor's audit events for ``resource`` after the first ``since`` events; waits (bounded) for
    at least ``want``, since an event is written just after its response."""
    deadline = time.monotonic() + 5
    while True:
        events = [
            e
            for e in cp.audit_events()[since:]
            if _is_kfstor(e) and (e.get("objectRef") or {}).get("resource") == resource
        ]
        if len(events) >= want or time.monotonic() > deadline:
            return events
        time.sleep(0.1)


def test_pagination_reads_every_claim_and_volume_exactly_once(
    paged: ControlPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = str(paged.kubeconfig("admin"))
    before = len(paged.audit_events())
    snapshot_file = tmp_path / "snapshot.json"
    taken = kfstor("snapshot", "--kubeconfig", admin, "-o", str(snapshot_file), "--format", "json", cwd=tmp_path)
    items = json.loads(snapshot_file.read_text())["items"]
    assert (taken.code, taken.stderr) == (0, f"kfstor: wrote {len(items)} objects to {snapshot_file}\n")
    # One StorageClass besides the claims and volumes; the control plane may record an Event of its
    # own at any moment (a CI run once saw one more object), so Events are allowed, nothing else.
    kinds = Counter(o["kind"] for o in items)
    assert kinds.pop("Event", 0) <= 2, kinds
    assert kinds == {"PersistentVolumeClaim": CLAIMS, "PersistentVolume": CLAIMS, "StorageClass": 1}
    for kind in ("PersistentVolumeClaim", "PersistentVolume"):
        objs = [o for o in items if o["kind"] == kind]
        assert len(objs) == CLAIMS, kind
        assert len({o["metadata"]["uid"] for o in objs}) == CLAIMS, kind
        assert len({(o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objs}) == CLAIMS, kind

    # The audit log: three pages (500 + 500 + 234) of claims, chained by continue tokens, and
    # nothing but lists: no per-object GET, no watch, no write.
    for resource in ("persistentvolumeclaims", "persistentvolumes"):
        events = _kfstor_requests(paged, resource, before, 3)
        assert {e["verb"] for e in events} == {"list"}, [(e["verb"], e["requestURI"]) for e in events]
        queries = [parse_qs(urlsplit(e["requestURI"]).query) for e in events]
        assert len(events) == 3, [e["requestURI"] for e in events]
        assert all(q.get("limit") == ["500"] for q in queries)
        assert sum("continue" in q for q in queries) == 2
        assert all(e["responseStatus"]["code"] == 200 for e in events)
    kfstor_events = [e for e in paged.audit_events()[before:] if _is_kfstor(e)]
    assert {e["verb"] for e in kfstor_events} <= {"get", "list"}
    # The only GETs are discovery and /version: never a named object.
    assert not [e["requestURI"] for e in kfstor_events if e["verb"] == "get" and e.get("objectRef")]

    # Before the collector keys objects by name (which would hide a page read twice): it read each
    # object once. Every object listed is slimmed first (by the name cluster.py imported).
    raw: list[dict[str, Any]] = []
    original_slim = kfstor_snapshot.slim

    def recording_slim(obj: dict[str, Any]) -> dict[str, Any]:
        raw.append(obj)
        return original_slim(obj)

    monkeypatch.setattr(kfstor_cluster, "slim", recording_slim)
    target = kfstor_cluster.Target(kubeconfig=admin)
    snap = kfstor_cluster.collect(["PersistentVolumeClaim", "PersistentVolume"], target)
    for kind in ("PersistentVolumeClaim", "PersistentVolume"):
        uids = [o["metadata"]["uid"] for o in raw if o["kind"] == kind]
        assert len(uids) == len(set(uids)) == CLAIMS, kind
        assert len(snap.of(kind)) == CLAIMS

    # claim_health accounts for every claim (per namespace) and every volume (cluster-wide).
    audited = kfstor("audit", "--from", str(snapshot_file), "--format", "json", "--check", "claim_health", cwd=tmp_path)
    live = kfstor("audit", "--kubeconfig", admin, "--format", "json", "--check", "claim_health", cwd=tmp_path)
    assert (audited.code, live.code) == (0, 0), live.stderr + audited.stderr
    assert comparable(audited.report()) == comparable(live.report())
    (check,) = live.report()["checks"]
    assert check["status"] == "pass"
    per_namespace = {f["name"]: f["message"] for f in check["findings"] if f["kind"] == "Namespace"}
    assert len(per_namespace) == NAMESPACES
    counted = 0
    for ns, message in per_namespace.items():
        n = len(range(int(ns.removeprefix("team-")), CLAIMS, NAMESPACES))
        assert message == f"{n} healthy claims in namespace {ns}: {n} Bound"
        counted += n
    assert counted == CLAIMS
    (cluster_finding,) = [f for f in check["findings"] if f["kind"] == "Cluster"]
    assert cluster_finding["message"] == f"{CLAIMS} PersistentVolumes without trouble: {CLAIMS} Bound"
