"""The card's "What happened" notes: replaced pods, restarts, out of memory with the limit."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

from jupyter_rapids_kf.backends.kubernetes.what_happened import (
    KEPT_SECONDS,
    WhatHappened,
    memory_in_words,
    restarts,
)

T0 = 1_900_000_000.0


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def worker_pod(name: str, worker: str = "etl-default-worker-1a2b", memory: str = "768Mi", **status) -> dict:
    return {
        "metadata": {"name": name, "labels": {"dask.org/cluster-name": "etl", "dask.org/component": "worker"}},
        "spec": {"containers": [{"name": "worker", "resources": {"limits": {"memory": memory}},
                                 "env": [{"name": "DASK_WORKER_NAME", "value": worker}]}]},
        "status": {"phase": "Running", **status},
    }


def scheduler_pod(name: str, **status) -> dict:
    return {"metadata": {"name": name, "labels": {"dask.org/cluster-name": "etl", "dask.org/component": "scheduler"}},
            "spec": {"containers": [{"name": "scheduler"}]}, "status": {"phase": "Running", **status}}


def deleting(pod: dict, at: float, **status) -> dict:
    pod = copy.deepcopy(pod)
    pod["metadata"]["deletionTimestamp"] = iso(at)
    pod["status"].update(status)
    return pod


def restarted(pod: dict, reason: str, code: int, ended: float) -> dict:
    pod = copy.deepcopy(pod)
    pod["status"]["containerStatuses"] = [{
        "name": pod["spec"]["containers"][0]["name"], "restartCount": 1,
        "state": {"running": {"startedAt": iso(ended + 1)}},
        "lastState": {"terminated": {"reason": reason, "exitCode": code, "finishedAt": iso(ended)}},
    }]
    return pod


class Clock:
    def __init__(self, t: float = T0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_a_deleted_worker_pod_is_told_once_its_replacement_appears():
    clock = Clock()
    wh = WhatHappened(clock=clock)
    old = worker_pod("etl-default-worker-1a2b-5f-aaaaa")
    assert not wh.pod_changed("etl", None, old, False)
    wh.pod_changed("etl", old, deleting(old, T0), False)
    assert wh.of("etl", []) == []  # nothing to tell until the Deployment replaced it
    new = worker_pod("etl-default-worker-1a2b-5f-bbbbb")
    clock.t = T0 + 2
    assert wh.pod_changed("etl", None, new, False)
    [note] = wh.of("etl", [new])
    assert note.at == iso(T0)
    assert note.what == ("worker etl-default-worker-1a2b was replaced: its pod etl-default-worker-1a2b-5f-aaaaa "
                         "was deleted and Kubernetes started etl-default-worker-1a2b-5f-bbbbb; "
                         "Dask recomputes what it held")
    # The old pod's own DELETED event, later: no second note, nothing waiting for a successor.
    wh.pod_changed("etl", deleting(old, T0), None, False)
    assert len(wh.of("etl", [new])) == 1
    # Kept for a while, then gone from the card.
    clock.t = T0 + KEPT_SECONDS + 1
    assert wh.of("etl", [new]) == []


def test_an_evicted_pod_says_evicted_with_the_kubelets_words():
    wh = WhatHappened(clock=Clock())
    old = worker_pod("w-a")
    evicted = deleting(old, T0, conditions=[{"type": "DisruptionTarget", "status": "True",
                                             "reason": "TerminationByKubelet",
                                             "message": "The node was low on resource: memory."}])
    wh.pod_changed("etl", old, evicted, False)
    wh.pod_changed("etl", None, worker_pod("w-b"), False)
    [note] = wh.of("etl", [])
    assert "its pod w-a was evicted (The node was low on resource: memory.)" in note.what


def test_a_scale_down_or_the_clusters_delete_tells_nothing():
    wh = WhatHappened(clock=Clock())
    old = worker_pod("w-a", worker="etl-default-worker-gone")
    wh.pod_changed("etl", old, deleting(old, T0), False)
    wh.pod_changed("etl", deleting(old, T0), None, False)  # its Deployment went: no successor
    wh.pod_changed("etl", None, worker_pod("w-c", worker="etl-default-worker-other"), False)
    assert wh.of("etl", []) == []
    other = worker_pod("w-d")
    wh.pod_changed("etl", other, deleting(other, T0), True)  # the cluster is being deleted
    wh.pod_changed("etl", None, worker_pod("w-e"), False)
    assert wh.of("etl", []) == []


def test_a_replaced_scheduler_says_what_was_lost():
    wh = WhatHappened(clock=Clock())
    old = scheduler_pod("etl-scheduler-6d-aaaaa")
    wh.pod_changed("etl", old, deleting(old, T0), False)
    wh.pod_changed("etl", None, scheduler_pod("etl-scheduler-6d-bbbbb"), False)
    [note] = wh.of("etl", [])
    assert note.what.startswith("the scheduler restarted: its pod etl-scheduler-6d-aaaaa was deleted and "
                                "Kubernetes started etl-scheduler-6d-bbbbb; what the cluster held is gone")
    assert "must reconnect and submit its work again" in note.what


def test_a_worker_out_of_memory_names_its_limit_in_words():
    pod = restarted(worker_pod("w-a", memory="768Mi"), "OOMKilled", 137, T0)
    [note] = restarts([pod], now=T0 + 10)
    assert note.at == iso(T0)
    assert note.what.startswith("worker etl-default-worker-1a2b ran out of memory: it went over its memory "
                                "limit of 768 MiB, the kernel killed it (OOMKilled) and Kubernetes restarted it")
    assert "give workers more memory" in note.what
    assert restarts([pod], now=T0 + KEPT_SECONDS + 1) == []  # an old restart is no news


def test_other_restarts_say_how_and_a_worker_leaving_cleanly_says_nothing():
    [sched] = restarts([restarted(scheduler_pod("s"), "Error", 1, T0)], now=T0 + 1)
    assert sched.what.startswith("scheduler scheduler stopped (Error, exit code 1) and Kubernetes restarted it; "
                                 "what the cluster held is gone")
    assert restarts([restarted(worker_pod("w"), "Completed", 0, T0)], now=T0 + 1) == []
    # Still waiting to restart: that is a crash loop, which the reasons tell.
    looping = restarted(worker_pod("w"), "Error", 1, T0)
    looping["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
    assert restarts([looping], now=T0 + 1) == []


def test_notes_are_newest_first():
    clock = Clock(T0 + 100)
    wh = WhatHappened(clock=clock)
    old = worker_pod("w-a")
    wh.pod_changed("etl", old, deleting(old, T0 + 50), False)
    wh.pod_changed("etl", None, worker_pod("w-b"), False)
    oom = restarted(worker_pod("x", worker="etl-default-worker-2"), "OOMKilled", 137, T0 + 90)
    assert [n.at for n in wh.of("etl", [oom])] == [iso(T0 + 90), iso(T0 + 50)]


def test_memory_in_words():
    assert memory_in_words("768Mi") == "768 MiB"
    assert memory_in_words("1Gi") == "1 GiB"
    assert memory_in_words("2G") == "2 GB"
    assert memory_in_words("1073741824") == "1 GiB"
    assert memory_in_words(None) is None


# --- through the server: the watch feeds the notes, the card (OpenAPI-checked) shows them ------


async def test_a_replaced_worker_reaches_the_card_and_its_delete_clears_it(api, k8s):
    from . import fake_operator

    code, body = await api.call("POST", "clusters", {"name": "lose", "workers": 1})
    assert code == 202, body
    fake_operator.reconcile(k8s, "lose")
    card = await api.wait_for("lose", lambda c: c["phase"] == "Running")
    assert card["happened"] == []
    old = k8s.get("pods", "lose-default-worker-0000-pod")
    old["spec"]["containers"][0]["env"] = [{"name": "DASK_WORKER_NAME", "value": "lose-default-worker-0000"}]
    old = k8s.put("pods", old)
    k8s.put("pods", deleting(old, T0))  # the API marks it; the ReplicaSet makes a new one
    new = copy.deepcopy(old)
    new["metadata"] = {**old["metadata"], "name": "lose-default-worker-0000-new"}
    new["metadata"].pop("resourceVersion", None)
    new["metadata"].pop("uid", None)
    k8s.put("pods", new)
    k8s.remove("pods", "lose-default-worker-0000-pod")
    card = await api.wait_for("lose", lambda c: c["happened"])
    [note] = card["happened"]
    assert note["what"].startswith("worker lose-default-worker-0000 was replaced: its pod "
                                   "lose-default-worker-0000-pod was deleted and Kubernetes started "
                                   "lose-default-worker-0000-new"), note
    code, body = await api.call("DELETE", "clusters/lose")
    assert code == 202 and body["happened"] == [], body  # a cluster going away has no news
