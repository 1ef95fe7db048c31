"""A scale the operator has not done: the card says the operator is not acting, after its timeout."""

from __future__ import annotations

import json

from jupyter_rapids_kf.backends.kubernetes.cache import HANDLED
from jupyter_rapids_kf.backends.kubernetes.operator_lag import ScaleWaits
from jupyter_rapids_kf.backends.kubernetes.status import Objects

from .test_status import T0, daskcluster, listed, pod, status


def handled_group(asked: int, handled: int) -> dict:
    return {"metadata": {"name": "etl-default",
                         "annotations": {HANDLED: json.dumps({"spec": {"worker": {"replicas": handled}}})}},
            "spec": {"cluster": "etl", "worker": {"replicas": asked}}}


class Clock:
    t = T0

    def __call__(self) -> float:
        return self.t


def test_since_when_a_scale_is_undone_and_done():
    clock = Clock()
    waits = ScaleWaits(clock=clock)
    assert waits.since("etl", handled_group(2, 2)) is None and not waits.waiting("etl")
    assert waits.since("etl", handled_group(3, 2)) == T0
    clock.t = T0 + 30
    assert waits.since("etl", handled_group(3, 2)) == T0  # the same scale: the first sight counts
    assert waits.since("etl", handled_group(4, 2)) == T0 + 30  # asked again: counted anew
    assert waits.since("etl", handled_group(4, 4)) is None and not waits.waiting("etl")
    # Without kopf's annotation (another operator, a fake one) nothing is claimed.
    assert waits.since("etl", {"spec": {"worker": {"replicas": 3}}}) is None


def test_the_card_names_the_operator_once_its_timeout_passed():
    workers = [pod("worker", 0), pod("worker", 1)]
    objs = Objects(daskcluster(workers=3), handled_group(3, 2), pods=[pod("scheduler"), *workers],
                   worker_list=listed(*workers), scale_undone_since=T0 + 100)
    early = status(objs, now=T0 + 150)
    assert early.phase == "Scaling" and not any("operator" in r for r in early.reasons), early.reasons
    late = status(objs, now=T0 + 161)
    assert late.phase == "Scaling"
    assert late.reasons[0] == (
        "the dask-kubernetes operator has not finished the scale to 3 workers within 60 s: it is "
        "probably not running (ask your administrator; `jupyter rapids-kf doctor` checks it). "
        "The workers already running keep computing"), late.reasons
    assert "1 of 3 workers not started yet" in late.reasons
