"""GPU metrics of Kubernetes clusters, read from each cluster's Dask scheduler.

The emulated clusters have no scheduler, so the one cluster under test gets a real
`distributed` scheduler and worker on 127.0.0.1 (the worker reports NVML-shaped readings, as
dask-cuda workers do) and the backend's scheduler address is pointed at it.
"""

from __future__ import annotations

import pytest
from distributed import Scheduler, Worker

from jupyter_rapids_kf.backends.kubernetes import KubernetesBackend

from . import fake_operator

GiB = 2**30
UNREACHABLE = "tcp://127.0.0.1:9"  # discard port on loopback: nothing listens


@pytest.fixture
def k8s_config():
    return {"gpu_metrics_interval": 0.2}


class Asked(list):
    """Names of the clusters whose scheduler the backend asked; `gpu-etl`'s is `self.real`."""

    real = UNREACHABLE


@pytest.fixture
def asked(monkeypatch) -> Asked:
    names = Asked()

    def address(self, cluster):
        return names.real if cluster.name == "gpu-etl" else UNREACHABLE

    gpu_targets = KubernetesBackend._gpu_targets

    def targets(self):  # the clusters whose scheduler is asked for GPU readings this round
        chosen = gpu_targets(self)
        names.extend(chosen)
        return chosen

    monkeypatch.setattr(KubernetesBackend, "scheduler_address", address)
    monkeypatch.setattr(KubernetesBackend, "_gpu_targets", targets)
    return names


async def running(api, k8s, name: str, **fields) -> dict:
    code, body = await api.call("POST", "clusters", {"name": name, "workers": 1, **fields})
    assert code == 202, body
    fake_operator.reconcile(k8s, name)
    return await api.wait_for(name, lambda c: c["phase"] == "Running", timeout=10)


async def test_gpu_memory_and_utilisation_come_from_the_scheduler_and_follow_it(api, k8s, events, asked):
    async with Scheduler(host="127.0.0.1", dashboard_address=":0") as scheduler:
        asked.real = scheduler.address
        await gpu_cluster_reports_its_workers(api, k8s, events, scheduler)


async def gpu_cluster_reports_its_workers(api, k8s, events, scheduler):
    reading = {"memory-used": 3 * GiB, "utilization": 40}
    stream = events()
    async with Worker(scheduler.address, host="127.0.0.1",
                      metrics={"gpu": lambda worker: dict(reading)},
                      startup_information={"gpu": lambda worker: {"name": "H200", "memory-total": 16 * GiB}}):
        await running(api, k8s, "gpu-etl", gpus_per_worker=1)
        cluster = await api.wait_for("gpu-etl", lambda c: c["gpus"]["memory_used"] is not None, timeout=10)
        assert cluster["gpus"] == {"in_use": 1, "memory_used": 3 * GiB, "memory_total": 16 * GiB,
                                   "utilization": 40.0}
        assert cluster["phase"] == "Running" and cluster["reasons"] == []

        # A busier GPU reaches the sidebar on the event stream, not only on the next GET.
        reading.update({"memory-used": 12 * GiB, "utilization": 95})
        pushed = await stream.wait(lambda kind, c: kind == "cluster" and c["gpus"]["utilization"] == 95.0,
                                   timeout=10, what="new GPU reading")
        assert pushed["gpus"]["memory_used"] == 12 * GiB

    # The worker left: the scheduler answers with no GPU readings, and the status stays as it was.
    gone = await api.wait_for("gpu-etl", lambda c: c["gpus"]["memory_used"] is None, timeout=10)
    assert gone["gpus"]["in_use"] == 1 and gone["phase"] == "Running" and gone["reasons"] == []


async def test_clusters_without_gpus_or_scheduler_are_not_asked_and_unreachable_ones_stay_empty(api, k8s, asked):
    await running(api, k8s, "cpu-etl", gpus_per_worker=0)
    code, _ = await api.call("POST", "clusters", {"name": "starting", "workers": 1, "gpus_per_worker": 1})
    assert code == 202
    unreachable = await running(api, k8s, "other-gpu", gpus_per_worker=1)
    # Two rounds: distributed retries a refused connection until the read's 5 s timeout.
    await api.wait_for("other-gpu", lambda c: asked.count("other-gpu") >= 2, timeout=20)
    assert set(asked) == {"other-gpu"}
    now = await api.get("clusters/other-gpu")
    assert now == unreachable and now["gpus"]["memory_used"] is None
