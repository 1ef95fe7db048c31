"""Where a cluster stands in Kueue (queue/state.py, models/queue.py), from recorded-shape objects:
the card's words, admitted and queued workers apart, the position, a preemption; which queue."""

from __future__ import annotations

from jupyter_rapids_kf.backends.kubernetes.queue.choose import choose
from jupyter_rapids_kf.backends.kubernetes.queue.labels import mark_cluster, mark_job
from jupyter_rapids_kf.backends.kubernetes.queue.state import quantity, queued

GATE = [{"name": "kueue.x-k8s.io/admission"}]


def pod(name: str, cluster: str, component: str = "worker", gated: bool = False, gpus: int = 1) -> dict:
    limits = {"nvidia.com/gpu": str(gpus)} if component == "worker" and gpus else {}
    return {
        "metadata": {"name": name, "labels": {"dask.org/cluster-name": cluster, "dask.org/component": component,
                                              "kueue.x-k8s.io/queue-name": "team-a"}},
        "spec": {"schedulingGates": GATE if gated else [],
                 "containers": [{"resources": {"requests": {"cpu": "500m"}, "limits": limits}}]},
    }


def workload(name: str, owner: str, created: str, reserved: bool, **conditions) -> dict:
    conds = [{"type": "QuotaReserved", "status": "True" if reserved else "False"}]
    conds += [{"type": kind, **value} for kind, value in conditions.items()]
    return {"metadata": {"name": name, "creationTimestamp": created,
                         "ownerReferences": [{"kind": "Pod", "name": owner}]},
            "spec": {"queueName": "team-a"}, "status": {"conditions": conds}}


CQ = {"spec": {"resourceGroups": [{"flavors": [{"name": "default", "resources": [
    {"name": "cpu", "nominalQuota": "64"}, {"name": "nvidia.com/gpu", "nominalQuota": 8}]}]}]},
    "status": {"admittedWorkloads": 3, "flavorsUsage": [{"name": "default", "resources": [
        {"name": "nvidia.com/gpu", "total": "8"}, {"name": "cpu", "total": "1500m"}]}]}}
LQ = {"metadata": {"name": "team-a"}, "spec": {"clusterQueue": "gpus"}}


def cluster_of(pod_name):
    return pod_name.split("-")[0] if pod_name else None


def test_second_in_line_says_its_place_what_it_waits_for_and_the_queue_in_use():
    pods = [pod("c-s", "c", "scheduler"), pod("c-w1", "c", gated=True, gpus=2), pod("c-w2", "c", gated=True, gpus=2)]
    loads = {w["metadata"]["name"]: w for w in (
        workload("w-b1", "b-w1", "2026-12-07T10:00:00Z", False),
        workload("w-b2", "b-w2", "2026-12-07T10:00:01Z", False),
        workload("w-c1", "c-w1", "2026-12-07T10:00:05Z", False),
        workload("w-c2", "c-w2", "2026-12-07T10:00:06Z", False),
        workload("w-cs", "c-s", "2026-12-07T10:00:04Z", True),
    )}
    state = queued("c", pods, loads, cluster_of, LQ, CQ, True)
    assert (state.admitted, state.queued, state.position, state.waiting_for) == (0, 2, 2, 4)
    assert state.lines() == ["Queued in team-a: position 2, waiting for 4 GPUs (8 of 8 in use by 3 workloads); "
                             "0 workers admitted, 2 queued"]


def test_admitted_and_queued_workers_are_counted_apart_after_a_scale_up():
    pods = [pod("g-s", "g", "scheduler"), pod("g-w1", "g"), pod("g-w2", "g"), pod("g-w3", "g", gated=True)]
    loads = {"w3": workload("w3", "g-w3", "2026-12-07T10:00:00Z", False)}
    state = queued("g", pods, loads, cluster_of, LQ, None, True)
    assert (state.admitted, state.queued, state.position, state.use) == (2, 1, 1, None)
    assert state.lines() == ["Queued in team-a: position 1, waiting for 1 GPU; 2 workers admitted, 1 queued"]


def test_nothing_waiting_says_nothing_and_unmarked_clusters_have_no_queue():
    pods = [pod("a-s", "a", "scheduler"), pod("a-w1", "a")]
    state = queued("a", pods, {}, cluster_of, LQ, CQ, True)
    assert state.lines() == [] and state.position is None
    plain = [{"metadata": {"name": "x", "labels": {"dask.org/component": "worker"}}, "spec": {}}]
    assert queued("x", plain, {}, cluster_of, LQ, CQ, True) is None


def test_a_preempted_worker_is_said_in_plain_words():
    pods = [pod("p-s", "p", "scheduler"), pod("p-w1", "p"), pod("p-w2", "p", gated=True)]
    loads = {"w2": workload("w2", "p-w2", "2026-12-07T10:00:00Z", False,
                            Evicted={"status": "True", "reason": "Preempted"})}
    lines = queued("p", pods, loads, cluster_of, LQ, None, True).lines()
    assert lines[-1] == ("1 worker preempted: Kueue gave its quota to a workload that came first or has a higher "
                         "priority; it waits in the queue again")


def test_a_missing_local_queue_is_named_with_the_fix():
    pods = [pod("m-w1", "m", gated=True)]
    lines = queued("m", pods, {}, cluster_of, None, None, True).lines()
    assert lines[0].startswith("queue team-a admits nothing: LocalQueue team-a does not exist in this namespace")


def test_cpu_only_clusters_wait_for_cpus():
    pods = [pod("k-s", "k", "scheduler", gated=True), pod("k-w1", "k", gated=True, gpus=0)]
    state = queued("k", pods, {}, cluster_of, LQ, CQ, True)
    assert (state.waiting_unit, state.waiting_for, state.scheduler_queued) == ("CPU", 1.0, True)
    assert state.use.in_use == 1.5 and state.use.quota == 64
    assert quantity("250m") == 0.25 and quantity("2Gi") == 2 * 2**30 and quantity("x") == 0


def test_which_queue():
    assert choose("", ["team-a"])[0] is None
    assert choose("team-x", [])[0] == "team-x"
    assert choose("auto", ["default", "team-a"])[0] == "default"
    assert choose("auto", ["team-a"])[0] == "team-a"
    name, why = choose("auto", ["team-a", "team-b"])
    assert name is None and "team-a, team-b" in why


def test_the_label_goes_on_every_pod_template():
    spec: dict = {"scheduler": {"spec": {}}, "worker": {"replicas": 2, "spec": {}}}
    mark_cluster(spec, "team-a")
    assert spec["scheduler"]["metadata"]["labels"] == {"kueue.x-k8s.io/queue-name": "team-a"}
    assert spec["worker"]["metadata"]["labels"] == {"kueue.x-k8s.io/queue-name": "team-a"}
    body = {"spec": {"job": {"spec": {}}, "cluster": {"spec": {"scheduler": {}, "worker": {}}}}}
    mark_job(body, "team-a")
    assert body["spec"]["job"]["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a"
    assert body["spec"]["cluster"]["spec"]["worker"]["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a"
