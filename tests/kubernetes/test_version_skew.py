"""A cluster whose image runs other versions than this notebook says so on the card and in
the snippet; the versions come from the cluster's real scheduler (on 127.0.0.1 here: the
emulated clusters have none), asked over Dask's comm as the client snippet connects."""

from __future__ import annotations

import asyncio

import pytest
from distributed import Scheduler

from jupyter_rapids_kf.models import versions as version_skew
from jupyter_rapids_kf.backends.kubernetes import KubernetesBackend

from . import fake_operator


@pytest.fixture
def k8s_config():
    return {"gpu_metrics_interval": 0.2}


async def running_against(api, k8s, monkeypatch, scheduler, name: str) -> dict:
    monkeypatch.setattr(KubernetesBackend, "scheduler_address", lambda self, cluster: scheduler.address)
    code, body = await api.call("POST", "clusters", {"name": name, "workers": 1, "gpus_per_worker": 0})
    assert code == 202, body
    fake_operator.reconcile(k8s, name)
    return await api.wait_for(name, lambda c: c["phase"] == "Running", timeout=10)


async def test_a_cluster_on_other_versions_is_named_on_the_card_and_in_the_snippet(api, k8s, monkeypatch):
    import distributed

    # This notebook's kernels run an older distributed than the cluster's scheduler does.
    monkeypatch.setattr(version_skew, "notebook_versions", lambda: {"distributed": "2024.1.0", "python": "3.0"})
    async with Scheduler(host="127.0.0.1", dashboard_address=":0") as scheduler:
        await running_against(api, k8s, monkeypatch, scheduler, "skewed")
        cluster = await api.wait_for("skewed", lambda c: c["version_skew"], timeout=10, what="version skew")
        by_package = {s["package"]: s for s in cluster["version_skew"]}
        assert by_package["distributed"] == {"package": "distributed", "cluster": distributed.__version__,
                                             "notebook": "2024.1.0"}
        assert "python" in by_package and cluster["phase"] == "Running"
        snippet = await api.get("clusters/skewed/snippet", kind="client")
        first = snippet["code"].splitlines()[0]
        assert first.startswith("# WARNING: This cluster runs") and "deserialization" in snippet["code"]
        assert f"distributed {distributed.__version__} (notebook: 2024.1.0)" in " ".join(
            line.lstrip("# ") for line in snippet["code"].splitlines())


async def test_the_same_versions_say_nothing(api, k8s, monkeypatch):
    async with Scheduler(host="127.0.0.1", dashboard_address=":0") as scheduler:
        await running_against(api, k8s, monkeypatch, scheduler, "same")
        # Asked within a few intervals (0.2 s); the answer agrees with this server's environment.
        await asyncio.sleep(1.0)
        for _ in range(5):
            cluster = await api.get("clusters/same")
            assert cluster["version_skew"] == []
        snippet = await api.get("clusters/same/snippet", kind="client")
        assert "WARNING" not in snippet["code"]
