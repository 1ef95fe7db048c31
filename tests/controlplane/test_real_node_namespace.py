"""Deleting a profile namespace on the real node: the notebook pod (node_notebook.py, as
KubeFlow runs it) and the cluster it made stop, nothing of them keeps running on the node, the
namespace goes (with the documented remedy when the operator's kopf finalizers hold it), and
the unpatched operator serves a new namespace of the same name."""

from __future__ import annotations

import time

import pytest

from .node_inspect import netns_exists, state_of
from .node_notebook import NotebookPod
from .node_server import start_server

pytestmark = pytest.mark.controlplane

NAMESPACE = "real-nsdel"
SMALL = {"cpu": "300m", "memory": "768Mi"}
# The admin's c.RapidsKF of the notebook pod: CPU workers and a small scheduler (2-CPU node).
ADMIN = {"default_worker_command": "dask worker", "default_gpus_per_worker": 0,
         "scheduler_cpu": "500m", "scheduler_memory": "1Gi", "gpu_metrics_interval": 0}
STOPPED_WITHIN = 120  # seconds for every pod of the namespace to be gone from the node
HELD_AT_MOST = 60  # seconds to wait for the namespace to go by itself before clearing finalizers


def _pods(control_plane) -> list[dict]:
    return control_plane.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods")["items"]


def _namespace(control_plane) -> dict | None:
    resp = control_plane.api.http.get(f"/api/v1/namespaces/{NAMESPACE}")
    return None if resp.status_code == 404 else resp.json()


def _left_in_namespace(control_plane) -> dict:
    """What still holds a terminating namespace: its conditions and the Dask objects' finalizers."""
    found = {"conditions": ((_namespace(control_plane) or {}).get("status") or {}).get("conditions")}
    for plural in ("daskclusters", "daskworkergroups", "daskautoscalers"):
        items = control_plane.api.get(
            f"/apis/kubernetes.dask.org/v1/namespaces/{NAMESPACE}/{plural}")["items"]
        found[plural] = {o["metadata"]["name"]: o["metadata"].get("finalizers") for o in items}
    return found


@pytest.mark.timeout(900)
def test_deleting_the_profile_namespace_leaves_nothing_running_on_the_node(
        real_node, control_plane, dask_rights_switch, tmp_path_factory):
    dask_rights_switch.grant()
    real_node.real_namespace(NAMESPACE)
    notebook = NotebookPod(real_node, NAMESPACE, "nb", ADMIN).start()
    try:
        # Made through the notebook pod's own server, as its user would.
        resp = notebook.post("clusters", {"name": "doomed", "workers": 2, **SMALL})
        assert resp.status_code == 202, resp.text
        notebook.wait_for_cluster("doomed", lambda c: c["phase"] == "Running", 240, "Running")
        # A DaskAutoscaler too: the operator's kopf finalizer is on it as on the DaskCluster.
        resp = notebook.http.patch("/rapids-kf/clusters/doomed", json={"adapt": {"minimum": 2, "maximum": 2}},
                                   headers={"X-XSRFToken": notebook.http.cookies.get("_xsrf", "")})
        assert resp.status_code == 202, resp.text
        control_plane.api.wait_for(lambda: _left_in_namespace(control_plane)["daskautoscalers"].get("doomed"),
                                   60, "the operator's finalizer on the DaskAutoscaler")

        pods = _pods(control_plane)
        uids = [p["metadata"]["uid"] for p in pods]
        before = state_of(real_node, NAMESPACE, uids)
        # The notebook pod, the scheduler and 2 workers: 4 sandboxes and 4 containers.
        assert len(pods) == 4 and notebook.pod in [p["metadata"]["name"] for p in pods], pods
        assert len(before.running) >= 8 and len(before.netns) == 4 and before.cgroups, before
        finalizers = _left_in_namespace(control_plane)
        assert finalizers["daskclusters"]["doomed"], finalizers  # kopf's, to be removed by the operator

        began = time.monotonic()
        resp = control_plane.api.http.delete(f"/api/v1/namespaces/{NAMESPACE}")
        assert resp.status_code in (200, 202), resp.text

        # Nothing of it keeps running on the node, whatever holds the Namespace object: no pod,
        # no container (sandboxes included) in containerd, no task, no network namespace, no
        # pod cgroup.
        deadline = began + STOPPED_WITHIN
        after = state_of(real_node, NAMESPACE, uids)
        while (_pods(control_plane) or not after.empty() or any(netns_exists(p) for p in before.netns)) \
                and time.monotonic() < deadline:
            time.sleep(1)
            after = state_of(real_node, NAMESPACE, uids)
        assert _pods(control_plane) == []
        assert after.empty(), after
        assert [p for p in before.netns if netns_exists(p)] == []
        stopped = time.monotonic() - began

        # The Namespace object itself: an operator that watches namespaces by pattern (kopf
        # namespace globs, as this node's operator runs: `--namespace=real-*`) stops watching
        # the namespace at the namespace controller's first status write (every condition
        # False) and never removes its finalizers (kopf #1088; its fix in kopf 1.45 checks
        # for True conditions, which come ~20 s later). docs/admin.md says how to see and
        # clear it; this is that remedy.
        deadline = time.monotonic() + HELD_AT_MOST
        while _namespace(control_plane) is not None and time.monotonic() < deadline:
            time.sleep(1)
        held = _namespace(control_plane) is not None
        if held:
            left = _left_in_namespace(control_plane)
            blockers = [c for c in left["conditions"] or [] if c.get("status") == "True"]
            assert {c["type"] for c in blockers} <= {"NamespaceContentRemaining", "NamespaceFinalizersRemaining"}, left
            assert all("kopf.zalando.org/KopfFinalizerMarker" in c["message"] or "dask.org" in c["message"]
                       for c in blockers), left
            for plural in ("daskclusters", "daskworkergroups", "daskautoscalers"):
                for name in left[plural]:
                    control_plane.api.http.patch(
                        f"/apis/kubernetes.dask.org/v1/namespaces/{NAMESPACE}/{plural}/{name}",
                        json={"metadata": {"finalizers": []}},
                        headers={"Content-Type": "application/merge-patch+json"})
            control_plane.api.wait_for(lambda: _namespace(control_plane) is None, 90,
                                       f"namespace {NAMESPACE} to go once the finalizers were removed")
        print(f"\n[namespace] pods and containers gone {stopped:.1f} s after the delete; the "
              f"namespace {'was held by the Dask objects finalizers until they were removed' if held else 'went by itself'}"
              f" ({time.monotonic() - began:.1f} s)")

    finally:
        if notebook.http is not None:
            notebook.http.close()  # the notebook went with its namespace (or stop it if the test failed early)
        if _namespace(control_plane) is not None and not (_namespace(control_plane)["metadata"].get("deletionTimestamp")):
            notebook.stop()

    # The operator is not stuck on the gone namespace: a new namespace of the same name gets
    # a running cluster, and its delete is handled (the finalizer removed).
    server = start_server(real_node, control_plane, NAMESPACE, tmp_path_factory.mktemp("jupyter"))
    try:
        resp = server.post("clusters", {"name": "again", "workers": 1, **SMALL})
        assert resp.status_code == 202, resp.text
        server.wait_for_cluster("again", lambda c: c["phase"] == "Running", 240, "Running")
        assert server.delete("clusters/again").status_code == 202
        deadline = time.monotonic() + 120
        while (server.get("clusters/again").status_code != 404 or _pods(control_plane)) \
                and time.monotonic() < deadline:
            time.sleep(1)
        assert server.get("clusters/again").status_code == 404 and _pods(control_plane) == []
    finally:
        server.stop()
        control_plane.api.http.delete(f"/api/v1/namespaces/{NAMESPACE}")
