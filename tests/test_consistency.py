"""Checks never contradict each other about the same object.

Every check runs on every corpus file and example; for each file, what one check (or the inventory)
says about a class or claim must agree with what the others say about it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kfstor.collect.snapshot import from_files
from kfstor.engine import runner
from kfstor.engine.loader import load_checks
from kfstor.facts import k8s, storage
from kfstor.render.report import Report
from tests.corpus import CASES_DIR, EXAMPLES_DIR

CHECKS = load_checks(include_plugins=False).checks
FILES = sorted({*CASES_DIR.rglob("*.yaml"), *EXAMPLES_DIR.glob("*.yaml")})


def audit(path: Path) -> Report:
    snap = from_files([str(path)])
    namespace = "kubeflow"
    header = path.read_text(encoding="utf-8").split("\n# namespace: ", 1)
    if len(header) == 2:
        namespace = header[1].split()[0]
    return runner.run(CHECKS, snap, namespace=namespace)


def findings(report: Report, check_id: str) -> dict[str, tuple[str, str]]:
    result = next(r for r in report.results if r.id == check_id)
    return {str(f.ref): (f.status.value, f.message) for f in result.findings}


def contradictions(report: Report) -> list[str]:
    facts = report.facts
    problems: list[str] = []

    # 1. Multi-Attach is only ever claimed for volumes Kubernetes attaches.
    for ref, (status, message) in findings(report, "rwx_claims").items():
        if status != "fail" or "Multi-Attach" not in message:
            continue
        _, ns, name = ref.split("/")
        pvc = facts.get("PersistentVolumeClaim", name, ns)
        assert pvc is not None
        sc = facts.claim_class(pvc).obj
        if sc is None:
            continue
        driver = storage.csi_name(k8s.provisioner(sc))
        if driver in facts.unattached_drivers or (
            (facts.csi_drivers is None or driver not in facts.csi_drivers) and storage.attach_required(sc) is False
        ):
            problems.append(f"rwx_claims: Multi-Attach for {ref}, whose driver {driver} never attaches")

    # 2. One answer per class to "can it serve ReadWriteMany file systems": rwx_available, the
    #    inventory and rwx_claims agree.
    capable = {
        name
        for name, sc in facts.classes.items()
        if storage.is_volume_class(sc) and facts.rwx_fs(sc).capable is True and not facts.driver_missing(sc)
    }
    rows = {row.name: row.rwx for row in report.inventory.classes}
    for name in facts.classes:
        if (rows.get(name) == "yes") != (name in capable):
            problems.append(
                f"inventory says RWX {rows.get(name)} for {name}, rwx_available counts it: {name in capable}"
            )
    available = findings(report, "rwx_available").get("cluster")
    if available is not None and available[0] == "pass":
        served = available[1].split(" can be served by ", 1)[1]
        for name in capable:
            if not re.search(rf"(^|, ){re.escape(name)} \(", served):
                problems.append(f"rwx_available does not count capable class {name}")
    for ref, (_, message) in findings(report, "rwx_claims").items():
        for name in capable:
            if f"from StorageClass {name}, which cannot serve them" in message and "filesystem" in message:
                problems.append(f"rwx_claims says {name} cannot serve {ref}, rwx_available counts it")

    # 3. One default class.
    default = facts.default.name
    for ref, (status, _) in findings(report, "default_storage_class").items():
        if status == "pass" and ref != f"StorageClass/{default}":
            problems.append(f"default_storage_class passes {ref} as default; facts say {default}")
    effective = [row.name for row in report.inventory.classes if row.default == "effective default"]
    if effective != ([default] if default else []):
        problems.append(f"inventory's effective default {effective} is not {default}")
    for ref in findings(report, "volume_binding_mode"):
        if ref.startswith("StorageClass/") and ref != f"StorageClass/{default}":
            problems.append(f"volume_binding_mode judges {ref}, not the default {default}")

    # 4. A class whose driver is not registered serves nothing anywhere.
    for ref, (status, message) in findings(report, "provisioner_installed").items():
        if status in ("warn", "fail") and "is registered, so the driver is not installed" in message:
            name = ref.split("/", 1)[1]
            if name in capable:
                problems.append(f"provisioner_installed: {ref} has no driver, yet it counts as RWX-capable")

    # 5. A claim claim_health counts as healthy is not called broken by the Kubeflow checks.
    healthy_namespaces = {
        ref.split("/", 1)[1]
        for ref, (status, _) in findings(report, "claim_health").items()
        if ref.startswith("Namespace/")
    }
    unhealthy = {ref for ref, (status, _) in findings(report, "claim_health").items() if status in ("warn", "fail")}
    for check_id in ("kubeflow_claims", "notebook_volumes"):
        for ref, (status, message) in findings(report, check_id).items():
            if not ref.startswith("PersistentVolumeClaim/") or status != "fail":
                continue
            ns = ref.split("/")[1]
            if ref not in unhealthy and ns in healthy_namespaces and "does not exist" not in message:
                pvc = facts.get("PersistentVolumeClaim", ref.split("/")[2], ns)
                if pvc is not None and k8s.phase(pvc) == "Pending":
                    problems.append(f"{check_id} fails Pending {ref}, claim_health counts it healthy")
    return problems


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_checks_agree(path: Path) -> None:
    assert contradictions(audit(path)) == []
