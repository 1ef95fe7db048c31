"""Finishes a scale-down that the dask-kubernetes operator left half done.

The operator retires workers by asking the scheduler for `n` of them
(`/api/v1/retire_workers`) and deletes the Deployments of those it names. Right after a start
the worker pods are ready before their `dask worker` has registered with the scheduler, which
then names none: the operator logs "Workers to close: []", marks the new replica count
handled and never tries again, so the extra workers keep running (and their GPUs stay taken)
for good. Seen on the real-pod node; see docs/kubernetes.md.

When the operator has handled the worker group's replica count (its last-handled annotation
says so) and more worker pods than that are still running `GRACE_SECONDS` later, this does
what the operator meant to: workers the scheduler has not registered (they hold no data) go
first, then the scheduler chooses, retires them (their data moves to the others) and their
Deployments are deleted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from .cache import HANDLED, handled_replicas
from .status import COMPONENT_LABEL, GROUP_LABEL, WORKER_NAME_ENV, Objects, worker_name  # noqa: F401

log = logging.getLogger(__name__)

GRACE_SECONDS = 20.0  # a normal retirement ends in seconds; the operator's retry backoff is 60 s
ASK_TIMEOUT = 60.0  # retiring moves the workers' data, which takes a while
CONNECT_TIMEOUT = 5.0

DeleteDeployment = Callable[[str], Awaitable[None]]


def operator_handled(group: dict | None) -> int | None:
    """The replica count the operator last finished handling, if known."""
    annotations = ((group or {}).get("metadata") or {}).get("annotations") or {}
    return handled_replicas(annotations.get(HANDLED))


def live_workers(objs: Objects) -> list[str]:
    """Worker names (= Deployment names) of the default group's pods not being deleted,
    newest first: when nothing else decides, the last one started goes first."""
    group = f"{objs.cluster['metadata']['name']}-default"
    pods = []
    for pod in objs.pods:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        if (labels.get(COMPONENT_LABEL) == "worker" and labels.get(GROUP_LABEL, group) == group
                and not meta.get("deletionTimestamp")):
            pods.append(pod)
    pods.sort(key=lambda p: p["metadata"].get("creationTimestamp") or "", reverse=True)
    names = [worker_name(p) for p in pods]
    return list(dict.fromkeys(n for n in names if n))  # one per Deployment


class ScaleDownRepair:
    def __init__(self, delete_deployment: DeleteDeployment, grace: float = GRACE_SECONDS):
        self.delete_deployment = delete_deployment
        self.grace = grace
        self._since: dict[str, tuple[int, float]] = {}  # cluster -> (replicas, first seen left over)
        self._tasks: dict[str, asyncio.Task] = {}

    def check(self, objs: Objects, scheduler_address: str | None, now: float | None = None) -> None:
        """Called on every tick with the cache's view of one cluster."""
        name = objs.cluster["metadata"]["name"]
        group = objs.worker_group
        desired = (((group or {}).get("spec") or {}).get("worker") or {}).get("replicas")
        workers = live_workers(objs)
        left_over = (
            isinstance(desired, int) and not objs.delete_requested
            and not objs.cluster["metadata"].get("deletionTimestamp")
            and operator_handled(group) == desired and len(workers) > desired
        )
        if not left_over or not scheduler_address:
            self._since.pop(name, None)
            return
        now = time.monotonic() if now is None else now
        replicas, since = self._since.setdefault(name, (desired, now))
        if replicas != desired:
            self._since[name] = (desired, now)
            return
        if now - since >= self.grace and name not in self._tasks:
            task = asyncio.ensure_future(self._finish(name, scheduler_address, desired, workers))
            self._tasks[name] = task
            task.add_done_callback(lambda _t: self._done(name))

    def _done(self, name: str) -> None:
        self._tasks.pop(name, None)
        self._since.pop(name, None)  # wait a whole grace period again before another try

    async def stop(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()

    async def _finish(self, cluster: str, address: str, desired: int, workers: list[str]) -> list[str]:
        excess = len(workers) - desired
        try:
            chosen = await asyncio.wait_for(_retire(address, workers, excess), ASK_TIMEOUT)
        except Exception as err:  # the scheduler is down or busy: the next tick tries again
            log.warning("rapids-kf: %s keeps %d worker(s) too many and its scheduler could not retire "
                        "them: %s", cluster, excess, err or type(err).__name__)
            return []
        for worker in chosen:
            await self.delete_deployment(worker)
        if chosen:
            log.warning("rapids-kf: finished the scale-down of %s to %d that the operator left: "
                        "retired and deleted %s", cluster, desired, ", ".join(chosen))
        return chosen


async def _retire(address: str, workers: list[str], excess: int) -> list[str]:
    """Which of `workers` to remove, retired first where the scheduler knows them."""
    from distributed.core import rpc  # imported here: only the Kubernetes backend needs it

    async with rpc(address, timeout=CONNECT_TIMEOUT) as scheduler:
        identity = await scheduler.identity()
        registered = {str(w.get("name")) for w in (identity.get("workers") or {}).values()}
        chosen = [w for w in workers if w not in registered][:excess]  # no data on them
        if len(chosen) < excess:
            names = await scheduler.workers_to_close(n=excess - len(chosen), attribute="name")
            names = [str(n) for n in names if str(n) in workers and str(n) not in chosen]
            if names:
                await scheduler.retire_workers(names=names)
            chosen += names
    return chosen
