"""GPU memory and utilisation of Kubernetes clusters, asked of each cluster's Dask scheduler.

The operator's objects say how many GPUs a cluster holds, not how busy they are. The workers
report NVML to their scheduler, so every `gpu_metrics_interval` seconds the backend asks each
Running GPU cluster's scheduler for its `identity()` over Dask's comm, at the address the
client snippet uses, and summarises it as the local backend does (`gpu_metrics`). A scheduler
that cannot be reached leaves the readings empty; the cluster's status is not touched.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from ....models.gpu_usage import NO_GPUS, from_identity
from .poller import PerCluster

log = logging.getLogger(__name__)

READ_TIMEOUT = 5.0  # one scheduler's answer; a slow one must not hold up the others


class GpuReadings(PerCluster):
    what = "GPU metrics"

    def __init__(self, interval: float, targets: Callable[[], dict[str, str]],
                 on_change: Callable[[str], None]):
        super().__init__(interval, targets, on_change)
        self._rpcs: dict[str, Any] = {}  # address -> distributed rpc, kept open between reads
        self._unreachable: set[str] = set()  # logged once until it answers again

    async def stop(self) -> None:
        await super().stop()
        await asyncio.gather(*(self._close(a) for a in list(self._rpcs)), return_exceptions=True)

    async def forget(self, addresses: set[str]) -> None:
        for address in set(self._rpcs) - addresses:
            await self._close(address)

    async def read(self, address: str) -> dict[str, Any]:
        from distributed.core import rpc  # imported here: only Kubernetes servers with GPU clusters need it

        try:
            if address not in self._rpcs:
                self._rpcs[address] = rpc(address, timeout=READ_TIMEOUT)
            identity = await asyncio.wait_for(self._rpcs[address].identity(), READ_TIMEOUT)
        except Exception as err:  # anything the network or the remote side raises
            if address not in self._unreachable:
                log.info("rapids-kf: no GPU metrics from %s: %s", address, err or type(err).__name__)
                self._unreachable.add(address)
            await self._close(address)
            return dict(NO_GPUS)
        self._unreachable.discard(address)
        return from_identity(identity)

    async def _close(self, address: str) -> None:
        scheduler = self._rpcs.pop(address, None)
        if scheduler is not None:
            await scheduler.close_rpc()
