"""GPU-hours in the cluster JSON of a real local cluster (CPU workers: none held, and the fields
say so: 0 GPU-hours, busy share unknown rather than 0), with the admin's price."""

from __future__ import annotations

import time

import pytest

from jupyter_rapids_kf.models.cluster import parse_iso


@pytest.fixture
def rapids_kf_config():
    return {"backend": "local", "stop_local_clusters_on_exit": True, "local_warm_cluster": False,
            "gpu_hour_price": 2.75, "gpu_hour_currency": "EUR"}


def no_gpu_hours(gpu_hours: dict) -> None:
    assert gpu_hours["held"] == 0 and gpu_hours["read"] == 0 and gpu_hours["gpus_held"] == 0
    assert gpu_hours["busy"] is None and gpu_hours["busy_share"] is None  # unknown, not 0 %
    assert gpu_hours["counted_since"] is None and gpu_hours["idle_since"] is None
    assert (gpu_hours["price_per_gpu_hour"], gpu_hours["currency"], gpu_hours["cost"]) == (2.75, "EUR", 0)
    assert (gpu_hours["idle_below"], gpu_hours["idle_after"]) == (5, 600)


async def test_a_cpu_cluster_holds_no_gpu_hours_in_every_answer(api, events):
    async with events() as stream:
        await stream.next("clusters")
        status, made = await api.call("POST", "clusters", {"name": "cpu-hours", "workers": 1, "gpus_per_worker": 0})
        assert status == 202
        no_gpu_hours(made["gpu_hours"])
        try:
            running = await stream.next("cluster", lambda c: c["name"] == "cpu-hours" and c["phase"] == "Running",
                                        timeout=90)
            no_gpu_hours(running["gpu_hours"])
            as_of = running["gpu_hours"]["as_of"]
            # Counted from the first look, and kept across lists: nothing held, so nothing changes.
            assert time.time() - 120 < parse_iso(as_of) <= time.time() + 1
            for _ in range(3):
                listed = (await api.get("clusters"))["clusters"]
                assert [c["gpu_hours"]["as_of"] for c in listed] == [as_of]
                no_gpu_hours(listed[0]["gpu_hours"])
            status, scaled = await api.call("PATCH", "clusters/cpu-hours", {"workers": 2})
            assert status == 202
            no_gpu_hours(scaled["gpu_hours"])
            got = await api.wait_for("cpu-hours", lambda c: c["workers"]["ready"] == 2, 90, "2 workers")
            no_gpu_hours(got["gpu_hours"])
            assert got["gpu_hours"]["as_of"] == as_of
        finally:
            await api.call("DELETE", "clusters/cpu-hours")
            await api.wait_gone("cpu-hours")
