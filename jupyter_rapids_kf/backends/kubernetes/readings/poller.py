"""A task that asks the clusters' schedulers something every few seconds, on the event loop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

log = logging.getLogger(__name__)


class Poller:
    """Runs `tick()` every `interval` seconds once started (0: never); errors are logged."""

    what = "scheduler readings"  # for the log

    def __init__(self, interval: float):
        self.interval = interval
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self.interval > 0:
            self._task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def tick(self) -> None:
        raise NotImplementedError

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.tick()
            except Exception:
                log.exception("rapids-kf: reading %s failed", self.what)


class PerCluster(Poller):
    """A reading per cluster, from its scheduler's address, asked of every target at each tick;
    `on_change(name)` when a cluster's reading differs from the last one."""

    def __init__(self, interval: float, targets: Callable[[], dict[str, str]],
                 on_change: Callable[[str], None]):
        super().__init__(interval)
        self.targets = targets  # cluster name -> scheduler address, for the clusters to read now
        self.on_change = on_change
        self.readings: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        return self.readings.get(name)

    async def tick(self) -> None:
        await self.read_all()

    async def read_all(self) -> None:
        targets = self.targets()
        for name in set(self.readings) - set(targets):
            del self.readings[name]
        await self.forget(set(targets.values()))
        names = list(targets)
        answers = await asyncio.gather(*(self.read(targets[n]) for n in names))
        for name, reading in zip(names, answers):
            if self.readings.get(name) != reading:
                self.readings[name] = reading
                self.on_change(name)

    async def read(self, address: str) -> Any:
        raise NotImplementedError

    async def forget(self, addresses: set[str]) -> None:
        """Let go of what is kept for schedulers no longer among `addresses`."""


async def ask_scheduler(address: str, question: str, timeout: float, what: str) -> Any | None:
    """One question to a scheduler over Dask's comm (the address the client snippet uses), within
    `timeout`; None when it does not answer, logged as "no <what> from <address>"."""
    from distributed.core import rpc  # imported here: only the Kubernetes backend needs it

    try:
        async with rpc(address, timeout=timeout) as scheduler:
            return await asyncio.wait_for(getattr(scheduler, question)(), timeout)
    except Exception as err:  # anything the network or the remote side raises: not known
        log.debug("rapids-kf: no %s from %s: %s", what, address, err or type(err).__name__)
        return None
