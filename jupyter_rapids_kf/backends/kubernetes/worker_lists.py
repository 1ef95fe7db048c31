"""Which workers each cluster's scheduler has registered: what a card counts as ready.

A worker pod is Ready as soon as its container runs (0.5 s after the request on the real node),
long before its `dask worker` has joined the scheduler (6.7 s): a client made at that moment has
no worker. So `ready` counts only workers the scheduler itself lists, read here over Dask's comm
(`identity()`, at the address the client snippet uses, one connection kept open per scheduler).

The list is read for every cluster whose scheduler pod is Ready, independently of
`gpu_metrics_interval`: every FAST_SECONDS while the cluster is settling (a worker pod runs that
the scheduler has not listed, or the list was never read), at once when its pods change, and every
`interval` seconds once steady (c.RapidsKF.worker_list_interval), so a worker that left is seen
too. A cluster whose workers cannot be scheduled is not settling: nothing to wait for there. A scheduler that does not answer within ASK_TIMEOUT counts no worker,
and the card says why.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

log = logging.getLogger(__name__)

FAST_SECONDS = 0.25  # reads of a settling cluster; one small message to its scheduler
ASK_TIMEOUT = 2.0  # connecting and answering; a dead scheduler must not hold up the others
JOINED_STATUSES = {"running"}  # a paused or closing worker takes no task


@dataclass(frozen=True)
class WorkerList:
    """What one scheduler said: the names of its running workers, or why it could not say."""

    names: frozenset[str] | None
    error: str | None = None
    address: str | None = None


# cluster name -> (scheduler address, settling)
Targets = Callable[[], dict[str, tuple[str, bool]]]
# (cluster name, scheduler address) -> the names of its running workers
Ask = Callable[[str, str], Awaitable[frozenset[str]]]


class WorkerLists:
    def __init__(self, interval: float, targets: Targets, on_change: Callable[[str], None],
                 ask: Ask | None = None):
        self.interval = interval
        self.targets = targets
        self.on_change = on_change
        self.ask = ask or (lambda name, address: self.ask_scheduler(address))
        self.lists: dict[str, WorkerList] = {}
        self._read_at: dict[str, float] = {}
        self._due: set[str] = set()
        self._rpcs: dict[str, Any] = {}
        self._unreachable: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def get(self, name: str) -> WorkerList | None:
        return self.lists.get(name)

    def due(self, name: str) -> None:
        """Read this cluster's list at the next round (its pods or groups changed)."""
        self._due.add(name)
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await asyncio.gather(*(self._close(a) for a in list(self._rpcs)), return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), FAST_SECONDS)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.read_due()
            except Exception:
                log.exception("rapids-kf: reading the schedulers' worker lists failed")

    async def read_due(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        targets = self.targets()
        for name in set(self.lists) - set(targets):
            del self.lists[name]
            self._read_at.pop(name, None)
            self.on_change(name)
        addresses = {address for address, _ in targets.values()}
        for address in set(self._rpcs) - addresses:
            await self._close(address)
        due = [name for name, (address, settling) in targets.items()
               if settling or name in self._due or name not in self.lists
               or self.lists[name].address != address
               or now - self._read_at.get(name, 0.0) >= self.interval]
        self._due.difference_update(due)
        if not due:
            return
        answers = await asyncio.gather(*(self._read(n, targets[n][0]) for n in due))
        for name, answer in zip(due, answers):
            self._read_at[name] = now
            if self.lists.get(name) != answer:
                self.lists[name] = answer
                self.on_change(name)

    async def _read(self, name: str, address: str) -> WorkerList:
        try:
            names = await asyncio.wait_for(self.ask(name, address), ASK_TIMEOUT)
        except Exception as err:  # anything the network or the remote side raises
            why = str(err) or type(err).__name__
            if isinstance(err, asyncio.TimeoutError):
                why = f"no answer within {ASK_TIMEOUT:g} s"
            if address not in self._unreachable:
                log.info("rapids-kf: cannot read the worker list of %s: %s", address, why)
                self._unreachable.add(address)
            await self._close(address)
            return WorkerList(None, why, address)
        self._unreachable.discard(address)
        return WorkerList(frozenset(names), None, address)

    async def ask_scheduler(self, address: str) -> frozenset[str]:
        """The names of the scheduler's running workers (their Dask names: the operator names
        each worker after its Deployment)."""
        from distributed.core import rpc  # imported here: only the Kubernetes backend needs it

        if address not in self._rpcs:
            await _listening(address)  # distributed's connect would retry with backoff
            self._rpcs[address] = rpc(address, timeout=ASK_TIMEOUT)
        identity = await self._rpcs[address].identity()
        return frozenset(str(w.get("name")) for w in (identity.get("workers") or {}).values()
                         if w.get("status", "running") in JOINED_STATUSES)

    async def _close(self, address: str) -> None:
        scheduler = self._rpcs.pop(address, None)
        if scheduler is not None:
            try:
                await scheduler.close_rpc()
            except Exception:  # closing a broken connection
                pass


async def _listening(address: str) -> None:
    """Raises at once where nothing listens yet (a starting scheduler): the next round asks
    again in FAST_SECONDS, where distributed's connect() would back off for up to seconds."""
    scheme, _, location = address.partition("://")
    if scheme not in ("tcp", "tls") or ":" not in location:
        return
    host, _, port = location.rpartition(":")
    _, writer = await asyncio.wait_for(asyncio.open_connection(host.strip("[]"), int(port)), ASK_TIMEOUT)
    writer.close()
