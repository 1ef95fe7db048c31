"""What each running cluster's scheduler runs, asked once per scheduler over Dask's comm.

The image of a cluster decides its `distributed`, `dask` and `msgpack`; the scheduler's own
`versions()` answer says them, so the card and the snippet can name a skew with this notebook
before a Client meets it (models/versions.py). A scheduler keeps its versions while it runs: each
address is asked once, again only after it failed to answer.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from ....models.cluster import VersionSkew
from ....models.versions import compare
from .poller import Poller, ask_scheduler

ASK_TIMEOUT = 5.0


class SchedulerVersions(Poller):
    what = "scheduler versions"

    def __init__(self, interval: float, targets: Callable[[], dict[str, str]],
                 on_change: Callable[[str], None]):
        super().__init__(interval)
        self.targets = targets  # cluster name -> scheduler address, for running clusters
        self.on_change = on_change
        self._skew: dict[str, list[VersionSkew]] = {}  # scheduler address -> what differs

    def get(self, address: str | None) -> list[VersionSkew]:
        return list(self._skew.get(address or "", []))

    async def tick(self) -> None:
        await self.read_new()

    async def read_new(self) -> None:
        targets = self.targets()
        for address in set(self._skew) - set(targets.values()):
            del self._skew[address]  # that scheduler is gone; a new one is asked again
        new = {name: address for name, address in targets.items() if address and address not in self._skew}
        answers = await asyncio.gather(*(self._ask(a) for a in new.values()))
        for (name, address), skew in zip(new.items(), answers):
            if skew is not None:
                self._skew[address] = skew
                if skew:
                    self.on_change(name)

    async def _ask(self, address: str) -> list[VersionSkew] | None:
        answer = await ask_scheduler(address, "versions", ASK_TIMEOUT, "versions")
        return None if answer is None else compare(answer)  # None: asked again later
