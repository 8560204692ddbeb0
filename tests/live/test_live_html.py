"""The HTML report of a live audit, opened in headless Chromium like a person would open it.

A private control plane is seeded with a small Kubeflow cluster whose StorageClass annotation,
StorageClass parameter and Event message carry `<script>` and `<img onerror>` payloads. kfstor
audits it into report.html, and Chromium (Debian's package, driven by the playwright package;
no browser is ever downloaded) must show that:

- the page loads with no console error and no page error;
- it requests nothing but the file itself (the report is self-contained);
- none of the planted scripts ran (window.__pwned stays undefined, the page has exactly its own
  one <script> and no <img>), and the payload is shown as literal text;
- checks that need attention are cards, passing and skipped ones rows of one table, and the
  missing EFS driver leads as the root cause of the Pending claim, with its fix;
- a full-page screenshot is saved to $KFSTOR_ARTIFACTS (default <repo>/.artifacts)/report-live.png.

Without Chromium or playwright the test is skipped, unless KFSTOR_REQUIRE_CLUSTER=1 (CI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .controlplane import ControlPlane, start_control_plane

pytestmark = pytest.mark.live

REPO = Path(__file__).resolve().parents[2]
ENTRY = "import sys; sys.argv[0] = 'kfstor'; from kfstor.cli import main; main()"
CHROMIUM = Path(os.environ.get("KFSTOR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAYLOAD = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>"
PARAM_PAYLOAD = "<script>window.__pwned=3</script>"
EVENT_PAYLOAD = "waiting for a volume: <script>window.__pwned=4</script><img src=x onerror=window.__pwned=5>"
NS = "kubeflow"
# The seaweedfs claim is Pending on a class whose CSI driver is not installed; everything else is
# healthy, EBS has no RWX, no snapshot API, Delete reclaim policies, no notebooks and no Portworx.
EXPECTED = {
    "claim_health": "fail",
    "kubeflow_claims": "fail",
    "rwx_available": "fail",
    "provisioner_installed": "warn",
    "snapshot_support": "warn",
    "stateful_storage": "warn",
    "default_storage_class": "pass",
    "rwx_claims": "pass",
    "stateful_replication": "pass",
    "volume_binding_mode": "pass",
    "notebook_volumes": "skip",
    "portworx_parameters": "skip",
    "storage_capacity": "skip",
}


def unavailable(reason: str) -> None:
    if os.environ.get("KFSTOR_REQUIRE_CLUSTER") == "1":
        pytest.fail(
            f"{reason} (KFSTOR_REQUIRE_CLUSTER=1 forbids skipping; .ci/run installs Chromium "
            "from Debian's packages and playwright from the test extras)",
            pytrace=False,
        )
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser_ready() -> None:
    """Checked before any control plane starts: missing tools skip (or fail in CI) at once."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the playwright package is not installed (pip install playwright)")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="module")
def cluster(browser_ready: None, control_plane: ControlPlane) -> Iterator[ControlPlane]:
    """A private control plane (cluster-scoped objects of its own), from the session's binaries."""
    cp = start_control_plane(binaries=control_plane.binaries)
    try:
        seed(cp)
        yield cp
    finally:
        cp.stop()


def storage_class(name: str, provisioner: str, default: bool = False, **extra: Any) -> dict[str, Any]:
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "annotations": {**annotations, **extra.pop("annotations", {})}},
        "provisioner": provisioner,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    } | extra


def claim(name: str, class_name: str | None, size: str = "20Gi") -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if class_name is not None:
        spec["storageClassName"] = class_name
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }


def bind(cp: ControlPlane, pvc: dict[str, Any], class_name: str, driver: str) -> None:
    """Play the provisioner and the PV controller: a PV for the claim, both Bound."""
    name = pvc["metadata"]["name"]
    size = pvc["spec"]["resources"]["requests"]["storage"]
    pv = cp.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": f"pvc-{name}"},
            "spec": {
                "capacity": {"storage": size},
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": class_name,
                "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": NS, "name": name},
                "csi": {"driver": driver, "volumeHandle": f"vol-{name}"},
            },
        }
    )
    cp.set_status(pv, {"phase": "Bound"})
    stored = cp.get(pvc)
    stored["spec"]["volumeName"] = pv["metadata"]["name"]
    cp.call("PUT", f"/api/v1/namespaces/{NS}/persistentvolumeclaims/{name}", stored)
    cp.set_status(pvc, {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}})


def seed(cp: ControlPlane) -> None:
    cp.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    for i, zone in enumerate(("us-east-1a", "us-east-1b")):
        cp.create(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": f"worker-{i}",
                    "labels": {"topology.kubernetes.io/zone": zone, "kubernetes.io/hostname": f"worker-{i}"},
                },
            }
        )
    cp.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSIDriver",
            "metadata": {"name": "ebs.csi.aws.com"},
            "spec": {"attachRequired": True, "podInfoOnMount": False},
        }
    )
    cp.create(
        storage_class(
            "gp3",
            "ebs.csi.aws.com",
            default=True,
            annotations={"description": PAYLOAD},
            parameters={"type": "gp3", "csi.storage.k8s.io/fstype": PARAM_PAYLOAD},
        )
    )
    # The EFS driver was never installed: claims on this class can never be provisioned.
    cp.create(
        storage_class(
            "efs-shared", "efs.csi.aws.com", parameters={"provisioningMode": "efs-ap"}, volumeBindingMode="Immediate"
        )
    )
    for name in ("mysql-pv-claim", "katib-mysql"):
        pvc = claim(name, "gp3", "20Gi" if name == "mysql-pv-claim" else "10Gi")
        cp.create(pvc)
        bind(cp, pvc, "gp3", "ebs.csi.aws.com")
    cp.create(claim("seaweedfs-pvc", "efs-shared"))
    cp.create(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "seaweedfs-pvc.1", "namespace": NS},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": NS,
                "name": "seaweedfs-pvc",
            },
            "reason": "ExternalProvisioning",
            "message": EVENT_PAYLOAD,
            "type": "Normal",
            "count": 12,
            "firstTimestamp": "2025-06-01T10:00:00Z",
            "lastTimestamp": "2025-06-01T10:30:00Z",
            "source": {"component": "persistentvolume-controller"},
        }
    )


def artifacts_dir() -> Path:
    path = Path(os.environ.get("KFSTOR_ARTIFACTS") or REPO / ".artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


# Per card of a check that needs attention: its id, status and visibility.
SECTIONS_JS = """() => Array.from(document.querySelectorAll('section.check')).map(s => ({
  id: s.id, status: s.dataset.status, visible: s.checkVisibility()
}))"""


def test_live_html_report_in_chromium(cluster: ControlPlane, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    report = tmp_path / "report.html"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            ENTRY,
            "audit",
            "--kubeconfig",
            str(cluster.kubeconfig("admin")),
            "--html",
            str(report),
            "--json",
            str(tmp_path / "report.json"),
            "--format",
            "table",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    # The gate fails (the seaweedfs claim can never bind), so the exit code is 1 and stderr is quiet.
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stderr == ""
    statuses = {c["id"]: c["status"] for c in json.loads((tmp_path / "report.json").read_text())["checks"]}
    assert {check_id: statuses.get(check_id) for check_id in EXPECTED} == EXPECTED, statuses
    html = report.read_text(encoding="utf-8")
    # Escaped in the file itself: the payloads never appear as markup.
    assert "<script>window.__pwned" not in html and "<img" not in html
    # The parameter, in the inventory (names carry unbreakable parts and break opportunities).
    plain = html.replace('<span class="nb">', "").replace("</span>", "").replace("<wbr>", "")
    assert "&lt;script&gt;window.__pwned=3&lt;/script&gt;" in plain
    assert "&lt;script&gt;window.__pwned=4&lt;/script&gt;" in html  # the Event message, in a finding

    console: list[str] = []
    page_errors: list[str] = []
    requests: list[str] = []
    screenshot = artifacts_dir() / "report-live.png"
    screenshot.unlink(missing_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.on("request", lambda req: requests.append(req.url))
            page.goto(report.as_uri(), wait_until="load")
            page.wait_for_timeout(300)  # let any (planted) handler or late request show itself

            assert page_errors == []
            assert [m for m in console if m.startswith("error")] == []
            assert requests == [report.as_uri()]

            # The planted markup is text: nothing ran, no element was created from it.
            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert page.evaluate("document.querySelectorAll('script').length") == 1  # the report's own
            assert page.evaluate("document.images.length") == 0
            # Open every collapsed section: the payloads must read as text wherever they sit.
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
            body_text = page.inner_text("body")
            assert "<script>" in body_text
            assert PARAM_PAYLOAD in body_text and "<script>window.__pwned=4</script>" in body_text
            assert page.title().startswith("kfstor report")

            # Checks that need attention are cards; passing and skipped ones are rows of one table.
            sections = page.evaluate(SECTIONS_JS)
            problems = {c for c, st in statuses.items() if st in ("warn", "fail", "error")}
            assert {s["id"] for s in sections} == {f"check-{c}" for c in problems}
            assert all(s["visible"] for s in sections)
            quiet = page.evaluate("Array.from(document.querySelectorAll('#quiet tr.check')).map(r => r.id)")
            assert set(quiet) == {f"check-{c}" for c in statuses if c not in problems}
            # The missing EFS driver is the root cause of the Pending seaweedfs claim, with its fix.
            root = page.inner_text("#root-causes")
            assert "KFS-PROVISIONER-MISSING" in root and "StorageClass/efs-shared" in root
            assert "kubectl get csidriver efs.csi.aws.com" in root
            caused = page.inner_text("#check-kubeflow_claims")
            assert "caused by KFS-PROVISIONER-MISSING on StorageClass/efs-shared" in caused

            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert page_errors == []
    assert [m for m in console if m.startswith("error")] == []
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000, f"screenshot is only {len(data)} bytes"
    shutil.copy(report, artifacts_dir() / "report-live.html")
