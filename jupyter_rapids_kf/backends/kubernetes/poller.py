"""A task that asks the clusters' schedulers something every few seconds, on the event loop."""

from __future__ import annotations

import asyncio
import logging

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
