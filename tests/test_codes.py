"""Problem codes: every problem a built-in check reports has a stable, catalogued code, one problem
per finding, a concrete fix without placeholders, and causes that name real codes."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from kfstor.collect.snapshot import from_files
from kfstor.engine import runner
from kfstor.engine.config import CheckConfig, Config
from kfstor.engine.loader import load_checks
from kfstor.model import CODE_PATTERN, Status
from tests.corpus import load_cases

CHECKS = {c.id: c for c in load_checks(include_plugins=False).checks}
ALL_CODES = {code.id: check_id for check_id, c in CHECKS.items() for code in c.codes}
# "<claim name>" left for the user to fill in, or a planned claim's name template
# ("{experiment-name}-pbt"), which names no object that exists yet.
PLACEHOLDER = re.compile(r"<[a-z][a-z -]*>|\{[a-z][a-z-]*\}")


def corpus_findings() -> list[tuple[str, str, object]]:
    rows = []
    for case in load_cases():
        snap = from_files([str(case.path)])
        config = Config(checks={case.check_id: CheckConfig(options=case.options)})
        report = runner.run([CHECKS[case.check_id]], snap, config=config, namespace=case.namespace)
        rows.extend((case.id, case.check_id, f) for f in report.results[0].findings)
    return rows


def plan_findings() -> list[tuple[str, str, object]]:
    """Every check on clusters planned from Kubeflow's manifests (--manifests): planned claims that
    will not bind carry codes as installed ones do."""
    from kfstor.collect.manifests import read_manifests

    cases = Path(__file__).parent / "cases"
    manifests = Path(__file__).parent / "manifests"
    clusters = [
        cases / "kubeflow_claims" / "pre-install-eks.yaml",
        cases / "claim_health" / "nothing.yaml",
        cases / "claim_health" / "all-healthy.yaml",
        cases / "volume_binding_mode" / "cinder-control-plane-zones.yaml",
        cases / "stateful_replication" / "not-in-table.yaml",
        cases / "scenarios" / "k3s-local-path.yaml",  # no RWX class: Katib's PBT template cannot bind
        manifests / "cluster-vendor.yaml",
    ]
    plans = [manifests / "kubeflow-26.03.yaml", manifests / "kubeflow-1.10.yaml", manifests / "vendor-postgres.yaml"]
    rows = []
    for cluster in clusters:
        for plan in plans:
            report = runner.run(
                list(CHECKS.values()), from_files([str(cluster)]), manifests=read_manifests([str(plan)])
            )
            case = f"{cluster.name}+{plan.name}"
            rows.extend((case, r.id, f) for r in report.results for f in r.findings)
    return rows


FINDINGS = corpus_findings() + plan_findings()


def test_codes_are_unique_well_formed_and_documented() -> None:
    counts = Counter(code.id for c in CHECKS.values() for code in c.codes)
    assert [code for code, n in counts.items() if n > 1] == []
    for check in CHECKS.values():
        assert check.codes, f"{check.id} declares no problem codes"
        for code in check.codes:
            assert re.match(CODE_PATTERN, code.id), code.id
            assert code.title and code.meaning and code.why and code.fix, code.id
            assert all(link.startswith("https://") for link in code.links), code.id


def test_every_problem_in_the_corpus_has_a_catalogued_code_of_its_check() -> None:
    problems = [
        (case, check_id, f)
        for case, check_id, f in FINDINGS
        if f.status in (Status.WARN, Status.FAIL, Status.NOT_EVALUATED)
    ]
    assert len(problems) > 200  # the corpus is large: this test sees real findings
    for case, check_id, f in problems:
        assert f.code, f"{case}: {f.ref} has no code: {f.message}"
        assert ALL_CODES.get(f.code) == check_id, f"{case}: {f.code} is not in {check_id}'s catalogue"


def test_one_problem_per_finding_no_object_carries_one_code_twice() -> None:
    seen = Counter((case, str(f.ref), f.code) for case, _, f in FINDINGS if f.code)
    assert [key for key, n in seen.items() if n > 1] == []


def test_causes_name_codes_that_exist() -> None:
    caused = [(case, f) for case, _, f in FINDINGS if f.caused_by is not None]
    assert len(caused) >= 10
    for case, f in caused:
        assert f.caused_by is not None
        assert f.caused_by.code in ALL_CODES, f"{case}: {f.ref} is caused by unknown {f.caused_by.code}"


def test_fixes_name_real_objects_and_link_documentation() -> None:
    with_fix = [(case, f) for case, _, f in FINDINGS if f.fix is not None]
    assert len(with_fix) > 150
    for case, f in with_fix:
        assert f.fix is not None
        assert f.fix.commands or f.fix.text, f"{case}: empty fix on {f.ref}"
        for command in f.fix.commands:
            assert not PLACEHOLDER.search(command), f"{case}: placeholder in {command!r}"
        assert not f.fix.docs or f.fix.docs.startswith("https://"), f.fix.docs


def test_the_no_default_example_patches_the_block_class() -> None:
    (_, _, root) = next(
        row
        for row in FINDINGS
        if row[0].startswith("examples/no-default-pending") and row[1] == "default_storage_class"
    )
    assert root.code == "KFS-DEFAULT-NONE"
    assert root.fix is not None
    assert root.fix.commands == (
        "kubectl patch storageclass longhorn -p "
        '\'{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}\'',
    )


@pytest.mark.parametrize(
    ("case_file", "check_id", "ref", "command"),
    [
        (
            "tests/cases/stateful_storage/nfs-subdir.yaml",
            "stateful_storage",
            "PersistentVolumeClaim/kubeflow/katib-mysql",
            "kubectl patch pv pvc-b08f28e0-a831-59d7-865e-be6c8a2fd59c -p "
            '\'{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}\'',
        ),
        # Rook deployed the driver (its namespace prefixes the provisioner; clusterID names the
        # namespace): the pool's size is read in Rook's toolbox.
        (
            "tests/cases/scenarios/ceph-kubeflow-1.11.yaml",
            "stateful_replication",
            "PersistentVolumeClaim/kubeflow/mysql-pv-claim",
            "kubectl -n rook-ceph exec deploy/rook-ceph-tools -- ceph osd pool get replicapool size",
        ),
        # Upstream ceph-csi: clusterID is the Ceph cluster's id, not a namespace; no toolbox.
        (
            "tests/cases/stateful_replication/upstream-ceph-csi-pre-install.yaml",
            "stateful_replication",
            "StorageClass/ceph-rbd",
            "ceph osd pool get 'kubeflow rbd' size",
        ),
    ],
)
def test_fix_commands_carry_the_real_names(case_file: str, check_id: str, ref: str, command: str) -> None:
    snap = from_files([case_file])
    result = runner.run([CHECKS[check_id]], snap).results[0]
    commands = [c for f in result.findings if str(f.ref) == ref and f.fix for c in f.fix.commands]
    assert command in commands, commands


DEFAULT_MARKS = ("storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class")


def test_a_copied_class_never_becomes_a_second_default() -> None:
    """A changed copy of a class drops the default mark (else it would be the newest default and take
    every claim that names no class); replacing the default class hands the mark over explicitly."""
    copies = [(case, f) for case, _, f in FINDINGS if f.fix and any("| jq " in c for c in f.fix.commands)]
    assert len(copies) > 20
    handovers = 0
    for case, f in copies:
        assert f.fix is not None
        copy = next(c for c in f.fix.commands if "| jq " in c)
        for mark in DEFAULT_MARKS:
            assert f'.metadata.annotations["{mark}"]' in copy, f"{case}: {f.ref} keeps {mark}"
        rest = [c for c in f.fix.commands if c != copy]
        if rest:
            new = re.search(r'\.metadata\.name = "([^"]+)"', copy)
            assert new is not None
            old = f.ref.name
            mark = '\'{"metadata":{"annotations":{"' + DEFAULT_MARKS[0] + '":"%s"}}}\''
            assert rest == [
                f"kubectl patch storageclass {new.group(1)} -p {mark % 'true'}",
                f"kubectl patch storageclass {old} -p {mark % 'false'}",
            ], f"{case}: {f.ref}"
            handovers += 1
    assert handovers >= 5  # default classes replaced: binding mode, in-tree name, Portworx parameters


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_the_copy_command_produces_a_class_that_is_not_default() -> None:
    """The printed jq program, run by jq on the class as the API server returns it."""
    snap = from_files(["tests/cases/provisioner_installed/eks-no-ebs-driver.yaml"])
    result = runner.run([CHECKS["provisioner_installed"]], snap).results[0]
    (f,) = [f for f in result.findings if f.code == "KFS-PROVISIONER-IN-TREE"]
    assert f.fix is not None
    copy = f.fix.commands[0]
    program = shlex.split(copy.split("| jq ", 1)[1].split(" | kubectl apply", 1)[0])[0]
    source = next(o for o in snap.of("StorageClass") if o["metadata"]["name"] == "gp2")
    assert source["metadata"]["annotations"][DEFAULT_MARKS[0]] == "true"
    out = subprocess.run(["jq", program], input=json.dumps(source), capture_output=True, text=True, check=True)
    copied = json.loads(out.stdout)
    assert copied["metadata"]["name"] == "gp2-csi"
    assert copied["provisioner"] == "ebs.csi.aws.com"
    assert not any(mark in copied["metadata"].get("annotations", {}) for mark in DEFAULT_MARKS)


def test_expansion_is_never_switched_on_for_a_driver_that_cannot_expand() -> None:
    """Allowing expansion on local-path or nfs-subdir would only make resizes hang."""
    no_expansion = [(case, f) for case, _, f in FINDINGS if f.code == "KFS-DB-NO-EXPANSION"]
    cannot = [(case, f) for case, f in no_expansion if "cannot expand volumes" in f.message]
    assert cannot and len(cannot) < len(no_expansion)
    for case, f in cannot:
        assert f.fix is not None and f.fix.commands == (), f"{case}: {f.ref}"
    for case, f in no_expansion:
        if (case, f) not in cannot:
            assert f.fix is not None and '{"allowVolumeExpansion":true}' in f.fix.commands[0], f"{case}: {f.ref}"
