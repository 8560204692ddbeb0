"""The install plan (--manifests): reading manifests, every source of planned claims, the class and
predicted outcome of each, the checks that judge them, the gate and every report format.

Fixtures are written for these tests (tests/manifests/), shaped like real renders: Kubeflow 1.10
(MinIO), 26.03 (SeaweedFS), a vendor-style distribution (renamed namespace and claims,
PostgreSQL, StatefulSet claim templates, older Katib configuration) and a kustomization overlay.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import kfstor
from kfstor.collect.manifests import read_manifests
from kfstor.collect.snapshot import InputError, Source, build, from_files
from kfstor.engine import runner
from kfstor.engine.loader import load_checks
from kfstor.facts.plan import Outcome, Plan
from kfstor.facts.view import Facts
from kfstor.model import CLUSTER, Cause, FailOn, Finding, Status
from kfstor.render import FORMATS, grouping, renderer
from kfstor.render.report import Report

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
EXAMPLES = HERE.parent / "examples"
MANIFESTS = HERE / "manifests"
KF_2603 = MANIFESTS / "kubeflow-26.03.yaml"
KF_110 = MANIFESTS / "kubeflow-1.10.yaml"
VENDOR = MANIFESTS / "vendor-postgres.yaml"
VENDOR_CLUSTER = MANIFESTS / "cluster-vendor.yaml"
KUSTOMIZATION = MANIFESTS / "kustomize"
EKS = HERE / "cases" / "kubeflow_claims" / "pre-install-eks.yaml"
SCHEMA = json.loads((Path(kfstor.__file__).resolve().parent / "schema" / "report-v1.json").read_text())
CHECKS = load_checks(include_plugins=False).checks
SECRET_MARK = "KFSTOR-TEST"  # every credential in the fixtures carries it
ENTRY = "import sys; sys.argv[0] = 'kfstor'; from kfstor.cli import main; main()"


def plan_of(cluster: Path | list[dict[str, Any]], *manifests: Path | str, namespace: str = "kubeflow") -> Plan:
    snap = from_files([str(cluster)]) if isinstance(cluster, Path) else build(cluster, Source("file", "test"))
    given = read_manifests([str(m) for m in manifests]) if manifests else None
    return Facts(snap, namespace, given).plan


def rows(plan: Plan) -> list[tuple[str, str, str, str, str | None, str]]:
    return [
        (
            e.claim.where,
            e.claim.size,
            "/".join(e.claim.access_modes),
            e.claim.stores,
            e.class_name,
            e.outcome.value,
        )
        for e in plan.entries
    ]


def report(cluster: Path, *manifests: Path, namespace: str = "kubeflow", fail_on: FailOn = FailOn.FAIL) -> Report:
    return runner.run(
        CHECKS,
        from_files([str(cluster)]),
        namespace=namespace,
        fail_on=fail_on,
        manifests=read_manifests([str(m) for m in manifests]),
        now="2026-01-01T00:00:00Z",
    )


def render(rep: Report, fmt: str) -> str:
    out = io.StringIO()
    renderer(fmt)(rep, out)
    return out.getvalue()


def cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, "audit", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
        env=env,
    )


def sc(name: str, provisioner: str = "ebs.csi.aws.com", default: bool = False, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "creationTimestamp": "2026-01-01T00:00:00Z"}
    if default:
        meta["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": meta,
        "provisioner": provisioner,
        **extra,
    }


# ---------------------------------------------------------------------------------------------
# Reading manifests


def test_reading_keeps_what_planning_reads_and_never_a_credential() -> None:
    read = read_manifests([str(KF_2603)])
    assert (read.total, read.secrets) == (18, 1)
    assert {kind: len(objs) for kind, objs in read.objects.items()} == {
        "Namespace": 1,
        "PersistentVolumeClaim": 3,
        "Deployment": 3,
        "StatefulSet": 1,
        "ConfigMap": 2,
        "Profile": 1,
    }
    # Of ConfigMaps only the keys that describe claims survive; pipeline-install-config has none.
    assert {(c.name, tuple(c.obj["data"])) for c in read.of("ConfigMap")} == {
        ("jupyter-web-app-config-6f2kb7c9h4", ("spawner_ui_config.yaml",)),
        ("katib-config", ("katib-config.yaml",)),
    }
    for path in (KF_2603, KF_110, VENDOR):
        kept = read_manifests([str(path)])
        assert SECRET_MARK not in repr(kept.objects), path  # Secrets, env values, other ConfigMap keys


def test_lists_directories_and_stdin_are_read_like_snapshots(tmp_path: Path) -> None:
    vendor = read_manifests([str(VENDOR)])  # its first document is a kind: List
    assert [c.name for c in vendor.of("PersistentVolumeClaim")] == ["kfp-pg-data", "registry-db"]
    folder = tmp_path / "rendered"
    folder.mkdir()
    shutil.copy(KF_2603, folder / "a.yaml")
    shutil.copy(KF_110, folder / "b.yml")
    both = read_manifests([str(folder)])
    assert both.inputs == (str(folder / "a.yaml"), str(folder / "b.yml"))
    assert sorted(c.name for c in both.of("PersistentVolumeClaim")) == [
        "katib-mysql",
        "minio-pvc",
        "mysql-pv-claim",
        "seaweedfs-pvc",
    ]
    done = cli(
        "--from", str(EKS), "--manifests", "-", "-f", "json", "--check", "kubeflow_claims", stdin=KF_110.read_text()
    )
    assert done.returncode == 1, done.stderr  # 1.10's PBT claim cannot bind on gp3
    assert json.loads(done.stdout)["plan_info"]["inputs"] == "stdin"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (
            "a: &a [1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            + "".join(
                f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                for p, c in zip("bcdefg", "cdefgh", strict=True)
            ),
            "alias bomb",
        ),
        ("kind: PersistentVolumeClaim\nmetadata: {namespace: x}\n", "has no metadata.name"),
        ("- [1, 2]\n", "is a int, expected a Kubernetes object"),
        ("\xff\xfe", "not UTF-8"),
        ("kind: [unclosed\n", "invalid YAML"),
    ],
)
def test_hostile_manifests_are_one_line_errors(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content.encode("latin-1") if content.startswith("\xff") else content.encode())
    with pytest.raises(InputError, match=fragment):
        read_manifests([str(path)])
    done = cli("--from", str(EKS), "--manifests", str(path))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("kfstor: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_usage_errors_of_the_option() -> None:
    missing = cli("--from", str(EKS), "--manifests", "/nonexistent/render.yaml")
    assert (missing.returncode, missing.stderr) == (
        2,
        "kfstor: error: /nonexistent/render.yaml: no such file or directory\n",
    )
    both = cli("--from", "-", "--manifests", "-", stdin="")
    assert (both.returncode, both.stderr) == (2, "kfstor: error: stdin (-) can feed --from or --manifests, not both\n")


@pytest.mark.skipif(not (shutil.which("kubectl") or shutil.which("kustomize")), reason="no kubectl or kustomize")
def test_a_kustomization_directory_is_rendered() -> None:
    read = read_manifests([str(KUSTOMIZATION)])
    assert read.inputs == (f"{KUSTOMIZATION} (rendered)",)
    assert (read.total, read.secrets) == (3, 1)
    plan = plan_of(VENDOR_CLUSTER, KUSTOMIZATION, namespace="acme-ml")
    # namePrefix renamed the claim: the image still says it is MySQL.
    assert rows(plan) == [("acme-ml/acme-mysql-pv-claim", "40Gi", "ReadWriteOnce", "mysql", "premium-rwo", "waits")]
    assert plan.entries[0].claim.database
    assert plan.entries[0].claim.workload == "Deployment/acme-ml/acme-mysql"


def test_a_kustomization_without_kubectl_or_kustomize_is_a_clear_error(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    done = cli("--from", str(EKS), "--manifests", str(KUSTOMIZATION), env=env)
    assert done.returncode == 2
    assert done.stderr == (
        f"kfstor: error: {KUSTOMIZATION}: is a kustomization directory and neither kubectl nor kustomize is on "
        f"PATH to render it; install one, or pass the output of `kustomize build {KUSTOMIZATION}` instead\n"
    )


@pytest.mark.skipif(not (shutil.which("kubectl") or shutil.which("kustomize")), reason="no kubectl or kustomize")
def test_a_broken_kustomization_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(InputError, match=r"failed: .*missing\.yaml"):
        read_manifests([str(tmp_path)])


# ---------------------------------------------------------------------------------------------
# The plan of each release


def test_kubeflow_26_03_on_eks() -> None:
    plan = plan_of(EKS, KF_2603)
    assert plan.source == "manifests"
    assert rows(plan) == [
        ("kubeflow/mysql-pv-claim", "20Gi", "ReadWriteOnce", "mysql", "gp3", "waits"),
        ("kubeflow/seaweedfs-pvc", "20Gi", "ReadWriteOnce", "seaweedfs", "gp3", "waits"),
        ("kubeflow/katib-mysql", "10Gi", "ReadWriteOnce", "mysql", "gp3", "waits"),
        (
            "kubeflow-user-example-com/{notebook-name}-workspace",
            "5Gi",
            "ReadWriteOnce",
            "notebook workspace",
            "gp3",
            "waits",
        ),
        (
            "kubeflow-user-example-com/{experiment-name}-pbt",
            "5Gi",
            "ReadWriteMany",
            "katib suggestion",
            "gp3",
            "pending",
        ),
    ]
    by_name = {e.claim.name: e for e in plan.entries}
    assert by_name["seaweedfs-pvc"].claim.role == "Pipelines artifact store (SeaweedFS)"
    assert by_name["mysql-pv-claim"].claim.workload == "Deployment/kubeflow/mysql"
    assert by_name["mysql-pv-claim"].claim.source == f"PersistentVolumeClaim/kubeflow/mysql-pv-claim ({KF_2603})"
    assert by_name["mysql-pv-claim"].reason == (
        "StorageClass gp3 (ebs.csi.aws.com) binds WaitForFirstConsumer: provisioned when "
        "Deployment/kubeflow/mysql's pod is scheduled"
    )
    workspace = by_name["{notebook-name}-workspace"]
    assert workspace.claim.template and workspace.claim.created_by == "the Jupyter web app, one per notebook"
    assert workspace.claim.source.startswith(
        "ConfigMap/kubeflow/jupyter-web-app-config-6f2kb7c9h4 key spawner_ui_config.yaml"
    )
    pbt = by_name["{experiment-name}-pbt"]
    assert pbt.reason == (
        "it asks for ReadWriteMany filesystem volumes, which StorageClass gp3 cannot serve (AWS EBS serves "
        "ReadWriteOnce only): use a class that can"
    )
    assert plan.summary() == "1 claim stays Pending"


def test_kubeflow_1_10_without_a_default_class() -> None:
    cluster = [sc("longhorn", "driver.longhorn.io"), {"kind": "CSIDriver", "metadata": {"name": "driver.longhorn.io"}}]
    plan = plan_of(cluster, KF_110)
    assert [(e.claim.name, e.claim.stores, e.class_name, e.outcome) for e in plan.entries[:3]] == [
        ("mysql-pv-claim", "mysql", None, Outcome.PENDING),
        ("minio-pvc", "minio", None, Outcome.PENDING),
        ("katib-mysql", "mysql", None, Outcome.PENDING),
    ]
    assert plan.entries[1].claim.role == "Pipelines artifact store (MinIO)"
    assert plan.entries[0].reason.startswith("it names no StorageClass and the cluster has no default class")
    # Longhorn serves RWX: with it named the default, PBT binds (Immediate) and MinIO is planned on it.
    cluster[0] = sc("longhorn", "driver.longhorn.io", default=True)
    assert [(e.claim.name, e.outcome.value) for e in plan_of(cluster, KF_110).entries] == [
        ("mysql-pv-claim", "binds"),
        ("minio-pvc", "binds"),
        ("katib-mysql", "binds"),
        ("{notebook-name}-workspace", "binds"),
        ("{experiment-name}-pbt", "binds"),
    ]


def test_the_vendor_distribution() -> None:
    plan = plan_of(VENDOR_CLUSTER, VENDOR, namespace="ml-platform")
    assert rows(plan) == [
        ("ml-platform/kfp-pg-data", "30Gi", "ReadWriteOnce", "postgres", "premium-rwo", "pending"),
        ("ml-platform/registry-db", "10Gi", "ReadWriteOnce", "mysql", "fast-ssd", "pending"),
        ("ml-platform/export-artifact-store-0", "100Gi", "ReadWriteOnce", "minio", "standard-rwo", "pending"),
        ("ml-platform/export-artifact-store-1", "100Gi", "ReadWriteOnce", "minio", "standard-rwo", "pending"),
        ("ml-platform/export-artifact-store-2", "100Gi", "ReadWriteOnce", "minio", "standard-rwo", "pending"),
        ("ml-platform/pgdata-katib-db-0", "15Gi", "ReadWriteOnce", "postgres", "premium-rwo", "pending"),
        ("team-a/ws-{notebook-name}", "10Gi", "ReadWriteOnce", "notebook workspace", "standard-rwo", "pending"),
        ("team-b/ws-{notebook-name}", "10Gi", "ReadWriteOnce", "notebook workspace", "standard-rwo", "pending"),
        ("team-a/{notebook-name}-shared", "20Gi", "ReadWriteMany", "notebook data volume", "nfs-shared", "pending"),
        ("team-b/{notebook-name}-shared", "20Gi", "ReadWriteMany", "notebook data volume", "nfs-shared", "pending"),
        ("team-a/{experiment-name}-pbt", "5Gi", "ReadWriteMany", "katib suggestion", "nfs-shared", "pending"),
        ("team-b/{experiment-name}-pbt", "5Gi", "ReadWriteMany", "katib suggestion", "nfs-shared", "pending"),
        ("ml-platform/shared-cache", "", "", "", "standard-rwo", "pending"),
    ]
    reasons = {e.claim.where: e.reason for e in plan.entries}
    quota = (
        "creating the planned claims exceeds ResourceQuota ml-platform/storage "
        "(premium-rwo.storageclass.storage.k8s.io/requests.storage: 0B used + 45Gi planned of 40Gi)"
    )
    assert reasons["ml-platform/kfp-pg-data"].startswith(quota)
    assert reasons["ml-platform/pgdata-katib-db-0"].startswith(quota)  # the legacy class annotation counts
    assert (
        reasons["ml-platform/registry-db"]
        == "its StorageClass fast-ssd does not exist: create it or change the claim's class"
    )
    # Three 100Gi volumes cannot go into two 150Gi segments, although 300Gi are free.
    assert reasons["ml-platform/export-artifact-store-0"].startswith(
        "StorageClass standard-rwo publishes too little capacity for the planned"
    )
    # The Profile's resourceQuotaSpec becomes a quota in its namespace (team-b has none).
    assert reasons["team-a/ws-{notebook-name}"].startswith(
        "creating the planned claims exceeds ResourceQuota team-a/kf-resource-quota (requests.storage: 0B used + 35Gi"
    )
    assert reasons["team-a/{notebook-name}-shared"] == (
        "StorageClass nfs-shared (created by the manifests) needs the CSI driver nfs.csi.k8s.io, which is not "
        "registered: nothing provisions the volume; install the driver"
    )
    assert reasons["ml-platform/shared-cache"].startswith("CronJob/ml-platform/cache-warmer mounts it but neither")
    assert plan.summary() == "13 claims stay Pending"
    # The existingSource data volume and the algorithms without a volume are not claims of the plan.
    assert not [e for e in plan.entries if "datasets" in e.claim.name or "random" in e.claim.name]


def test_images_decide_what_a_claim_stores_before_its_name() -> None:
    plan = plan_of(VENDOR_CLUSTER, VENDOR, namespace="ml-platform")
    db = next(e for e in plan.entries if e.claim.name == "kfp-pg-data")
    # The PostgreSQL container mounts it (its digest-pinned image), not the exporter beside it.
    assert (db.claim.stores, db.claim.role, db.claim.database) == ("postgres", "PostgreSQL database", True)
    assert db.claim.workload == "Deployment/ml-platform/kfp-postgres"


def test_claim_templates_one_per_replica_and_hostile_counts(tmp_path: Path) -> None:
    def sts(replicas: Any) -> str:
        return yaml.safe_dump(
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": "db", "namespace": "kubeflow"},
                "spec": {
                    "replicas": replicas,
                    "template": {"spec": {"containers": [{"name": "c", "image": "mariadb:11"}]}},
                    "volumeClaimTemplates": [
                        {
                            "metadata": {"name": "data"},
                            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
                        }
                    ],
                },
            }
        )

    path = tmp_path / "sts.yaml"
    for replicas, names in ((2, ["data-db-0", "data-db-1"]), ("three", ["data-db-0"]), (0, [])):
        path.write_text(sts(replicas))
        plan = plan_of(EKS, path)
        assert [e.claim.name for e in plan.entries] == names
        assert all(e.claim.stores == "mariadb" and e.claim.database for e in plan.entries)
    path.write_text(sts(10**9))
    plan = plan_of(EKS, path)
    assert len(plan.entries) == 1000
    assert plan.notes == ("StatefulSet/kubeflow/db asks for 1000000000 replicas: the plan lists the first 1000",)


def test_older_spawner_form_and_broken_configurations(tmp_path: Path) -> None:
    legacy = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "jupyter-web-app-config", "namespace": "kubeflow"},
        "data": {
            "spawner_ui_config.yaml": yaml.safe_dump(
                {
                    "spawnerFormDefaults": {
                        "workspaceVolume": {
                            "value": {
                                "type": {"value": "New"},
                                "name": {"value": "workspace-{notebook-name}"},
                                "size": {"value": "10Gi"},
                                "accessModes": {"value": "ReadWriteOnce"},
                                "class": {"value": "{empty}"},
                            }
                        }
                    }
                }
            )
        },
    }
    broken = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "katib-config", "namespace": "kubeflow"},
        "data": {"katib-config.yaml": "runtime: [unclosed\n"},
    }
    path = tmp_path / "cm.yaml"
    path.write_text(yaml.safe_dump_all([legacy, broken]))
    plan = plan_of(EKS, path)
    (entry,) = plan.entries
    assert (entry.claim.name, entry.claim.size, entry.claim.storage_class, entry.outcome) == (
        "workspace-{notebook-name}",
        "10Gi",
        "",
        Outcome.PENDING,
    )
    assert entry.claim.namespace == "{profile-namespace}"  # no Profile in the manifests
    assert entry.reason.startswith('it asks for storageClassName "" (static volumes only)')
    (note,) = plan.notes
    assert note.startswith("ConfigMap/kubeflow/katib-config key katib-config.yaml: invalid YAML")
    assert note.endswith("its claims are not planned")


def test_a_claim_that_exists_is_left_as_it_is(tmp_path: Path) -> None:
    cluster = yaml.safe_load(EKS.read_text())["items"]
    cluster.append(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "mysql-pv-claim", "namespace": "kubeflow"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3", "volumeName": "pv-1"},
            "status": {"phase": "Bound"},
        }
    )
    snap = build(cluster, Source("file", "test"))
    facts = Facts(snap, "kubeflow", read_manifests([str(KF_2603)]))
    entry = facts.plan.entries[0]
    assert (entry.claim.name, entry.outcome, entry.new) == ("mysql-pv-claim", Outcome.BINDS, False)
    assert entry.reason == "exists in the cluster and is Bound to pv-1; apply leaves it"
    # Kubeflow counts as installed now: the platform judges the installed claim, the plan the rest,
    # and a platform claim the manifests will create is planned, not reported missing.
    assert facts.platform.installed
    assert "mysql-pv-claim" not in {e.claim.name for e in facts.platform.planned}
    assert {e.claim.name for e in facts.platform.planned} >= {"seaweedfs-pvc", "katib-mysql"}
    rep = runner.run([c for c in CHECKS if c.id == "kubeflow_claims"], snap, manifests=facts.manifests)
    assert findings(rep, "kubeflow_claims") == {
        "PersistentVolumeClaim/kubeflow/mysql-pv-claim": "fail",  # Bound to pv-1, which is not in the input
        "PersistentVolumeClaim/kubeflow/katib-mysql": "pass",
        "PersistentVolumeClaim/kubeflow/seaweedfs-pvc": "pass",
        "PersistentVolumeClaim/kubeflow-user-example-com/{notebook-name}-workspace": "pass",
        "PersistentVolumeClaim/kubeflow-user-example-com/{experiment-name}-pbt": "fail",
    }


def test_without_manifests_the_builtin_expectations_are_labelled_and_do_not_gate() -> None:
    plan = plan_of(EKS)
    assert plan.source == "built-in"
    assert [(e.claim.name, e.claim.size, e.outcome.value) for e in plan.entries] == [
        ("mysql-pv-claim", "20Gi", "waits"),
        ("seaweedfs-pvc", "20Gi", "waits"),
        ("katib-mysql", "10Gi", "waits"),
    ]
    assert plan.label.startswith("built-in expectations of a default Kubeflow install (mysql-pv-claim 20Gi")
    rep = runner.run(CHECKS, from_files([str(EKS)]))
    assert "built-in expectations" in render(rep, "table")
    assert json.loads(render(rep, "json"))["plan_info"]["source"] == "built-in"
    # Installed Kubeflow without manifests: nothing is planned, no plan section anywhere.
    installed = runner.run(CHECKS, from_files([str(HERE.parent / "examples" / "portworx-kubeflow-1.10.yaml")]))
    assert installed.plan.source == "none"
    assert "plan" not in json.loads(render(installed, "json"))
    assert "install plan" not in render(installed, "table")


# ---------------------------------------------------------------------------------------------
# Checks, gate and reports


def findings(rep: Report, check_id: str) -> dict[str, str]:
    result = next(r for r in rep.results if r.id == check_id)
    return {str(f.ref): f.status.value for f in result.findings}


def test_the_checks_judge_planned_claims_like_installed_ones() -> None:
    rep = report(VENDOR_CLUSTER, VENDOR, namespace="ml-platform")
    claims = findings(rep, "kubeflow_claims")
    assert len(claims) == 13 and set(claims.values()) == {"fail"}
    assert findings(rep, "stateful_replication") == {
        "PersistentVolumeClaim/ml-platform/export-artifact-store-0": "pass",
        "PersistentVolumeClaim/ml-platform/export-artifact-store-1": "pass",
        "PersistentVolumeClaim/ml-platform/export-artifact-store-2": "pass",
        "PersistentVolumeClaim/ml-platform/kfp-pg-data": "pass",
        "PersistentVolumeClaim/ml-platform/pgdata-katib-db-0": "pass",
        "PersistentVolumeClaim/ml-platform/registry-db": "skip",
    }
    # premium-rwo is Retain, standard-rwo Delete.
    assert findings(rep, "stateful_storage")["PersistentVolumeClaim/ml-platform/kfp-pg-data"] == "pass"
    assert findings(rep, "stateful_storage")["PersistentVolumeClaim/ml-platform/export-artifact-store-0"] == "warn"
    assert findings(rep, "rwx_claims") == {
        "PersistentVolumeClaim/team-a/{experiment-name}-pbt": "fail",
        "PersistentVolumeClaim/team-a/{notebook-name}-shared": "fail",
        "PersistentVolumeClaim/team-b/{experiment-name}-pbt": "fail",
        "PersistentVolumeClaim/team-b/{notebook-name}-shared": "fail",
    }
    assert findings(rep, "storage_capacity") == {
        "ResourceQuota/ml-platform/storage": "fail",
        "ResourceQuota/team-a/kf-resource-quota": "fail",
        "StorageClass/standard-rwo": "fail",
    }
    assert set(findings(rep, "snapshot_support").values()) == {"warn", "skip"}
    eks = report(EKS, KF_2603)
    assert findings(eks, "kubeflow_claims") == {
        "PersistentVolumeClaim/kubeflow/katib-mysql": "pass",
        "PersistentVolumeClaim/kubeflow/mysql-pv-claim": "pass",
        "PersistentVolumeClaim/kubeflow/seaweedfs-pvc": "pass",
        "PersistentVolumeClaim/kubeflow-user-example-com/{notebook-name}-workspace": "pass",
        "PersistentVolumeClaim/kubeflow-user-example-com/{experiment-name}-pbt": "fail",
    }


def test_the_gate_fails_on_predicted_failures_even_without_the_checks_that_report_them() -> None:
    snap = from_files([str(EKS)])
    only = [c for c in CHECKS if c.id == "default_storage_class"]
    planned = runner.run(only, snap, manifests=read_manifests([str(KF_2603)]))
    assert [r.status.value for r in planned.results] == ["pass"]
    assert planned.exit_status == 1
    assert planned.verdict() == "Storage readiness gate FAILED (1 pass; plan: 1 claim stays Pending)"
    never = runner.run(only, snap, manifests=read_manifests([str(KF_2603)]), fail_on=FailOn.NEVER)
    assert never.exit_status == 0
    assert runner.run(only, snap).exit_status == 0  # the built-in plan does not gate


def test_every_format_has_the_plan_and_the_json_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # the plan's rows unwrapped, to find them whole
    rep = report(EKS, KF_2603)
    outputs = {fmt: render(rep, fmt) for fmt in FORMATS}
    data = json.loads(outputs["json"])
    jsonschema.validate(data, SCHEMA)
    assert data["plan_info"]["source"] == "manifests" and data["plan_info"]["counts"] == {
        "binds": 0,
        "waits": 4,
        "pending": 1,
        "unknown": 0,
    }
    pbt = next(e for e in data["plan"] if e["name"] == "{experiment-name}-pbt")
    assert {k: pbt[k] for k in ("namespace", "size", "access_modes", "storage_class", "outcome", "status")} == {
        "namespace": "kubeflow-user-example-com",
        "size": "5Gi",
        "access_modes": ["ReadWriteMany"],
        "storage_class": "gp3",
        "outcome": "pending",
        "status": "fail",
    }
    assert pbt["source"] == f"ConfigMap/kubeflow/katib-config suggestion pbt ({KF_2603})"
    assert data["gate"]["exit_code"] == 1
    assert "install plan — planned from the manifests" in outputs["table"]
    assert (
        "FAIL  kubeflow-user-example-com/{experiment-name}-pbt  5Gi ReadWriteMany  class gp3  stays Pending"
        in outputs["table"]
    )
    assert "### Install plan" in outputs["markdown"] and "❌ stays Pending" in outputs["markdown"]
    assert '<table id="plan">' in outputs["html"] and 'data-outcome="pending"' in outputs["html"]
    assert "{experiment-name}-pbt" in outputs["html"]
    junit = outputs["junit"]
    assert '<testsuite name="plan" tests="5" failures="1" errors="0" skipped="0">' in junit
    for text in outputs.values():
        assert SECRET_MARK not in text


def test_hostile_names_are_escaped_in_html_and_markdown(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "<script>alert(1)</script>|x", "namespace": "kubeflow"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            }
        )
    )
    rep = report(EKS, path)
    assert "<script>alert(1)" not in render(rep, "html")
    markdown = render(rep, "markdown")
    assert "<script>" not in markdown and "\\|x" in markdown


def test_documents_planning_never_reads_are_counted_unparsed_and_errors_keep_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "render.yaml"
    path.write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: x}\nspec: [unclosed\n"
        "--- # a comment after the marker\n"
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: KFSTOR-TEST-UNPARSED}\n"
        "---\n"
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c, namespace: kubeflow}\n"
        "spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n"
    )
    read = read_manifests([str(path)])
    assert (read.total, read.secrets, [c.name for c in read.of("PersistentVolumeClaim")]) == (3, 1, ["c"])
    path.write_text(path.read_text() + "---\nkind: ConfigMap\nmetadata: {name: bad\n")
    with pytest.raises(InputError, match=r"invalid YAML at line 1[6-8] "):
        read_manifests([str(path)])


def test_claim_templates_are_bounded_in_all(tmp_path: Path) -> None:
    sets = [
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": f"s{i}", "namespace": "kubeflow"},
            "spec": {
                "replicas": 1000,
                "volumeClaimTemplates": [{"metadata": {"name": "d"}, "spec": {"accessModes": ["ReadWriteOnce"]}}],
            },
        }
        for i in range(25)
    ]
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump_all(sets))
    plan = plan_of(EKS, path)
    assert len(plan.entries) == 20000
    assert plan.notes == (
        "StatefulSet claim templates ask for more than 20000 claims: StatefulSet/kubeflow/s20 and the "
        "StatefulSets after it are not planned",
    )
    assert {e.outcome for e in plan.entries} == {Outcome.PENDING}  # no size requested


def test_binding_mode_of_classes_the_manifests_name(tmp_path: Path) -> None:
    """A claim of the manifests naming a zonal class that binds Immediate, in a cluster whose nodes
    span two zones, gets the same warning as a default class would."""
    manifest = tmp_path / "db.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: db-data, namespace: vendor}\n"
        "spec: {accessModes: [ReadWriteOnce], storageClassName: gp3-now, resources: {requests: {storage: 10Gi}}}\n",
        encoding="utf-8",
    )
    nodes = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"n{i}", "labels": {TOPOLOGY: zone}}}
        for i, zone in enumerate(("eu-1a", "eu-1b"))
    ]
    cluster = [
        sc("gp3", default=True, volumeBindingMode="WaitForFirstConsumer"),
        sc("gp3-now", volumeBindingMode="Immediate"),
        *nodes,
    ]
    snap = build([dict(o) for o in cluster], Source("file", "cluster.yaml"))
    check = next(c for c in load_checks(include_plugins=False).checks if c.id == "volume_binding_mode")
    result = runner.run([check], snap, manifests=read_manifests([str(manifest)])).results[0]
    got = {str(f.ref): (f.status.value, f.message) for f in result.findings}
    assert got["StorageClass/gp3"][0] == "pass"
    assert got["StorageClass/gp3-now"][0] == "warn"
    assert got["StorageClass/gp3-now"][1].startswith(
        "StorageClass gp3-now binds Immediate while nodes span zones eu-1a (1), eu-1b (1): "
    )
    assert "the claims the manifests create on it (vendor/db-data)" in got["StorageClass/gp3-now"][1]


TOPOLOGY = "topology.kubernetes.io/zone"


PBT = "PersistentVolumeClaim/kubeflow-user-example-com/{experiment-name}-pbt"


def planned_finding(rep: Report, check_id: str, ref: str) -> Finding:
    result = next(r for r in rep.results if r.id == check_id)
    return next(f for f in result.findings if str(f.ref) == ref)


def test_a_planned_claim_that_cannot_bind_is_fixed_in_the_manifests_and_caused_by_no_rwx_class() -> None:
    """Katib's PBT claim is a name template that exists in no cluster: its fix changes the manifests
    (no `kubectl get` of it), and on a cluster without any RWX-capable class the planned failures in
    kubeflow_claims and rwx_claims are grouped under rwx_available's KFS-RWX-NONE."""
    rep = report(CASES / "scenarios" / "k3s-local-path.yaml", KF_2603)
    root = planned_finding(rep, "rwx_available", "cluster")
    assert (root.status, root.code, root.caused_by) == (Status.FAIL, "KFS-RWX-NONE", None)
    for check_id, code in (("kubeflow_claims", "KFS-PLAN-ACCESS-MODE"), ("rwx_claims", "KFS-RWX-CLAIM-UNSUPPORTED")):
        found = planned_finding(rep, check_id, PBT)
        assert (found.status, found.code) == (Status.FAIL, code), check_id
        assert found.caused_by == Cause("KFS-RWX-NONE", CLUSTER), check_id
        assert found.fix is not None and found.fix.commands == (), check_id
    rwx_fix = planned_finding(rep, "rwx_claims", PBT).fix
    assert rwx_fix is not None
    assert rwx_fix.text == (
        "before installing, set storageClassName of claim {experiment-name}-pbt in the manifests to an "
        "RWX-capable class (none exists yet: install an RWX-capable driver and create one)"
    )
    roots = {r.root.finding.code: r for r in grouping.group(rep).roots}
    cleared = {(c.check, str(c.finding.ref)) for c in roots["KFS-RWX-NONE"].cleared}
    assert {("kubeflow_claims", PBT), ("rwx_claims", PBT)} <= cleared
    # Everything the RWX root clears is a ReadWriteMany claim, never something else it does not explain.
    assert {ref for _, ref in cleared} == {PBT}


def test_with_an_rwx_class_the_planned_fix_names_it_and_no_rwx_root_is_claimed() -> None:
    rep = report(EXAMPLES / "portworx-kubeflow-1.10.yaml", KF_2603)
    found = planned_finding(rep, "rwx_claims", PBT)
    assert (found.status, found.code, found.caused_by) == (Status.FAIL, "KFS-RWX-CLAIM-UNSUPPORTED", None)
    assert found.fix is not None and found.fix.commands == ()
    assert found.fix.text == (
        "before installing, set storageClassName of claim {experiment-name}-pbt in the manifests to an "
        "RWX-capable class such as px-shared"
    )
    assert planned_finding(rep, "kubeflow_claims", PBT).caused_by is None
