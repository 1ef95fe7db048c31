"""GPU-hours (clusters/gpu_hours.py), replayed against a recording of one cluster's changes
(data/gpu_readings.json: start, scale-up, a gap in the readings, scale-down, idle, scale to 0)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from jupyter_rapids_kf.backends.kubernetes.status import Objects
from jupyter_rapids_kf.clusters.gpu_hours import GpuHoursBook
from jupyter_rapids_kf.config import RapidsKF
from jupyter_rapids_kf.models.cluster import Cluster, GPUUsage, iso_time, parse_iso
from tests.kubernetes.test_status import daskcluster, group, iso, listed, pod, status

RECORDING = json.loads((Path(__file__).parent / "data" / "gpu_readings.json").read_text())["changes"]
T0 = 1_900_000_000.0


def cluster(in_use=0, utilization=None, name="etl", created=T0) -> Cluster:
    return Cluster(name=name, namespace="team-a", backend="kubernetes", created=iso_time(created),
                   gpus_per_worker=1, gpus=GPUUsage(in_use=in_use, utilization=utilization))


def replay(book: GpuHoursBook, until: float | None = None) -> Cluster:
    answer = None
    for change in RECORDING:
        if until is not None and change["t"] > until:
            break
        answer = book.count(cluster(change["in_use"], change["utilization"]), T0 + change["t"])
    return answer


def hours(seconds: float) -> float:
    return round(seconds / 3600, 6)


def test_the_recording_adds_up_to_the_gpu_seconds_held_read_and_busy():
    book = GpuHoursBook()
    answer = replay(book)
    g = answer.gpu_hours
    # held: 30 (1 GPU, unread) + 300 + 600 + 240 (2 GPUs, gap) + 600 + 300 + 300 + 90 + 100
    assert g.held == hours(2560)
    # read: all of it but the 30 s before the first reading and the 2-minute gap (2 GPUs)
    assert g.read == hours(2560 - 30 - 240)
    # busy: 300x80% + 600x60% + 600x50% + 300x2% + 300x0% + 90x3% + 100x40%
    assert g.busy == hours(240 + 360 + 300 + 6 + 0 + 2.7 + 40)
    assert g.busy_share == round(948.7 / 2290, 3) == 0.414
    assert (g.gpus_held, g.utilization, g.as_of) == (0, None, iso_time(T0 + 1900))
    assert g.counted_since == iso_time(T0 + 60)  # from the first GPU held
    # Nothing is held after the scale to 0: later looks add nothing.
    assert book.count(cluster(0, None), T0 + 9000).gpu_hours == g


def test_hours_survive_list_refreshes_and_grow_only_with_what_was_held():
    book = GpuHoursBook()
    replay(book, until=390)  # 2 GPUs at 60% since t=390
    first = book.count(cluster(2, 60.0), T0 + 400)
    # Lists every few seconds show the same state: the same totals, as of the same time, so the
    # JSON does not change (and the event stream sends nothing new).
    for t in range(410, 690, 15):
        again = book.count(cluster(2, 60.0), T0 + t)
        assert again.to_json() == first.to_json()
    g = first.gpu_hours
    assert (g.as_of, g.held, g.gpus_held, g.utilization) == (iso_time(T0 + 390), hours(330), 2, 60.0)
    # The next change closes the stretch: 2 GPUs x 300 s at 60%, added to what came before.
    g = book.count(cluster(2, None), T0 + 690).gpu_hours
    assert (g.held, g.busy) == (hours(930), hours(240 + 360))


def test_no_reading_at_all_says_unknown_never_zero():
    book = GpuHoursBook()
    book.count(cluster(4, None), T0)
    g = book.count(cluster(0, None), T0 + 1800).gpu_hours
    assert (g.held, g.read, g.busy, g.busy_share) == (2.0, 0.0, None, None)


def test_a_cpu_cluster_holds_no_gpu_hours():
    book = GpuHoursBook(2.5)
    g = book.count(replace(cluster(), gpus_per_worker=0), T0 + 3600).gpu_hours
    assert (g.held, g.busy_share, g.counted_since, g.idle_since, g.cost) == (0.0, None, None, None, 0.0)


def test_idle_means_gpus_held_and_read_under_5_percent_without_a_break():
    book = GpuHoursBook()
    assert replay(book, until=1100).gpu_hours.idle_since is None
    assert replay_one(book, 1110).gpu_hours.idle_since == iso_time(T0 + 1110)
    at_1710 = replay_one(book, 1710).gpu_hours  # 2% -> 0% -> 3%: one stretch
    assert (at_1710.idle_since, at_1710.idle_below, at_1710.idle_after) == (iso_time(T0 + 1110), 5.0, 600)
    assert replay_one(book, 1800).gpu_hours.idle_since is None  # 40%: working again
    # A gap in the readings breaks a stretch: idle is never claimed without readings.
    book.count(cluster(1, 0.0), T0 + 2000)
    assert book.count(cluster(1, None), T0 + 2300).gpu_hours.idle_since is None
    assert book.count(cluster(1, 1.0), T0 + 2310).gpu_hours.idle_since == iso_time(T0 + 2310)
    # No GPU held: nothing to warn about.
    assert book.count(cluster(0, 0.0), T0 + 2400).gpu_hours.idle_since is None


def replay_one(book: GpuHoursBook, t: float) -> Cluster:
    change = next(c for c in RECORDING if c["t"] == t)
    return book.count(cluster(change["in_use"], change["utilization"]), T0 + t)


def test_a_new_cluster_of_the_same_name_starts_at_zero_and_deleted_ones_are_forgotten():
    book = GpuHoursBook()
    replay(book)
    g = book.count(cluster(1, 50.0, created=T0 + 5000), T0 + 5000).gpu_hours
    assert (g.held, g.counted_since) == (0.0, iso_time(T0 + 5000))
    book.count(cluster(1, 50.0, name="other"), T0)
    book.forget("team-a", "other")
    assert book.count(cluster(0, None, name="other"), T0 + 3600).gpu_hours.held == 0.0


def test_the_admins_price_turns_hours_into_money():
    g = replay(GpuHoursBook(2.5, "EUR")).gpu_hours
    assert (g.price_per_gpu_hour, g.currency, g.cost) == (2.5, "EUR", round(2560 / 3600 * 2.5, 2))
    g = replay(GpuHoursBook()).gpu_hours
    assert (g.price_per_gpu_hour, g.currency, g.cost) == (None, None, None)


def test_price_options_refuse_nonsense():
    assert RapidsKF(gpu_hour_price=1.2, gpu_hour_currency="CHF").gpu_hour_price == 1.2
    with pytest.raises(ValueError, match="positive number"):
        RapidsKF(gpu_hour_price=-1)
    with pytest.raises(ValueError, match="ISO 4217"):
        RapidsKF(gpu_hour_currency="dollars")


def test_a_cluster_first_seen_holding_gpus_counts_from_its_pods_ready_times():
    # After a server restart: two worker pods that became Ready 2 h and 1 h ago (Kubernetes).
    now = T0 + 7200
    workers = [pod("worker", 0), pod("worker", 1)]
    for worker, ready_at in zip(workers, (T0, T0 + 3600)):
        worker["status"]["conditions"][0]["lastTransitionTime"] = iso(ready_at)
    seen = status(Objects(daskcluster(), group(), pods=[pod("scheduler"), *workers],
                          worker_list=listed(*workers)), now=now)
    assert sorted(seen.gpus_held_since) == [(T0, 1), (T0 + 3600, 1)]
    book = GpuHoursBook()
    g = book.count(seen, now).gpu_hours
    # 2 + 1 GPU-hours held, none of them read (busy unknown, not 0), counted from the first pod.
    assert (g.held, g.read, g.busy_share, g.counted_since) == (3.0, 0.0, None, iso_time(T0))
    g = book.count(replace(seen, gpus=GPUUsage(in_use=2, utilization=50.0)), now).gpu_hours
    g = book.count(replace(seen, gpus=GPUUsage(in_use=2, utilization=None)), now + 1800).gpu_hours
    assert (g.held, g.read, g.busy_share) == (4.0, 1.0, 0.5)
    assert parse_iso(g.as_of) == now + 1800
