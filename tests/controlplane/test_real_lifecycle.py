"""Issue 13 on real pods: the start-up timeline of a real start on the real node (node.py),
the idle countdown from the real scheduler, and the unpatched operator deleting the cluster
once it has been idle for its timeout."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from .conftest import SERVICE_ACCOUNT
from .node_server import NodeJupyterServer, wait_cluster_pods_gone

pytestmark = pytest.mark.controlplane

NAMESPACE = "real-life"
SMALL = {"cpu": "500m", "memory": "1Gi"}
IDLE = 45  # seconds


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def server(real_node, control_plane, dask_rights_switch, tmp_path_factory):
    dask_rights_switch.grant()
    real_node.real_namespace(NAMESPACE)
    kubeconfig = control_plane.kubeconfig_for_service_account(NAMESPACE, SERVICE_ACCOUNT)
    # gpu_metrics_interval > 0: the server asks the real scheduler (through cluster DNS) for
    # its idle time and its worker list, as it would in a notebook pod.
    srv = NodeJupyterServer(real_node, NAMESPACE, kubeconfig, tmp_path_factory.mktemp("jupyter"), {
        "default_image": real_node.dask_image, "use_notebook_image": False,
        "scheduler_cpu": "1", "scheduler_memory": "1Gi", "gpu_metrics_interval": 2,
    }).start()
    yield srv
    srv.stop()


# The real node's set-up (and waiting for it while another session holds the machine's one
# real node) counts toward the first test that asks for it.
@pytest.mark.timeout(900)
def test_a_real_start_is_timed_counted_down_and_the_idle_cluster_deleted_by_the_operator(
        server, control_plane):
    began = time.time()
    resp = server.post("clusters", {"name": "idle", "workers": 1, "gpus_per_worker": 0,
                                    "worker_command": "dask worker", "idle_timeout": IDLE, **SMALL})
    assert resp.status_code == 202, resp.text
    server.wait_for_cluster("idle", lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 1,
                            240, "Running with its worker")
    measured = time.time() - began

    # The countdown: idle_since is the real scheduler's own idle clock.
    counting = server.wait_for_cluster("idle", lambda c: c["idle_since"], 30, "idle_since")
    assert counting["idle_timeout"] == IDLE
    assert began - 5 < seconds(counting["idle_since"]) <= time.time() + 1

    # Pods are Ready before their Dask worker has registered: the timeline waits for the
    # scheduler's own worker list, so it may finish a little after the phase says Running.
    deadline = time.time() + 60
    while (timeline := server.get("clusters/idle/timeline").json())["ready"] is None:
        assert time.time() < deadline, timeline
        time.sleep(0.5)
    measured = time.time() - began
    print("timeline of a real start:", json.dumps(timeline, indent=1), "measured", measured)
    steps = timeline["steps"]
    by_pod: dict[str, list[dict]] = {}
    for step in steps[1:]:
        by_pod.setdefault(step["pod"], []).append(step)
    assert [s["step"] for s in steps if s["component"] == "scheduler"] == ["scheduled", "image", "started", "ready"]
    assert [s["step"] for s in steps if s["component"] == "worker"] == ["scheduled", "image", "started", "registered"]
    assert [(s["pod"], s["step"], s["state"], s["detail"]) for s in steps if s["state"] != "done"] == []
    # The image was imported onto the node: the kubelet said so, and no pull happened.
    assert {s["detail"] for s in steps if s["step"] == "image"} == {"already on the node"}
    worker = [s for s in steps if s["component"] == "worker"]
    assert worker[-1]["detail"] == "in the scheduler's worker list"
    # Each pod's steps add up to its start (Kubernetes times are whole seconds)...
    for pod, chain in by_pod.items():
        pod_created = seconds(chain[-1]["at"]) - sum(s["seconds"] for s in chain)
        assert began - 2 <= pod_created <= began + measured, (pod, chain)
    # ...and the whole start to what this test measured from the request to Running.
    assert 0 < timeline["seconds"] <= measured + 2, (timeline["seconds"], measured)

    # Idle since it started: the unpatched operator asks the scheduler's HTTP API and deletes it.
    deadline = time.time() + IDLE + 90
    while time.time() < deadline:
        if server.get("clusters/idle").status_code == 404:
            break
        time.sleep(1)
    else:
        raise AssertionError("the operator did not delete the idle cluster")
    gone_after = time.time() - seconds(counting["idle_since"])
    assert gone_after >= IDLE - 1, gone_after
    # The card is gone once the DaskCluster is; its pods follow through the garbage
    # collector (Deployments, ReplicaSets, Pods, grace period): wait for them, never assert
    # it the moment the card went 404.
    wait_cluster_pods_gone(control_plane, NAMESPACE, 120, "dask.org/cluster-name=idle")
