"""A scale-down the operator left half done is finished against a real `distributed`
scheduler on 127.0.0.1: workers it never registered go first, registered ones are retired by
the scheduler (their data moves) before their Deployments are deleted."""

from __future__ import annotations

import asyncio
import json

from distributed import Client, Scheduler, Worker

from jupyter_rapids_kf.backends.kubernetes.cache import HANDLED, slim
from jupyter_rapids_kf.backends.kubernetes import scale_down
from jupyter_rapids_kf.backends.kubernetes.scale_down import ScaleDownRepair
from jupyter_rapids_kf.backends.kubernetes.status import Objects


def group(replicas: int, handled: int | None) -> dict:
    annotations = {}
    if handled is not None:  # as kopf writes it: the whole essence, slimmed by the cache
        annotations[HANDLED] = json.dumps({"spec": {"cluster": "etl", "worker": {"replicas": handled, "spec": {}}},
                                           "metadata": {"labels": {}}})
    return slim({"metadata": {"name": "etl-default", "annotations": annotations},
                 "spec": {"cluster": "etl", "worker": {"replicas": replicas}}})


def worker_pod(name: str, created: str, deleting: bool = False) -> dict:
    meta = {"name": f"{name}-7d9f-abcde", "creationTimestamp": created,
            "labels": {"dask.org/component": "worker", "dask.org/workergroup-name": "etl-default",
                       "dask.org/cluster-name": "etl"}}
    if deleting:
        meta["deletionTimestamp"] = created
    return {"metadata": meta, "spec": {"containers": [{"name": "worker", "env": [
        {"name": "DASK_WORKER_NAME", "value": name}]}]}}


def objects(replicas: int, handled: int | None, pods: list[dict]) -> Objects:
    return Objects(cluster={"metadata": {"name": "etl"}}, worker_group=group(replicas, handled), pods=pods)


class Deleted(list):
    async def __call__(self, deployment: str) -> None:
        self.append(deployment)


async def settle(repair: ScaleDownRepair) -> None:
    while repair._tasks:
        await asyncio.sleep(0.05)


async def test_left_over_workers_are_retired_by_the_scheduler_and_deleted():
    async with Scheduler(host="127.0.0.1", port=0, dashboard_address=":0") as scheduler:
        async with Worker(scheduler.address, name="etl-default-worker-a", nthreads=1), \
                Worker(scheduler.address, name="etl-default-worker-b", nthreads=1):
            async with Client(scheduler.address, asynchronous=True) as client:
                data = await client.scatter(list(range(20)))
                pods = [worker_pod("etl-default-worker-a", "2026-12-04T08:00:00Z"),
                        worker_pod("etl-default-worker-b", "2026-12-04T08:00:01Z"),
                        worker_pod("etl-default-worker-c", "2026-12-04T08:00:02Z"),  # never registered
                        worker_pod("etl-default-worker-d", "2026-12-04T08:00:03Z", deleting=True)]
                deleted = Deleted()
                repair = ScaleDownRepair(deleted, grace=10)
                objs = objects(1, 1, pods)
                repair.check(objs, scheduler.address, now=100)
                repair.check(objs, scheduler.address, now=109)
                assert not repair._tasks  # within the grace period the operator may still be at it
                repair.check(objs, scheduler.address, now=110)
                await settle(repair)
                # c holds nothing and goes first; of a and b the scheduler chose one and retired it
                assert deleted[0] == "etl-default-worker-c"
                assert len(deleted) == 2 and deleted[1] in ("etl-default-worker-a", "etl-default-worker-b")
                kept = ({"etl-default-worker-a", "etl-default-worker-b"} - {deleted[1]}).pop()
                assert [ws.name for ws in scheduler.workers.values()] == [kept]
                assert await client.gather(data) == list(range(20))  # nothing was lost


async def test_nothing_is_done_while_the_operator_has_not_handled_the_count_or_none_are_left_over():
    async with Scheduler(host="127.0.0.1", port=0, dashboard_address=":0") as scheduler:
        pods = [worker_pod("etl-default-worker-a", "2026-12-04T08:00:00Z"),
                worker_pod("etl-default-worker-b", "2026-12-04T08:00:01Z")]
        deleted = Deleted()
        repair = ScaleDownRepair(deleted, grace=10)
        for objs in (objects(1, 2, pods),  # the operator is still retiring (handled count is the old one)
                     objects(1, None, pods),  # no annotation: the operator never handled it
                     objects(2, 2, pods)):  # nothing left over
            repair.check(objs, scheduler.address, now=100)
            repair.check(objs, scheduler.address, now=200)
            await settle(repair)
        # a new count restarts the grace period
        repair.check(objects(1, 1, pods), scheduler.address, now=300)
        repair.check(objects(0, 0, pods), scheduler.address, now=305)
        repair.check(objects(0, 0, pods), scheduler.address, now=314)
        await settle(repair)
        assert deleted == []


async def test_a_scheduler_that_does_not_answer_deletes_nothing(monkeypatch):
    monkeypatch.setattr(scale_down, "CONNECT_TIMEOUT", 0.5)
    deleted = Deleted()
    repair = ScaleDownRepair(deleted, grace=0)
    pods = [worker_pod("etl-default-worker-a", "2026-12-04T08:00:00Z"),
            worker_pod("etl-default-worker-b", "2026-12-04T08:00:01Z")]
    repair.check(objects(1, 1, pods), "tcp://127.0.0.1:9", now=1)  # nothing listens there
    await settle(repair)
    assert deleted == []
