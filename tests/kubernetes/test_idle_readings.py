"""The idle clock the operator reads, read by the backend for the card's countdown: a real
`distributed` scheduler on 127.0.0.1 answers `check_idle`, as the operator asks it."""

from __future__ import annotations

import asyncio
import time

from distributed import Client, Scheduler, Worker

from jupyter_rapids_kf.backends.kubernetes.readings.idle import IdleReadings

UNREACHABLE = "tcp://127.0.0.1:9"  # discard port on loopback: nothing listens


async def test_idle_since_is_the_schedulers_own_and_clears_while_it_works():
    changed: list[str] = []
    async with Scheduler(host="127.0.0.1", port=0, dashboard_address=":0") as scheduler:
        async with Worker(scheduler.address, nthreads=1):
            targets = {"etl": scheduler.address, "gone": UNREACHABLE}
            readings = IdleReadings(0.1, lambda: targets, changed.append)
            await readings.read_all()
            assert readings.get("gone") is None  # not reachable: not known, never an error
            del targets["gone"]
            await readings.read_all()
            since = readings.get("etl")
            assert since is not None and abs(since - scheduler.idle_since) < 1e-6
            assert time.time() - 60 < since <= time.time()
            async with Client(scheduler.address, asynchronous=True) as client:
                future = client.submit(time.sleep, 1.5, pure=False)
                await asyncio.sleep(0.5)
                await readings.read_all()
                assert readings.get("etl") is None  # busy: no countdown
                await future
            await readings.read_all()
            await readings.read_all()
            assert readings.get("etl") > since
            assert changed.count("etl") >= 3
