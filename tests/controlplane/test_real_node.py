"""Real pods: a CPU DaskCluster made through our REST API runs a real Dask scheduler and
workers on the real node (node.py), handled by the unpatched dask-kubernetes operator.

The tests run in order on one cluster: create, compute, logs, dashboard, the client
snippet, scale down through the scheduler's retire_workers, delete.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from . import node_net as net
from .node import NODE_NAME
from .node_server import server_fixture

pytestmark = pytest.mark.controlplane

NAMESPACE = "real-flows"
CLUSTER = "cpu"
# The node has 2 CPUs: the scheduler gets one (its liveness probe must answer while bokeh
# and distributed import), each worker half of the other.
SMALL = {"cpu": "500m", "memory": "1Gi"}


server = server_fixture(NAMESPACE)


@pytest.fixture(scope="module")
def cluster(server, real_node):
    resp = server.post("clusters", {"name": CLUSTER, "workers": 2, "gpus_per_worker": 0,
                                    "worker_command": "dask worker", **SMALL})
    assert resp.status_code == 202, resp.text
    assert resp.json()["phase"] == "Creating"
    # The first start of the image on the node takes a while (containerd unpacks it once).
    try:
        running = server.wait_for_cluster(
            CLUSTER, lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 2, 240,
            "Running with 2 ready workers")
    except AssertionError as err:
        logs = server.get(f"clusters/{CLUSTER}/logs", component="scheduler", tail=30).text
        raise AssertionError(f"{err}\nscheduler logs: {logs}") from None
    yield running
    server.delete(f"clusters/{CLUSTER}")


def _pods(cp, component: str) -> list[dict]:
    return cp.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods",
                      labelSelector=f"dask.org/cluster-name={CLUSTER},dask.org/component={component}")["items"]


def _scheduler_service_ip(cp) -> str:
    return cp.api.get(f"/api/v1/namespaces/{NAMESPACE}/services/{CLUSTER}-scheduler")["spec"]["clusterIP"]


def _client(cp):
    """A Dask client in this test process, through the scheduler's ClusterIP: the machine
    routes the Service CIDR onto the node's bridge, kube-proxy sends it to the pod."""
    from distributed import Client

    return Client(f"tcp://{_scheduler_service_ip(cp)}:8786", timeout=30)


def test_a_cpu_cluster_runs_real_dask_processes_on_the_node(cluster, server, control_plane):
    assert cluster["reasons"] == [] and cluster["scheduler"]["ready"] is True
    assert cluster["scheduler"]["address"] == f"tcp://{CLUSTER}-scheduler.{NAMESPACE}:8786"
    pods = _pods(control_plane, "scheduler") + _pods(control_plane, "worker")
    assert len(pods) == 3
    for pod in pods:
        assert pod["spec"]["nodeName"] == NODE_NAME
        assert pod["status"]["podIP"].startswith("10.245.0.")
        assert all(c["ready"] and c["started"] for c in pod["status"]["containerStatuses"])
    with _client(control_plane) as client:
        deadline = time.monotonic() + 60
        while len(client.scheduler_info()["workers"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        workers = client.scheduler_info()["workers"]
        if len(workers) < 2:
            logs = server.get(f"clusters/{CLUSTER}/logs", component="worker", tail=15).json()
            raise AssertionError(f"the scheduler knows {len(workers)} workers; worker logs: {logs}")
        # The scheduler itself knows both worker pods, by their pod IPs and names.
        worker_ips = {p["status"]["podIP"] for p in _pods(control_plane, "worker")}
        assert {w["host"] for w in workers.values()} == worker_ips
        hosts = set(client.run(socket.gethostname).values())
        assert hosts == {p["metadata"]["name"] for p in _pods(control_plane, "worker")}
        assert client.submit(sum, range(101)).result() == 5050


def test_logs_come_from_the_containers(cluster, server):
    scheduler = server.get(f"clusters/{CLUSTER}/logs", component="scheduler", tail=200)
    assert scheduler.status_code == 200, scheduler.text
    [sched] = scheduler.json()["logs"]
    assert any("Scheduler at:" in line for line in sched["lines"]), sched["lines"]
    workers = server.get(f"clusters/{CLUSTER}/logs", component="worker", tail=200).json()["logs"]
    assert len(workers) == 2
    for worker in workers:
        assert any("Registered to:" in line for line in worker["lines"]), worker["lines"]


def test_the_dashboard_proxy_serves_the_real_scheduler(cluster, server):
    resp = server.http.get(f"/rapids-kf/clusters/{CLUSTER}/dashboard/status")
    assert resp.status_code == 200, resp.text[:500]
    assert "bokeh" in resp.text.lower() and "Dask" in resp.text


def test_the_client_snippet_computes_on_the_workers(cluster, server, real_node):
    resp = server.get(f"clusters/{CLUSTER}/snippet", kind="client")
    assert resp.status_code == 200, resp.text
    code = resp.json()["code"]
    assert f"{CLUSTER}-scheduler.{NAMESPACE}" in code
    # Run as a notebook kernel would: names resolve through the cluster's DNS.
    script = code + "\nprint('answer', client.submit(lambda: 6 * 7).result())\nclient.close()\n"
    out = subprocess.run(real_node.in_cluster_dns([sys.executable, "-c", script]),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "answer 42" in out.stdout


def test_scale_down_retires_the_worker_the_scheduler_chose(cluster, server, control_plane, real_node):
    with _client(control_plane) as client:
        data = client.scatter(list(range(40)), broadcast=False)
        held = {w: len(keys) for w, keys in client.has_what().items()}
        assert len(held) == 2 and all(held.values()), held  # data on both workers
        resp = server.patch(f"clusters/{CLUSTER}", {"workers": 1})
        assert resp.status_code == 202, resp.text
        server.wait_for_cluster(CLUSTER, lambda c: c["phase"] == "Running"
                                and c["workers"] == {"desired": 1, "ready": 1, "pending": 0}, 120,
                                "Running with 1 worker")
        deadline = time.monotonic() + 60
        while len(client.scheduler_info()["workers"]) != 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        [remaining] = client.scheduler_info()["workers"].values()
        # No data lost: the retired worker handed its keys over before it went.
        assert client.gather(data) == list(range(40))
        assert sum(len(k) for k in client.has_what().values()) == 40
    deployments = control_plane.api.get(
        f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments",
        labelSelector=f"dask.org/cluster-name={CLUSTER},dask.org/component=worker")["items"]
    assert [d["metadata"]["name"] for d in deployments] == [remaining["name"]]
    # The operator's own lines about this cluster (kopf names the object: its worker group
    # `<cluster>-default` in this namespace), not another test's in the session-wide log.
    log = [line for line in (real_node.logs / "operator-real-node.log").read_text().splitlines()
           if f"[{NAMESPACE}/{CLUSTER}-" in line]
    assert any("Retired workers" in line for line in log), log[-20:]
    assert not any("falling back to LIFO" in line for line in log), log[-20:]


def test_delete_stops_every_container_and_nothing_left_the_machine(cluster, server, control_plane,
                                                                  real_node):
    resp = server.delete(f"clusters/{CLUSTER}")
    assert resp.status_code == 202, resp.text
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.get(f"clusters/{CLUSTER}").status_code == 404 and not (
                _pods(control_plane, "scheduler") + _pods(control_plane, "worker")):
            break
        time.sleep(1)
    assert server.get(f"clusters/{CLUSTER}").status_code == 404
    # The kubelet stopped the containers: only the sandboxes' teardown may lag a moment.
    deadline = time.monotonic() + 60
    while real_node.running_containers() and time.monotonic() < deadline:
        time.sleep(1)
    assert real_node.running_containers() == []
    # No pod and no process of this machine sent a packet anywhere but the bridge.
    assert all(n == 0 for n in net.dropped_packets().values()), net.dropped_packets()
    assert real_node.conntrack_outside() == []
