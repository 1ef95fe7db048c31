"""Kueue with real pods: on the real node, a ClusterQueue with a CPU quota smaller than the node
holds a second cluster back (Kueue's gate, not the node's capacity), and once the first cluster
goes, the queued one is admitted, starts, and computes. The real Kueue controller (kueue.py),
the unpatched operator of the real node's namespaces, our server as the profile's
default-editor with c.RapidsKF.kueue_queue."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jupyter_rapids_kf.backends.kubernetes.queue.labels import gated
from jupyter_rapids_kf.backends.kubernetes.queue.state import quantity

from .node import NODE_NAME
from .node_server import server_fixture, wait_cluster_pods_gone

pytestmark = pytest.mark.controlplane

NAMESPACE = "real-kueue"
QUEUE = "team-real"
CLUSTER_QUEUE = "rapids-kf-real-cpus"
READER = Path(__file__).resolve().parents[2] / "manifests" / "optional" / "kueue"
# One cluster = its scheduler (500m) + one worker (300m) = 800m: the whole quota. The node has
# 2 CPUs, room for both clusters: what holds the second back is the quota.
QUOTA_CPU = "800m"
WORKER = {"workers": 1, "cpu": "300m", "memory": "768Mi"}

server = server_fixture(NAMESPACE, kueue_queue=QUEUE, scheduler_cpu="500m", scheduler_memory="768Mi")


@pytest.fixture(scope="module")
def cpu_queue(kueue, control_plane, server):
    """What docs/kueue.md has the admin do, with a CPU quota for the real node's profile."""
    kueue.manage_namespace(NAMESPACE)
    kueue.cluster_queue(gpus=0, cpus=QUOTA_CPU, memory="8Gi", name=CLUSTER_QUEUE)
    kueue.local_queue(NAMESPACE, QUEUE, cluster_queue=CLUSTER_QUEUE)
    control_plane.apply_manifests(READER)
    control_plane.api.wait_for(lambda: control_plane.service_account_can(
        NAMESPACE, "default-editor", "watch", "workloads", "kueue.x-k8s.io"), 60, "the reader role")
    yield kueue
    wait_cluster_pods_gone(control_plane, NAMESPACE)
    control_plane.api.wait_for(lambda: not kueue.workloads(NAMESPACE), 60, "the Workloads gone")
    control_plane.api.http.delete(f"/apis/kueue.x-k8s.io/v1beta2/namespaces/{NAMESPACE}/localqueues/{QUEUE}")
    control_plane.api.http.delete(f"/apis/kueue.x-k8s.io/v1beta2/clusterqueues/{CLUSTER_QUEUE}")


def _pods(cp, name: str) -> list[dict]:
    return cp.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods", labelSelector=f"dask.org/cluster-name={name}")["items"]


def _client(cp, name: str):
    from distributed import Client

    ip = cp.api.get(f"/api/v1/namespaces/{NAMESPACE}/services/{name}-scheduler")["spec"]["clusterIP"]
    return Client(f"tcp://{ip}:8786", timeout=30)


def _compute(client) -> int:
    deadline = time.monotonic() + 90
    while not client.scheduler_info()["workers"]:
        assert time.monotonic() < deadline, "no worker joined the scheduler in 90 s"
        time.sleep(0.5)
    return client.submit(sum, range(10), pure=False).result(timeout=60)


def test_a_queued_cluster_starts_and_computes_once_admitted(cpu_queue, server, control_plane):
    cp = control_plane
    try:
        assert server.post("clusters", {"name": "first", **WORKER}).status_code == 202
        server.wait_for_cluster("first", lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 1,
                                180, "first Running")
        assert server.post("clusters", {"name": "second", **WORKER}).status_code == 202
        second = server.wait_for_cluster(
            "second", lambda c: (c["queue"] or {}).get("queued") == 1 and c["queue"]["scheduler_queued"], 60,
            "second queued, scheduler and worker")
        assert second["reasons"][0] == ("Queued in team-real: position 1, waiting for 0.8 CPUs (0.8 of 0.8 in use "
                                        "by 2 workloads); 0 workers admitted, 1 queued, the scheduler is queued too")
        pods = _pods(cp, "second")
        assert len(pods) == 2 and all(gated(p) and not p["spec"].get("nodeName") for p in pods), \
            [p["spec"] for p in pods]
        # The node has room for them: the quota, not the node, keeps them out.
        node = cp.api.get(f"/api/v1/nodes/{NODE_NAME}")
        used = sum(quantity(c["resources"]["requests"]["cpu"]) for p in _pods(cp, "first")
                   for c in p["spec"]["containers"])
        asked = sum(quantity(c["resources"]["requests"]["cpu"]) for p in pods for c in p["spec"]["containers"])
        assert used + asked <= quantity(node["status"]["allocatable"]["cpu"]), (used, asked, node["status"])
        with _client(cp, "first") as client:
            assert _compute(client) == 45

        assert server.delete("clusters/first").status_code == 202
        t0 = time.monotonic()
        second = server.wait_for_cluster("second", lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 1,
                                         180, "second admitted and Running")
        print(f"\n[kueue] the queued cluster Running {time.monotonic() - t0:.1f}s after the first's delete")
        assert second["reasons"] == [] and second["queue"]["admitted"] == 1
        assert all(p["spec"]["nodeName"] == NODE_NAME and not gated(p) for p in _pods(cp, "second"))
        with _client(cp, "second") as client:
            assert _compute(client) == 45
    finally:
        for name in ("first", "second"):
            server.delete(f"clusters/{name}")
