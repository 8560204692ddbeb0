"""Fixtures for live tests against a real kube-apiserver + etcd.

``control_plane`` starts one control plane per test session. Binaries are found by
``controlplane.find_binaries()``; on a developer machine with Go but no cached build
the first run builds them via tests/controlplane/build.sh (about 5 minutes on 2 cores, once).

Without binaries and without Go the live tests are skipped, unless
``KFSTOR_REQUIRE_CLUSTER=1`` (CI), which turns that into a failure so CI can never
pass by silently skipping.

Every test that uses the fixture must be marked ``@pytest.mark.live``; collection
fails otherwise, so ``-m "not live"`` reliably deselects everything that needs it.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .cluster import Cluster, cluster_build_possible, find_cluster_bin, start_cluster
from .controlplane import (
    Binaries,
    ControlPlane,
    ControlPlaneError,
    build_possible,
    find_binaries,
    start_control_plane,
)
from .scenarios import seed_scenario

# The clusters of the fleet tests: one control plane each, seeded with a scenario whose verdict
# differs (healthy Portworx passes, no default class fails, Ceph passes with a warning).
FLEET_SCENARIOS = {
    "px-healthy": "portworx-kubeflow-1.10-healthy",
    "no-default": "no-default-pending",
    "ceph": "ceph-kubeflow-1.11",
}

LIVE_FIXTURES = {"control_plane", "control_plane_binaries", "cluster_bin", "live_cluster", "fleet_control_planes"}


def pytest_configure(config: pytest.Config) -> None:
    # Also declared in pyproject.toml; registering here keeps --strict-markers happy
    # even when this directory is run on its own.
    config.addinivalue_line("markers", "live: needs the real kube-apiserver + etcd test control plane")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [
        item.nodeid
        for item in items
        if LIVE_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("live") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests using a control plane fixture must be marked @pytest.mark.live: " + ", ".join(unmarked)
        )


@contextlib.contextmanager
def _uncaptured(config: pytest.Config) -> Iterator[None]:
    """Suspend pytest's output capture: a first-run build is slow and must not look hung."""
    capman = config.pluginmanager.getplugin("capturemanager")
    if capman is None:
        yield
        return
    with capman.global_and_fixture_disabled():
        yield


def _announce(config: pytest.Config, message: str) -> None:
    with _uncaptured(config):
        print(f"\n[live] {message}", flush=True)


@pytest.fixture(scope="session")
def control_plane_binaries(request: pytest.FixtureRequest) -> Binaries:
    """etcd + kube-apiserver for tests that start their own control planes (start_control_plane).

    Same rules as ``control_plane``: built on first use when Go is here, skipped without
    binaries, a failure instead when ``KFSTOR_REQUIRE_CLUSTER=1``.
    """
    config = request.config
    required = os.environ.get("KFSTOR_REQUIRE_CLUSTER") == "1"

    binaries, reason = find_binaries(build=False)
    if binaries is None and build_possible():
        # Nothing configured and no cached build, but Go is here: build it now, with
        # the build's output shown live. A failed build is an error, not a skip.
        with _uncaptured(config):
            print(f"\n[live] {reason}", flush=True)
            try:
                binaries, reason = find_binaries(build=True)
            except ControlPlaneError as exc:
                pytest.fail(str(exc), pytrace=False)
    if binaries is None:
        message = f"no test control plane: {reason}"
        if required:
            pytest.fail(f"{message} (KFSTOR_REQUIRE_CLUSTER=1 forbids skipping)", pytrace=False)
        pytest.skip(message)
    return binaries


@pytest.fixture(scope="session")
def control_plane(request: pytest.FixtureRequest, control_plane_binaries: Binaries) -> Iterator[ControlPlane]:
    """A running control plane shared by the session: admin and auditor users, no controllers."""
    config = request.config
    binaries = control_plane_binaries
    started = time.monotonic()
    # Startup errors propagate: a broken control plane is an error, never a skip.
    cp = start_control_plane(binaries=binaries)
    _announce(
        config,
        f"control plane {cp.server_version} up in {time.monotonic() - started:.1f}s at {cp.url} "
        f"(binaries: {binaries.source}; workdir: {cp.workdir})",
    )
    yield cp
    # Keep logs, audit log and kubeconfigs for post-mortems when any test failed.
    failed = request.session.testsfailed > 0 or os.environ.get("KFSTOR_KEEP_WORKDIR") == "1"
    cp.stop(keep_workdir=failed)
    if failed:
        _announce(config, f"control plane workdir kept: {cp.workdir}")


@pytest.fixture(scope="session")
def cluster_bin(request: pytest.FixtureRequest, control_plane_binaries: Binaries) -> Path:
    """The directory of kwok, the CSI sidecars and kfstor-csi (tests/cluster/build.sh).

    Same rules as ``control_plane_binaries``: built on first use when Go is here, skipped without
    binaries, a failure instead when ``KFSTOR_REQUIRE_CLUSTER=1``.
    """
    config = request.config
    required = os.environ.get("KFSTOR_REQUIRE_CLUSTER") == "1"
    bindir, reason = find_cluster_bin(build=False)
    if bindir is None and cluster_build_possible():
        with _uncaptured(config):
            print(f"\n[live] {reason}", flush=True)
            try:
                bindir, reason = find_cluster_bin(build=True)
            except ControlPlaneError as exc:
                pytest.fail(str(exc), pytrace=False)
    if bindir is None:
        message = f"no test cluster binaries: {reason}"
        if required:
            pytest.fail(f"{message} (KFSTOR_REQUIRE_CLUSTER=1 forbids skipping)", pytrace=False)
        pytest.skip(message)
    return bindir


@pytest.fixture(scope="session")
def live_cluster(
    request: pytest.FixtureRequest, control_plane_binaries: Binaries, cluster_bin: Path
) -> Iterator[Cluster]:
    """The whole test cluster (tests/live/cluster.py), shared by the session.

    Tests isolate themselves by namespace and put back any cluster-scoped change they make
    (the default class, a stopped component).
    """
    config = request.config
    started = time.monotonic()
    cluster = start_cluster(binaries=control_plane_binaries, bindir=cluster_bin)
    _announce(
        config,
        f"test cluster {cluster.cp.server_version} up in {time.monotonic() - started:.1f}s at {cluster.cp.url} "
        f"(components: {', '.join(cluster.components)}; workdir: {cluster.workdir})",
    )
    yield cluster
    failed = request.session.testsfailed > 0 or os.environ.get("KFSTOR_KEEP_WORKDIR") == "1"
    cluster.stop(keep_workdir=failed)
    if failed:
        _announce(config, f"test cluster workdir kept: {cluster.workdir}")


@pytest.fixture(scope="session")
def fleet_control_planes(
    request: pytest.FixtureRequest, control_plane_binaries: Binaries
) -> Iterator[dict[str, ControlPlane]]:
    """Three more control planes running at once (FLEET_SCENARIOS: name -> seeded plane), for
    tests that audit several clusters in one run.

    They start one after the other on this thread (each process is tied to the thread that
    started it: PR_SET_PDEATHSIG), then are seeded concurrently."""
    started = time.monotonic()
    planes: dict[str, ControlPlane] = {}
    try:
        for name in FLEET_SCENARIOS:
            planes[name] = start_control_plane(binaries=control_plane_binaries)
        with ThreadPoolExecutor(max_workers=len(planes)) as pool:
            for future in [pool.submit(seed_scenario, planes[n], s) for n, s in FLEET_SCENARIOS.items()]:
                future.result()
    except BaseException:
        for plane in planes.values():
            plane.stop(keep_workdir=True)
        raise
    _announce(
        request.config,
        f"{len(planes)} fleet control planes up and seeded in {time.monotonic() - started:.1f}s: "
        + ", ".join(f"{name} {plane.url}" for name, plane in planes.items()),
    )
    yield planes
    failed = request.session.testsfailed > 0 or os.environ.get("KFSTOR_KEEP_WORKDIR") == "1"
    for plane in planes.values():
        plane.stop(keep_workdir=failed)
