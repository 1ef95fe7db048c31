"""Scaling with real workers on the real node: the unpatched operator asks the real
scheduler (retire_workers, adaptive_target, check_idle) and acts on its answers."""

from __future__ import annotations

import time

import pytest

from .node_server import server_fixture, wait_cluster_pods_gone

pytestmark = pytest.mark.controlplane

NAMESPACE = "real-scale"
# 2 CPUs on the node: the scheduler takes 1, three workers of 300m fit beside it.
SMALL = {"cpu": "300m", "memory": "768Mi"}


server = server_fixture(NAMESPACE)


@pytest.fixture
def make_cluster(server, control_plane):
    made = []

    def make(name: str, workers: int, **extra) -> dict:
        resp = server.post("clusters", {"name": name, "workers": workers, **SMALL, **extra})
        assert resp.status_code == 202, resp.text
        made.append(name)
        return server.wait_for_cluster(
            name, lambda c: c["phase"] == "Running" and c["workers"]["ready"] == workers, 180,
            f"Running with {workers} ready workers")

    yield make
    for name in made:
        server.delete(f"clusters/{name}")
    wait_cluster_pods_gone(control_plane, NAMESPACE)


def _client(cp, name: str):
    from distributed import Client

    ip = cp.api.get(f"/api/v1/namespaces/{NAMESPACE}/services/{name}-scheduler")["spec"]["clusterIP"]
    return Client(f"tcp://{ip}:8786", timeout=30)


def _wait_workers(client, n: int, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = client.scheduler_info()["workers"]
        if len(workers) == n:
            return workers
        time.sleep(0.5)
    raise AssertionError(f"the scheduler has {len(client.scheduler_info()['workers'])} workers, not {n}")


def _worker_deployments(cp, name: str) -> list[str]:
    items = cp.api.get(f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments",
                       labelSelector=f"dask.org/cluster-name={name},dask.org/component=worker")["items"]
    return sorted(d["metadata"]["name"] for d in items)


def test_scale_1_to_3_to_1_with_workers_joining_and_retiring(make_cluster, server, control_plane):
    make_cluster("grow", 1)
    with _client(control_plane, "grow") as client:
        _wait_workers(client, 1)
        assert server.patch("clusters/grow", {"workers": 3}).status_code == 202
        server.wait_for_cluster("grow", lambda c: c["phase"] == "Running"
                                and c["workers"] == {"desired": 3, "ready": 3, "pending": 0}, 150,
                                "Running with 3 workers")
        workers = _wait_workers(client, 3)
        assert sorted(w["name"] for w in workers.values()) == _worker_deployments(control_plane, "grow")
        futures = client.scatter(list(range(30)), broadcast=False)
        assert server.patch("clusters/grow", {"workers": 1}).status_code == 202
        server.wait_for_cluster("grow", lambda c: c["phase"] == "Running"
                                and c["workers"] == {"desired": 1, "ready": 1, "pending": 0}, 150,
                                "Running with 1 worker")
        [kept] = _wait_workers(client, 1).values()
        assert _worker_deployments(control_plane, "grow") == [kept["name"]]
        assert client.gather(futures) == list(range(30))  # retired gracefully: nothing lost


def test_adaptive_follows_the_real_scheduler(make_cluster, server, control_plane):
    make_cluster("adapt", 2)
    # Our Running (pods Ready) comes before the workers have registered; a scale-down then
    # is finished by our server only 20 s after the operator gave up (the last test). Wait
    # as a user who reads the scheduler would, so that this test shows the operator's own.
    with _client(control_plane, "adapt") as client:
        _wait_workers(client, 2)
    resp = server.patch("clusters/adapt", {"adapt": {"minimum": 1, "maximum": 3}})
    assert resp.status_code == 202, resp.text
    # Idle: the scheduler's adaptive_target is below the minimum, so the operator goes to 1.
    server.wait_for_cluster("adapt", lambda c: c["adapt"] == {"minimum": 1, "maximum": 3}
                            and c["workers"]["desired"] == 1 and c["workers"]["ready"] == 1, 120,
                            "adapted down to 1 worker")
    with _client(control_plane, "adapt") as client:
        _wait_workers(client, 1)

        def slow(i):
            import time as t

            t.sleep(2)
            return i

        # 40 tasks of 2 s: far more than one worker does within distributed's target
        # duration, so the scheduler asks for more; the maximum caps it at 3.
        futures = client.map(slow, range(40), pure=False)
        server.wait_for_cluster("adapt", lambda c: c["workers"]["desired"] == 3, 120,
                                "adapted up to 3 workers")
        _wait_workers(client, 3, timeout=120)
        assert client.gather(futures) == list(range(40))


def test_an_idle_cluster_is_removed_by_the_operator(make_cluster, server, real_node):
    posted = time.monotonic()
    make_cluster("idle", 1, idle_timeout=20)
    deadline = time.monotonic() + 120
    while server.get("clusters/idle").status_code != 404 and time.monotonic() < deadline:
        time.sleep(1)
    assert server.get("clusters/idle").status_code == 404
    # Nothing in this test deletes it: the operator did, once the scheduler's idle clock
    # (started after the request) passed the timeout, not before.
    assert time.monotonic() - posted >= 20
    log = (real_node.logs / "operator-real-node.log").read_text()
    assert "real-scale/idle" in log


# `dask worker` 15 s after its container started: the pods are ready (workers have no readiness
# probe) long before the scheduler knows them. `sh -c SCRIPT NAME ARGS...`: the operator
# appends `--name ... --dashboard ...` to the command, which reach `dask worker` as "$@".
LATE_WORKER = 'sh -c sleep${IFS}15;exec${IFS}dask${IFS}worker${IFS}"$@" worker'


def _worker_pods_ready(cp, name: str) -> int:
    pods = cp.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods",
                      labelSelector=f"dask.org/cluster-name={name},dask.org/component=worker")["items"]
    return sum(1 for p in pods if any(c["type"] == "Ready" and c["status"] == "True"
                                      for c in p["status"].get("conditions") or []))


def test_a_scale_down_before_the_workers_registered_is_finished(server, control_plane, real_node):
    resp = server.post("clusters", {"name": "late", "workers": 2, "worker_command": LATE_WORKER, **SMALL})
    assert resp.status_code == 202, resp.text
    try:
        # The user scales down while the card says the workers have started but not joined.
        server.wait_for_cluster("late", lambda c: "2 workers started, waiting for them to join the scheduler"
                                in c["reasons"], 180, "its 2 workers started, not joined")
        _scale_down_before_registration(server, control_plane, real_node)
    finally:
        server.delete("clusters/late")
        wait_cluster_pods_gone(control_plane, NAMESPACE)


def _scale_down_before_registration(server, control_plane, real_node):
    with _client(control_plane, "late") as client:
        assert len(client.scheduler_info()["workers"]) < 2  # the race: not both registered yet
        assert server.patch("clusters/late", {"workers": 1}).status_code == 202
        # The operator asked the scheduler for 1 of the workers it knew (none) and got none.
        log = real_node.logs / "operator-real-node.log"
        left = f"[{NAMESPACE}/late-default] Workers to close: []"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and left not in log.read_text():
            time.sleep(0.5)
        assert left in log.read_text()
        # Our server finishes it: the scheduler retires one (by then registered) worker and its
        # Deployment goes; the card ends at 1 of 1, not "1 worker retiring" for good.
        server.wait_for_cluster("late", lambda c: c["phase"] == "Running"
                                and c["workers"] == {"desired": 1, "ready": 1, "pending": 0}
                                and not c["reasons"], 120, "Running with 1 worker")
        [kept] = _wait_workers(client, 1).values()
        assert _worker_deployments(control_plane, "late") == [kept["name"]]
    server_log = (real_node.logs / f"jupyter-{NAMESPACE}.log").read_text()
    assert "finished the scale-down of late to 1 that the operator left" in server_log


# `dask worker` 20 s after its container started (as LATE_WORKER).
LATER_WORKER = 'sh -c sleep${IFS}20;exec${IFS}dask${IFS}worker${IFS}"$@" worker'


def test_a_worker_counts_as_ready_only_once_the_scheduler_lists_it(server, control_plane):
    """The card (and list, `workers`, timeline) says 0 ready while the worker pods run but
    their `dask worker` has not joined, says why in words, never more ready than the real
    scheduler lists, and Running 2/2 means a client computes at once."""
    resp = server.post("clusters", {"name": "join", "workers": 2, "worker_command": LATER_WORKER, **SMALL})
    assert resp.status_code == 202, resp.text
    try:
        started = server.wait_for_cluster(
            "join", lambda c: "2 workers started, waiting for them to join the scheduler" in c["reasons"]
            and c["scheduler"]["ready"], 180, "its scheduler ready and its 2 workers started, waiting to join")
        assert started["workers"] == {"desired": 2, "ready": 0, "pending": 2}, started
        assert started["phase"] == "Scaling" and started["scheduler"]["ready"] is True
        assert _worker_pods_ready(control_plane, "join") == 2  # the pods are Ready all the same
        [listed] = [c for c in server.get("clusters").json()["clusters"] if c["name"] == "join"]
        assert listed["workers"]["ready"] == 0
        with _client(control_plane, "join") as client:
            assert len(client.scheduler_info()["workers"]) == 0
            seen = []
            deadline = time.monotonic() + 120
            while True:
                card = server.get("clusters/join").json()
                registered = len(client.scheduler_info()["workers"])  # asked after the card
                seen.append((card["workers"]["ready"], registered))
                assert card["workers"]["ready"] <= registered, seen
                if card["phase"] == "Running":
                    break
                assert time.monotonic() < deadline, f"not Running after 120 s: {card}"
                time.sleep(0.2)
            assert card["workers"] == {"desired": 2, "ready": 2, "pending": 0} and card["reasons"] == []
            assert client.submit(lambda: 6 * 7).result(timeout=30) == 42
            assert {r for r, _ in seen} >= {0, 2}, seen
        timeline = server.get("clusters/join/timeline").json()
        registered = [s for s in timeline["steps"] if s["step"] == "registered"]
        assert [s["state"] for s in registered] == ["done", "done"], registered
    finally:
        server.delete("clusters/join")
        wait_cluster_pods_gone(control_plane, NAMESPACE)
