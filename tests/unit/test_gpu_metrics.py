"""The GPU summary of a cluster, from what its Dask workers report to the scheduler."""

from __future__ import annotations

from distributed import Scheduler, Worker
from distributed.core import rpc

from jupyter_rapids_kf.models.gpu_usage import from_identity, summarize

GiB = 2**30


def test_both_ways_distributed_reports_nvml_are_read_and_missing_gpus_ignored():
    workers = [
        ({"gpu": {"memory-used": 2 * GiB, "utilization": 50}}, {"gpu": {"memory-total": 80 * GiB}}),
        ({"gpu_memory_used": 6 * GiB, "gpu_utilization": 100, "gpu-memory-total": 80 * GiB}, {}),
        ({"gpu_memory_used": -1, "cpu": 12.0}, {}),  # a CPU worker: -1 means no GPU
    ]
    assert summarize(workers) == {"memory_used": 8 * GiB, "memory_total": 160 * GiB, "utilization": 75.0}
    assert summarize([({"cpu": 3.0}, {})]) == {"memory_used": None, "memory_total": None, "utilization": None}


async def test_a_schedulers_identity_carries_the_workers_gpu_readings():
    async with Scheduler(host="127.0.0.1", dashboard_address=":0") as scheduler:
        async with Worker(
            scheduler.address,
            host="127.0.0.1",
            metrics={"gpu": lambda worker: {"memory-used": 3 * GiB, "utilization": 40}},
            startup_information={"gpu": lambda worker: {"name": "Fake GPU", "memory-total": 16 * GiB}},
        ):
            async with rpc(scheduler.address) as comm:
                identity = await comm.identity()
    assert from_identity(identity) == {"memory_used": 3 * GiB, "memory_total": 16 * GiB, "utilization": 40.0}
