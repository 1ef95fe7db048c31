"""Preflight checks that can fail: each one is made to fail (or to say it cannot tell) here.

The `status` of a check is "ok", "failed" or "unknown"; `ok` is true only for "ok".
"""

from __future__ import annotations

import asyncio
import shutil

import distributed
import pytest

from jupyter_rapids_kf.backends.base import Check
from jupyter_rapids_kf.backends.kubernetes.checks import doctor_allowlist_check, image_check
from jupyter_rapids_kf.backends.local.clusters import LocalBackend
from jupyter_rapids_kf.config import RapidsKF


def test_an_unknown_is_not_ok_and_a_plain_check_keeps_its_old_fields():
    assert Check.unknown("gpus", "cannot tell").to_json() == {
        "name": "gpus", "ok": False, "status": "unknown", "message": "cannot tell", "fix": None}
    assert Check("dask", True, "fine").to_json()["status"] == "ok"
    assert Check("dask", False, "broken", "fix it").to_json()["status"] == "failed"


def local_checks(state_dir) -> dict[str, Check]:
    async def run():
        backend = LocalBackend(state_dir, standby=False)
        await backend.start()
        try:
            return await backend.checks()
        finally:
            await backend.stop()

    return {c.name: c for c in asyncio.run(run())}


def test_the_local_dask_check_passes_where_clusters_can_start(tmp_path):
    check = local_checks(tmp_path / "state")["dask"]
    assert check.status == "ok" and f"distributed {distributed.__version__}" in check.message


def test_the_local_dask_check_fails_when_the_state_directory_cannot_be_written(tmp_path):
    state = tmp_path / "state"

    async def run():
        backend = LocalBackend(state, standby=False)
        await backend.start()
        try:
            shutil.rmtree(state)
            state.write_text("a file where the directory was")  # e.g. a clean-up removed it
            return {c.name: c for c in await backend.checks()}
        finally:
            await backend.stop()

    check = asyncio.run(run())["dask"]
    assert check.status == "failed" and not check.ok
    assert f"local clusters cannot keep their files in {state}" in check.message
    assert "writable directory" in check.fix


def test_the_local_dask_check_fails_on_a_distributed_older_than_supported(tmp_path, monkeypatch):
    monkeypatch.setattr(distributed, "__version__", "2023.1.0")
    check = local_checks(tmp_path / "state")["dask"]
    assert check.status == "failed"
    assert check.message == "distributed 2023.1.0 is installed; local clusters need distributed>=2024.12"
    assert "pip install" in check.fix


def test_the_image_check_fails_when_the_allowed_images_refuse_the_default():
    config = RapidsKF(allowed_images=["nvcr.io/nvidia/rapidsai/*"], default_image="rapidsai/base:26.10")
    check = image_check(config, "jupyter/scipy-notebook:latest", "the notebook pod nb-0")
    assert check.status == "failed"
    assert "jupyter/scipy-notebook:latest" in check.message and "refuses" in check.message
    assert image_check(config, "nvcr.io/nvidia/rapidsai/base:26.10", "the notebook pod nb-0").status == "ok"


def test_the_image_check_cannot_tell_when_the_notebook_image_is_unreadable():
    config = RapidsKF(default_image="rapidsai/base:26.10")
    check = image_check(config, None, "c.RapidsKF.default_image (notebook pod nb-0 not readable: forbidden)")
    assert check.status == "unknown" and not check.ok
    assert check.message.startswith("new clusters use rapidsai/base:26.10")
    # An admin who chose the default image on purpose gets ok.
    config.use_notebook_image = False
    assert image_check(config, None, "c.RapidsKF.default_image (use_notebook_image is off)").status == "ok"
    config.default_image = ""
    assert image_check(config, None, "c.RapidsKF.default_image").status == "failed"


@pytest.mark.parametrize("on,status", [(True, "ok"), (False, "failed")])
def test_the_doctors_proxy_allowlist_check_fails_when_the_allowlist_is_off(on, status):
    check = doctor_allowlist_check(on)
    assert check.status == status
    if not on:
        assert "configure_proxy_allowlist is False" in check.message
        assert check.fix == "keep c.RapidsKF.configure_proxy_allowlist = True (the default)"


def test_the_doctors_proxy_allowlist_check_fails_without_jupyter_server_proxy(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "jupyter_server_proxy" else real(name, *a))
    check = doctor_allowlist_check(True)
    assert check.status == "failed" and "not installed" in check.message


def test_the_kubernetes_ucx_check_names_what_the_cluster_image_needs():
    from jupyter_rapids_kf.backends.kubernetes.checks import ucx_check

    check = ucx_check("rapidsai/base:26.10-cuda13-py3.12")
    assert check.ok and "rapidsai/base:26.10-cuda13-py3.12" in check.message
    assert "distributed-ucxx-cu13" in check.message and "need none of it" in check.message
