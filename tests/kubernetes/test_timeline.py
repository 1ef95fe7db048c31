"""A Kubernetes cluster's start-up steps from pods, kubelet events and the scheduler's log."""

from __future__ import annotations

from jupyter_rapids_kf.backends.kubernetes.timeline import build
from jupyter_rapids_kf.models.timeline import StartHistory

T0 = "2026-12-04T10:00:00Z"


def at(seconds: int) -> str:
    return f"2026-12-04T10:{seconds // 60:02d}:{seconds % 60:02d}Z"


def pod(name: str, component: str, scheduled: int | None, started: int | None = None,
        ready: int | None = None, unschedulable: str | None = None) -> dict:
    conditions = []
    if scheduled is not None:
        conditions.append({"type": "PodScheduled", "status": "True", "lastTransitionTime": at(scheduled)})
    elif unschedulable:
        conditions.append({"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                           "message": unschedulable})
    if ready is not None:
        conditions.append({"type": "Ready", "status": "True", "lastTransitionTime": at(ready)})
    statuses = [{"state": {"running": {"startedAt": at(started)}}}] if started is not None else []
    return {"metadata": {"name": name, "creationTimestamp": T0,
                         "labels": {"dask.org/component": component}},
            "spec": {"nodeName": "gpu-node-1" if scheduled is not None else None},
            "status": {"conditions": conditions, "containerStatuses": statuses}}


def event(pod_name: str, reason: str, when: int, message: str = "") -> dict:
    return {"involvedObject": {"kind": "Pod", "name": pod_name}, "reason": reason,
            "lastTimestamp": at(when), "message": message, "type": "Normal"}


DC = {"metadata": {"name": "etl", "creationTimestamp": T0}}
SCHED = "etl-scheduler-5d9f-abcde"
WORKER = "etl-default-worker-1a2b3c-6f7d8-xyz12"


def test_a_start_with_a_pull_a_present_image_and_a_registration():
    pods = [pod(SCHED, "scheduler", 1, 40, 42), pod(WORKER, "worker", 2, 5, 6)]
    events = [
        event(SCHED, "Pulling", 2),
        event(SCHED, "Pulled", 38, 'Successfully pulled image "rapidsai/base:26.10" in 35.5s '
                                   '(35.5s including waiting). Image size: 7123456789 bytes.'),
        event(WORKER, "Pulled", 3, 'Container image "rapidsai/base:26.10" already present on machine'),
    ]
    timeline = build(DC, pods, events, {"etl-default-worker-1a2b3c": 1733306450.0 - 0 + 0}, 1, "rapidsai/base:26.10")
    steps = {(s.pod, s.step): s for s in timeline.steps}
    image = steps[(SCHED, "image")]
    assert image.state == "done" and image.detail == "pulled in 35.5 s, 7.1 GB"
    assert steps[(WORKER, "image")].detail == "already on the node"
    assert steps[(SCHED, "scheduled")].detail == "on node gpu-node-1"
    # The scheduler's chain: 1 s to schedule, then its pull, start and readiness add up to 42 s.
    chain = [s.seconds for s in timeline.steps if s.pod == SCHED]
    assert chain[0] == 1.0 and abs(sum(chain) - 42.0) < 1e-6
    assert steps[(WORKER, "registered")].state == "done"
    assert timeline.ready is not None


def test_a_gpu_that_is_not_free_is_named_and_nothing_is_ready():
    reason = "0/4 nodes are available: 3 Insufficient nvidia.com/gpu, 1 node(s) had untolerated taint."
    pods = [pod(SCHED, "scheduler", 1, 3, 4), pod(WORKER, "worker", None, unschedulable=reason)]
    timeline = build(DC, pods, [], {}, 1, "img")
    waiting = [s for s in timeline.steps if s.state == "waiting"]
    assert [(s.pod, s.step, s.detail) for s in waiting] == [(WORKER, "scheduled", reason)]
    assert timeline.ready is None


def test_without_the_schedulers_log_registration_is_unknown_not_guessed():
    timeline = build(DC, [pod(SCHED, "scheduler", 1, 3, 4), pod(WORKER, "worker", 1, 3, 4)], [], None, 1, "img")
    registered = [s for s in timeline.steps if s.step == "registered"]
    assert [(s.state, s.at) for s in registered] == [("unknown", None)]
    image = [s for s in timeline.steps if s.step == "image"]
    assert {s.state for s in image} == {"unknown"}


def test_the_eta_is_the_median_of_recent_starts_of_the_image():
    history = StartHistory()
    for n, length in enumerate((30, 90, 60)):
        done = build({"metadata": {"name": f"c{n}", "creationTimestamp": T0}},
                     [pod(SCHED, "scheduler", 1, length - 1, length)], [], {}, 0, "img")
        history.record(done)
        history.record(done)  # the same start twice counts once
    starting = build(DC, [pod(SCHED, "scheduler", 1)], [], {}, 0, "img")
    history.estimate(starting, now=starting.created + 20)
    assert starting.eta_seconds == 40.0 and "median of 3 recent start(s) of img: 60 s" in starting.eta_basis
    other = build(DC, [pod(SCHED, "scheduler", 1)], [], {}, 0, "other-image")
    assert history.estimate(other).eta_seconds is None
