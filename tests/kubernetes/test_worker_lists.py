"""The scheduler's own worker list, which decides who counts as ready: a real `distributed`
scheduler on 127.0.0.1 answers, as a cluster's scheduler answers the server."""

from __future__ import annotations

import asyncio
import socket

from distributed import Scheduler, Worker

from jupyter_rapids_kf.backends.kubernetes import fast_start
from jupyter_rapids_kf.backends.kubernetes.worker_lists import WorkerLists

UNREACHABLE = "tcp://127.0.0.1:9"  # discard port on loopback: nothing listens


async def test_the_list_names_the_registered_workers_and_says_why_when_it_cannot():
    changed: list[str] = []
    async with Scheduler(host="127.0.0.1", port=0, dashboard=False) as scheduler:
        targets = {"etl": (scheduler.address, True), "gone": (UNREACHABLE, True)}
        lists = WorkerLists(10.0, lambda: targets, changed.append)
        try:
            await lists.read_due()
            assert lists.get("etl").names == frozenset() and lists.get("etl").error is None
            gone = lists.get("gone")
            assert gone.names is None and gone.error  # not known, and why
            async with Worker(scheduler.address, nthreads=1, name="etl-default-worker-1a2b"):
                await lists.read_due()
                assert lists.get("etl").names == {"etl-default-worker-1a2b"}
            await lists.read_due()
            assert lists.get("etl").names == frozenset()  # it left: no longer counted
            del targets["gone"]
            await lists.read_due()
            assert lists.get("gone") is None and "gone" in changed
        finally:
            await lists.stop()


async def test_settling_clusters_are_read_every_round_steady_ones_each_interval():
    asked: list[str] = []

    async def ask(name: str, address: str) -> frozenset[str]:
        asked.append(name)
        return frozenset({"w"})

    targets = {"starting": ("tcp://a:8786", True), "steady": ("tcp://b:8786", False)}
    lists = WorkerLists(10.0, lambda: targets, lambda name: None, ask=ask)
    await lists.read_due(now=100.0)
    assert sorted(asked) == ["starting", "steady"]  # never read: both
    asked.clear()
    await lists.read_due(now=101.0)
    assert asked == ["starting"]
    lists.due("steady")  # its pods changed
    await lists.read_due(now=101.5)
    assert sorted(asked) == ["starting", "starting", "steady"]
    asked.clear()
    await lists.read_due(now=112.0)
    assert sorted(asked) == ["starting", "steady"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_worker_preload_waits_for_the_scheduler_and_the_worker_registers():
    """fast_start's preload, as the worker pods run it (its text through the config): a worker
    started before its scheduler listens registers once it does."""
    port = _free_port()
    worker = Worker(f"tcp://127.0.0.1:{port}", nthreads=1, dashboard=False, preload=[fast_start.WAIT_FOR_SCHEDULER])
    starting = asyncio.ensure_future(worker)
    await asyncio.sleep(1.0)
    assert not starting.done()
    async with Scheduler(host="127.0.0.1", port=port, dashboard=False) as scheduler:
        await asyncio.wait_for(starting, 30)
        assert list(scheduler.workers) == [worker.address]
        await worker.close()
