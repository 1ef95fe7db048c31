"""GPU-hours through the REST API of a server on the Kubernetes emulator.

As in test_gpu_readings.py, the emulated cluster has no scheduler of its own, so it gets a real
`distributed` scheduler and worker on 127.0.0.1 whose worker reports NVML-shaped readings set by
this test (disclosed: no GPU here; the readings are the test's, the counting is the server's).
"""

from __future__ import annotations

import asyncio

import pytest
from distributed import Scheduler, Worker

from . import fake_operator
from .test_gpu_readings import asked, running  # noqa: F401 (a fixture and a helper)


@pytest.fixture
def k8s_config():
    return {"gpu_metrics_interval": 0.2, "gpu_hour_price": 4.0}


def hours_of(cluster: dict) -> dict:
    return cluster["gpu_hours"]


async def test_gpu_hours_count_held_read_and_idle_time_and_stop_at_zero_workers(api, k8s, asked):  # noqa: F811
    reading = {"utilization": 40}
    async with Scheduler(host="127.0.0.1", dashboard_address=":0") as scheduler:
        asked.real = scheduler.address
        async with Worker(scheduler.address, host="127.0.0.1",
                          metrics={"gpu": lambda worker: dict(reading)}):
            await running(api, k8s, "gpu-etl", gpus_per_worker=1)
            busy = await api.wait_for("gpu-etl", lambda c: hours_of(c)["utilization"] == 40.0, timeout=10)
            assert hours_of(busy)["gpus_held"] == 1 and hours_of(busy)["counted_since"] is not None
            await asyncio.sleep(1.5)
            # Lists in between change nothing: the same totals as of the same change.
            listed = [c for c in (await api.get("clusters"))["clusters"] if c["name"] == "gpu-etl"]
            assert hours_of(listed[0]) == hours_of(busy)

            reading["utilization"] = 2  # idle from here
            idle = await api.wait_for("gpu-etl", lambda c: hours_of(c)["utilization"] == 2.0, timeout=10)
            g = hours_of(idle)
            assert g["idle_since"] == g["as_of"]  # under 5 % busy since this reading
            assert g["held"] >= g["read"] >= 1.5 / 3600 * 0.95  # the 1.5 s at 40 %, at least
            assert g["busy_share"] == 0.4  # every read second so far was at 40 %
            assert g["cost"] == round(g["held"] * 4.0, 2) and g["price_per_gpu_hour"] == 4.0
            await asyncio.sleep(1.0)

        # The worker left: no reading, the pod still holds its GPU. Held, not read; idle ends.
        blind = await api.wait_for("gpu-etl", lambda c: hours_of(c)["utilization"] is None, timeout=10)
        g = hours_of(blind)
        assert g["gpus_held"] == 1 and g["idle_since"] is None
        assert g["busy_share"] < 0.4  # the idle second at 2 % came in
        read_before = g["read"]
        await asyncio.sleep(1.0)

    code, _ = await api.call("PATCH", "clusters/gpu-etl", {"workers": 0})
    assert code == 202
    fake_operator.reconcile(k8s, "gpu-etl")  # the operator removes the worker pod
    released = await api.wait_for("gpu-etl", lambda c: hours_of(c)["gpus_held"] == 0, timeout=10)
    g = hours_of(released)
    assert g["read"] == read_before and g["held"] >= read_before + 1.0 / 3600 * 0.95  # the unread second
    await asyncio.sleep(1.0)
    assert hours_of(await api.get("clusters/gpu-etl"))["held"] == g["held"]  # nothing held: no growth

