"""Phase and reasons from pods, worker groups and events, never from the operator's phase alone."""

from __future__ import annotations

from datetime import datetime, timezone

from jupyter_rapids_kf.backends.kubernetes.spec import build_daskcluster, drop_none
from jupyter_rapids_kf.backends.kubernetes.status import Objects, Timeouts, cluster_status, event_cluster
from jupyter_rapids_kf.models.cluster import ClusterSpec

NS = "kubeflow-user"
T0 = 1_900_000_000.0


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def daskcluster(name="etl", workers=2, phase="Running", created=T0, **meta) -> dict:
    spec = ClusterSpec(name=name, workers=workers, gpus_per_worker=1, image="img", worker_command="dask-cuda-worker",
                       cpu="4", memory="16Gi", idle_timeout=0, env={})
    body = drop_none(build_daskcluster(spec, image="img", scheduler_cpu="1", scheduler_memory="1Gi"))
    body["metadata"].update(creationTimestamp=iso(created), **meta)
    if phase:
        body["status"] = {"phase": phase}
    return body


def group(name="etl", replicas=2) -> dict:
    return {"metadata": {"name": f"{name}-default"}, "spec": {"cluster": name, "worker": {"replicas": replicas}}}


def pod(component, i=0, ready=True, waiting=None, unschedulable=None, name="etl") -> dict:
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    if unschedulable:
        conditions.append({"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": unschedulable})
    status = {"phase": "Running" if ready else "Pending", "conditions": conditions}
    if waiting:
        status["containerStatuses"] = [{"state": {"waiting": {"reason": waiting, "message": "details"}}}]
    labels = {"dask.org/cluster-name": name, "dask.org/component": component}
    if component == "worker":
        labels["dask.org/workergroup-name"] = f"{name}-default"
    return {"metadata": {"name": f"{name}-{component}-{i}", "labels": labels}, "status": status}


def status(objs: Objects, now: float = T0 + 5):
    return cluster_status(objs, NS, Timeouts(operator=60, deletion=60), now=now)


def test_running_needs_ready_scheduler_and_every_worker():
    objs = Objects(daskcluster(), group(), pods=[pod("scheduler"), pod("worker", 0), pod("worker", 1)])
    c = status(objs)
    assert (c.phase, c.workers.desired, c.workers.ready, c.scheduler.ready, c.reasons) == ("Running", 2, 2, True, [])
    assert c.gpus.in_use == 2 and c.managed is True
    assert c.scheduler.address == f"tcp://etl-scheduler.{NS}:8786"


def test_operator_running_phase_is_not_trusted_without_pods():
    c = status(Objects(daskcluster(phase="Running"), group()))
    assert c.phase == "Creating"
    c = status(Objects(daskcluster(phase="Running"), group(), pods=[pod("scheduler", ready=False)]))
    assert c.phase == "Pending" and "the scheduler pod is starting" in c.reasons


def test_scaling_when_workers_are_missing_and_desired_comes_from_the_worker_group():
    # The DaskCluster still says 2 (KubeCluster.scale patched only the worker group to 4).
    objs = Objects(daskcluster(workers=2), group(replicas=4), pods=[pod("scheduler"), pod("worker", 0), pod("worker", 1)])
    c = status(objs)
    assert (c.phase, c.workers.desired, c.workers.pending) == ("Scaling", 4, 2)
    assert "2 of 4 workers not ready yet" in c.reasons


def test_unschedulable_gpu_message_is_quoted_once_for_all_pods():
    msg = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    objs = Objects(daskcluster(), group(), pods=[pod("scheduler"), pod("worker", 0, False, unschedulable=msg),
                                                 pod("worker", 1, False, unschedulable=msg)])
    c = status(objs)
    assert c.phase == "Scaling"
    assert f"2 worker pods cannot be scheduled: {msg}" in c.reasons


def test_image_pull_and_crash_loop_fail_the_cluster():
    for reason in ("ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff"):
        objs = Objects(daskcluster(), group(), pods=[pod("scheduler", ready=False, waiting=reason)])
        c = status(objs)
        assert c.phase == "Failed", reason
        assert any(reason in r and "scheduler pod etl-scheduler-0" in r for r in c.reasons)


def test_operator_error_phase_fails_the_cluster():
    c = status(Objects(daskcluster(phase="Error")))
    assert c.phase == "Failed" and "rejected" in c.reasons[0]


def test_quota_refusal_event_is_a_reason():
    event = {"type": "Warning", "reason": "FailedCreate", "lastTimestamp": iso(T0 + 2),
             "involvedObject": {"kind": "ReplicaSet", "name": "etl-default-worker-0a1b2c-5d6f"},
             "message": 'Error creating: pods "etl-default-worker-0a1b2c-5d6f-x" is forbidden: exceeded quota: gpu-quota'}
    old = dict(event, lastTimestamp=iso(T0 - 600), message="about an older cluster of the same name")
    objs = Objects(daskcluster(), group(), pods=[pod("scheduler")], events=[event, old])
    c = status(objs)
    assert any("exceeded quota: gpu-quota" in r and r.startswith("FailedCreate") for r in c.reasons)
    assert not any("older cluster" in r for r in c.reasons)


def test_the_api_servers_own_repair_warnings_are_not_reasons():
    """Seen on the real control plane: the API server's ClusterIP repair loop warns about
    a scheduler Service it has just allocated ('... is not allocated; repairing') and
    heals it; users can do nothing about it."""
    repair = {"type": "Warning", "reason": "ClusterIPNotAllocated", "lastTimestamp": iso(T0 + 1),
              "reportingComponent": "ipallocator-repair-controller",
              "involvedObject": {"kind": "Service", "name": "etl-scheduler"},
              "message": "Cluster IP [IPv4]: 10.96.2.88 is not allocated; repairing"}
    quota = {"type": "Warning", "reason": "FailedCreate", "lastTimestamp": iso(T0 + 2),
             "involvedObject": {"kind": "ReplicaSet", "name": "etl-default-worker-0a1b2c-5d6f"},
             "message": "exceeded quota: gpu-quota"}
    c = status(Objects(daskcluster(), group(), pods=[pod("scheduler")], events=[repair, quota]))
    assert c.phase == "Scaling"
    assert not any("repairing" in r for r in c.reasons), c.reasons
    assert any("exceeded quota" in r for r in c.reasons)


def test_silent_operator_is_named_after_the_timeout():
    objs = Objects(daskcluster(phase=None))
    assert status(objs, now=T0 + 10).reasons == ["waiting for the dask-kubernetes operator to create the scheduler and workers"]
    late = status(objs, now=T0 + 120)
    assert late.phase == "Creating"
    assert "has not acted on this cluster within 60 s" in late.reasons[0]


def test_deletion_stuck_on_the_finalizer():
    dc = daskcluster(deletionTimestamp=iso(T0 + 10), finalizers=["kopf.zalando.org/KopfFinalizerMarker"])
    assert status(Objects(dc), now=T0 + 20).reasons == []
    c = status(Objects(dc), now=T0 + 200)
    assert c.phase == "Deleting"
    assert "kopf.zalando.org/KopfFinalizerMarker" in c.reasons[0] and "operator seems not to be running" in c.reasons[0]


def test_cluster_made_elsewhere_is_unmanaged_and_adapt_comes_from_the_autoscaler():
    dc = daskcluster()
    dc["metadata"]["labels"] = {}
    scaler = {"metadata": {"name": "etl"}, "spec": {"cluster": "etl", "minimum": 1, "maximum": 5}}
    c = status(Objects(dc, group(), autoscaler=scaler, pods=[pod("scheduler")]))
    assert c.managed is False
    assert (c.adapt.minimum, c.adapt.maximum) == (1, 5)


def test_events_map_to_the_longest_cluster_name():
    names = {"etl", "etl-big"}
    assert event_cluster({"involvedObject": {"name": "etl-big-default-worker-1-x"}}, names) == "etl-big"
    assert event_cluster({"involvedObject": {"name": "etl-scheduler-abc"}}, names) == "etl"
    assert event_cluster({"involvedObject": {"name": "etl"}}, names) == "etl"
    assert event_cluster({"involvedObject": {"name": "other-scheduler"}}, names) is None


def test_extra_worker_groups_are_counted_apart_and_their_gpus_added():
    highmem = {"metadata": {"name": "etl-highmem"},
               "spec": {"cluster": "etl", "worker": {"replicas": 2, "spec": {"containers": [
                   {"name": "worker", "resources": {"limits": {"nvidia.com/gpu": "2"}}}]}}}}
    extra = [pod("worker", i) for i in range(2)]
    for i, p in enumerate(extra):
        p["metadata"]["name"] = f"etl-highmem-worker-{i}"
        p["metadata"]["labels"]["dask.org/workergroup-name"] = "etl-highmem"
    extra[1]["status"]["conditions"][0]["status"] = "False"
    pods = [pod("scheduler"), pod("worker", 0), pod("worker", 1), *extra]
    cluster = status(Objects(daskcluster(), group(), None, pods, other_groups=[highmem]))
    assert cluster.phase == "Running" and cluster.workers.ready == 2 and cluster.workers.desired == 2
    assert [(g.name, g.desired, g.ready, g.gpus_per_worker) for g in cluster.worker_groups] == [("highmem", 2, 1, 2)]
    assert cluster.gpus.in_use == 2 * 1 + 1 * 2


def test_problems_of_other_worker_groups_are_reasons_but_do_not_fail_the_cluster():
    highmem = {"metadata": {"name": "etl-highmem"}, "spec": {"cluster": "etl", "worker": {"replicas": 3}}}
    extra = [pod("worker", i, ready=False, unschedulable="0/3 nodes are available: 3 Insufficient memory.")
             for i in range(2)] + [pod("worker", 2, ready=False, waiting="ImagePullBackOff")]
    for i, p in enumerate(extra):
        p["metadata"]["name"] = f"etl-highmem-worker-{i}"
        p["metadata"]["labels"]["dask.org/workergroup-name"] = "etl-highmem"
    pods = [pod("scheduler"), pod("worker", 0), pod("worker", 1), *extra]
    cluster = status(Objects(daskcluster(), group(), None, pods, other_groups=[highmem]))
    assert cluster.phase == "Running" and cluster.workers.ready == 2
    assert cluster.reasons == [
        "worker pod etl-highmem-worker-2 (group highmem): ImagePullBackOff: details",
        "2 worker pods of group highmem cannot be scheduled: 0/3 nodes are available: 3 Insufficient memory.",
    ]


def crashed_worker(state: dict, last: dict | None = None, restarts: int = 2) -> dict:
    p = pod("worker", 0, ready=False)
    p["status"]["containerStatuses"] = [{"name": "worker", "restartCount": restarts, "state": state,
                                         "lastState": {"terminated": last} if last else {}}]
    return p


def test_a_crash_loop_says_the_exit_code_and_the_last_line_when_known():
    from jupyter_rapids_kf.backends.kubernetes.crash_logs import crashes

    loop = crashed_worker({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 20s"}},
                          {"exitCode": 137, "reason": "OOMKilled", "containerID": "containerd://abc"})
    objs = Objects(daskcluster(), group(replicas=1), pods=[pod("scheduler"), loop])
    c = status(objs)
    assert c.phase == "Failed"
    assert "worker pod etl-worker-0 keeps crashing (CrashLoopBackOff, OOMKilled, exit code 137). " \
           "It ran out of memory: give it more memory" in c.reasons
    [crash] = crashes(loop)
    assert (crash.previous, crash.run) == (True, "containerd://abc")
    c = status(Objects(daskcluster(), group(replicas=1), pods=[pod("scheduler"), loop], crash_lines={crash: ""}))
    assert any("(CrashLoopBackOff, OOMKilled, exit code 137), printing nothing." in r for r in c.reasons), c.reasons


def test_a_run_that_has_just_exited_is_said_without_failing_the_cluster():
    exited = crashed_worker({"terminated": {"exitCode": 3, "reason": "Error", "containerID": "containerd://x"}})
    c = status(Objects(daskcluster(), group(replicas=1), pods=[pod("scheduler"), exited]))
    assert c.phase == "Scaling"
    assert any(r.startswith("worker pod etl-worker-0 exited with an error (Error, exit code 3). Check the worker "
                            "command (dask-cuda-worker)") for r in c.reasons), c.reasons
    # A worker stopped because its pod is being deleted is no crash.
    exited["metadata"]["deletionTimestamp"] = iso(T0)
    assert not any("exited" in r for r in status(Objects(daskcluster(), group(replicas=1),
                                                         pods=[pod("scheduler"), exited])).reasons)
