"""Fixtures for tier 3: a real control plane on loopback (see README.md here)."""

from __future__ import annotations

import os
import subprocess
import time
from contextlib import nullcontext

import pytest

from .cluster import BUILD_SCRIPT, ControlPlane, default_bin_dir

PROFILE_NAMESPACE = "kubeflow-user-example-com"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "controlplane: runs against a real kube-apiserver/controller-manager/scheduler, "
        "kwok GPU nodes and the dask-kubernetes operator (builds binaries on first use)",
    )


def _build(config: pytest.Config) -> None:
    """Runs build.sh with its output shown live (it can take 20+ minutes cold)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        print(f"\n[controlplane] building binaries with {BUILD_SCRIPT}", flush=True)
        subprocess.run(["bash", str(BUILD_SCRIPT)], check=True)


@pytest.fixture(scope="session")
def control_plane(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The whole environment: control plane, kwok nodes, Dask CRDs, the operator and a
    KubeFlow-like profile namespace. ``RAPIDS_KF_CP_BIN_DIR`` points at prebuilt
    binaries instead of the cache build.sh fills."""
    bin_dir = os.environ.get("RAPIDS_KF_CP_BIN_DIR")
    if not bin_dir:
        _build(request.config)  # returns at once when the cache is complete
        bin_dir = default_bin_dir()
    t0 = time.monotonic()
    cp = ControlPlane(bin_dir, tmp_path_factory.mktemp("controlplane"))
    with cp:
        for step, call in (("crds_s", cp.install_operator_crds), ("operator_s", cp.start_operator),
                           ("profile_s", lambda: cp.create_profile_namespace(PROFILE_NAMESPACE))):
            t = time.monotonic()
            call()
            cp.timings[step] = time.monotonic() - t
        cp.timings["fixture_s"] = time.monotonic() - t0
        steps = ", ".join(f"{k} {v:.1f}" for k, v in cp.timings.items())
        print(f"\n[controlplane] up ({steps}), logs in {cp.logs}")
        yield cp


@pytest.fixture(scope="session")
def profile_namespace(control_plane: ControlPlane) -> str:
    return PROFILE_NAMESPACE
