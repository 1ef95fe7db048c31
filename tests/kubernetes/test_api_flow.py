"""The REST API on the Kubernetes backend, end to end against the emulator: what a user sees."""

from __future__ import annotations

import asyncio
import json

import pytest

from . import crd, fake_operator
from .conftest import NOTEBOOK_IMAGE


def sent(k8s, plural: str = "daskclusters") -> list[dict]:
    return [body for p, body in k8s.received if p == plural]


async def create_running(api, k8s, name="gpu-etl", workers=2, **fields) -> dict:
    code, body = await api.call("POST", "clusters", {"name": name, "workers": workers, **fields})
    assert code == 202, body
    fake_operator.reconcile(k8s, name)
    return await api.wait_for(name, lambda c: c["phase"] == "Running", timeout=10)


async def test_create_sends_a_valid_gpu_daskcluster_with_the_notebook_image(api, k8s):
    code, cluster = await api.call("POST", "clusters", {"name": "gpu-etl", "workers": 2, "gpus_per_worker": 1})
    assert code == 202, cluster
    assert cluster["phase"] == "Creating" and cluster["managed"] is True
    assert cluster["image"] == NOTEBOOK_IMAGE
    assert cluster["workers"]["desired"] == 2 and cluster["gpus_per_worker"] == 1

    [body] = sent(k8s)
    assert crd.errors("daskclusters", body) == [] and k8s.validation == []
    scheduler = body["spec"]["scheduler"]["spec"]["containers"][0]
    worker = body["spec"]["worker"]["spec"]["containers"][0]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert "nvidia.com/gpu" not in json.dumps(body["spec"]["scheduler"])
    assert worker["image"] == scheduler["image"] == NOTEBOOK_IMAGE
    assert worker["args"][0] == "dask-cuda-worker"

    listed = await api.get("clusters")
    assert [c["name"] for c in listed["clusters"]] == ["gpu-etl"]
    running = await create_running(api, k8s, name="second", workers=1)
    assert running["workers"] == {"desired": 1, "ready": 1, "pending": 0}
    assert running["scheduler"]["ready"] is True and running["reasons"] == []


async def test_status_reasons_reach_the_user(api, k8s):
    await api.call("POST", "clusters", {"name": "stuck", "workers": 2})
    message = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    fake_operator.reconcile(k8s, "stuck", workers_ready=0, unschedulable=message)
    cluster = await api.wait_for("stuck", lambda c: c["phase"] == "Scaling")
    assert f"2 worker pods cannot be scheduled: {message}" in cluster["reasons"]
    fake_operator.pod(k8s, "stuck", "scheduler", "stuck-scheduler-7d9f8-abcde", ready=False,
                      waiting=("ImagePullBackOff", 'Back-off pulling image "rapids:nope"'))
    failed = await api.wait_for("stuck", lambda c: c["phase"] == "Failed")
    assert any("ImagePullBackOff" in r for r in failed["reasons"])


async def test_every_list_and_get_is_served_from_the_cache(api, k8s):
    await create_running(api, k8s)
    reads = k8s.count("GET", r"/(daskclusters|daskworkergroups|pods)(\?|/|$)")
    for _ in range(20):
        assert len((await api.get("clusters"))["clusters"]) == 1
        await api.get("clusters/gpu-etl")
    assert k8s.count("GET", r"/(daskclusters|daskworkergroups|pods)(\?|/|$)") == reads


async def test_clusters_made_elsewhere_appear_unmanaged(api, k8s):
    await api.get("clusters")  # the backend is watching
    fake_operator.external_cluster(k8s, "from-notebook", workers=1)
    cluster = await api.wait_for("from-notebook", lambda c: True, timeout=5)
    assert cluster["managed"] is False and cluster["worker_command"] == "dask-worker"


async def test_scale_patches_the_worker_group_and_keeps_the_cluster_field_in_step(api, k8s):
    await create_running(api, k8s)
    code, cluster = await api.call("PATCH", "clusters/gpu-etl", {"workers": 4})
    assert code == 202, cluster
    assert cluster["workers"]["desired"] == 4 and cluster["phase"] == "Scaling"
    assert k8s.get("daskworkergroups", "gpu-etl-default")["spec"]["worker"]["replicas"] == 4
    assert k8s.get("daskclusters", "gpu-etl")["spec"]["worker"]["replicas"] == 4
    # A notebook's KubeCluster.scale(1) patches only the worker group: the DaskCluster says 4.
    group = k8s.get("daskworkergroups", "gpu-etl-default")
    group["spec"]["worker"]["replicas"] = 1
    k8s.put("daskworkergroups", group)
    await api.wait_for("gpu-etl", lambda c: c["workers"]["desired"] == 1)
    # Scaling back to the stale value 4 still reaches the worker group.
    code, cluster = await api.call("PATCH", "clusters/gpu-etl", {"workers": 4})
    assert code == 202 and cluster["workers"]["desired"] == 4
    assert k8s.get("daskworkergroups", "gpu-etl-default")["spec"]["worker"]["replicas"] == 4
    assert all(crd.errors(p, b) == [] for p, b in k8s.received if p.startswith("dask"))


async def test_adapt_creates_patches_and_removes_the_autoscaler(api, k8s):
    await create_running(api, k8s)
    code, cluster = await api.call("PATCH", "clusters/gpu-etl", {"adapt": {"minimum": 1, "maximum": 4}})
    assert code == 202, cluster
    assert cluster["adapt"] == {"minimum": 1, "maximum": 4}
    scaler = k8s.get("daskautoscalers", "gpu-etl")
    assert scaler["spec"] == {"cluster": "gpu-etl", "minimum": 1, "maximum": 4}
    assert scaler["metadata"]["ownerReferences"][0]["name"] == "gpu-etl"
    assert crd.errors("daskautoscalers", scaler) == []

    code, cluster = await api.call("PATCH", "clusters/gpu-etl", {"adapt": {"minimum": 2, "maximum": 6}})
    assert code == 202 and cluster["adapt"] == {"minimum": 2, "maximum": 6}
    assert k8s.get("daskautoscalers", "gpu-etl")["spec"] == {"cluster": "gpu-etl", "minimum": 2, "maximum": 6}
    code, cluster = await api.call("PATCH", "clusters/gpu-etl", {"workers": 3})  # a fixed size ends adapting
    assert code == 202 and cluster["adapt"] is None
    assert k8s.get("daskautoscalers", "gpu-etl") is None
    code, cluster = await api.call("PATCH", "clusters/gpu-etl", {"adapt": {"minimum": 0, "maximum": 2}})
    assert code == 202 and cluster["adapt"] == {"minimum": 0, "maximum": 2}  # adapting again after a fixed size
    assert k8s.get("daskautoscalers", "gpu-etl")["spec"] == {"cluster": "gpu-etl", "minimum": 0, "maximum": 2}
    code, cluster = await api.call("PATCH", "clusters/gpu-etl", {"adapt": None})
    assert code == 202 and cluster["adapt"] is None and k8s.get("daskautoscalers", "gpu-etl") is None


async def test_a_delete_answered_after_the_watch_said_deleted_leaves_no_card(api, k8s):
    # The operator removed its finalizer before our server read the DELETE's answer (the
    # object marked for deletion): recording that answer must not bring the cluster back.
    await create_running(api, k8s)
    dc = k8s.get("daskclusters", "gpu-etl")
    dc["metadata"]["finalizers"] = ["kopf.zalando.org/KopfFinalizerMarker"]
    k8s.put("daskclusters", dc)
    k8s.finalize_at_once = 0.3
    code, cluster = await api.call("DELETE", "clusters/gpu-etl")
    assert code == 202 and cluster["phase"] == "Deleting", cluster
    await api.wait_gone("gpu-etl", timeout=5)
    await asyncio.sleep(1)  # nothing later re-adds it (before: a card left until a re-list)
    code, body = await api.call("GET", "clusters/gpu-etl")
    assert code == 404, body
    assert [c["name"] for c in (await api.get("clusters"))["clusters"]] == []
    # The same name made again is listed as usual.
    await create_running(api, k8s)


async def test_delete_uses_background_propagation_and_shows_deleting(api, k8s):
    await create_running(api, k8s)
    dc = k8s.get("daskclusters", "gpu-etl")
    dc["metadata"]["finalizers"] = ["kopf.zalando.org/KopfFinalizerMarker"]
    k8s.put("daskclusters", dc)
    code, cluster = await api.call("DELETE", "clusters/gpu-etl")
    assert code == 202 and cluster["phase"] == "Deleting"
    assert ("delete:daskclusters", {"apiVersion": "v1", "kind": "DeleteOptions",
                                    "propagationPolicy": "Background"}) in k8s.received
    sent = len(k8s.received)
    code, body = await api.call("PATCH", "clusters/gpu-etl", {"workers": 1})
    assert code == 400, body  # no scaling a cluster on its way out, and the answer says why
    assert body["error"] == {"code": "invalid", "message": "cluster 'gpu-etl' is being deleted", "field": "name"}
    assert k8s.received[sent:] == []  # nothing was written to Kubernetes
    k8s.remove("daskclusters", "gpu-etl")  # the operator removed its finalizer
    await api.wait_gone("gpu-etl", timeout=5)
    code, body = await api.call("DELETE", "clusters/gpu-etl")
    assert code == 404 and body["error"]["code"] == "not_found"


async def test_logs_come_from_pods_log(api, k8s):
    await create_running(api, k8s)
    k8s.logs["gpu-etl-default-worker-0000-pod"] = "starting\nconnected to scheduler\nready"
    data = await api.get("clusters/gpu-etl/logs", component="worker", tail="2")
    by_pod = {p["pod"]: p["lines"] for p in data["logs"]}
    assert by_pod["gpu-etl-default-worker-0000-pod"] == ["connected to scheduler", "ready"]
    assert by_pod["gpu-etl-default-worker-0001-pod"][0].startswith("(no logs:")
    assert any("tailLines=2" in uri and "/log" in uri for _, uri in k8s.requests)
    scheduler = await api.get("clusters/gpu-etl/logs", component="scheduler")
    assert [p["pod"] for p in scheduler["logs"]] == ["gpu-etl-scheduler-7d9f8-abcde"]


async def test_events_stream_pushes_changes(api, k8s, events):
    await api.get("clusters")
    stream = events()
    snapshot = await stream.wait(lambda kind, data: kind == "clusters", what="snapshot")
    assert snapshot == {"clusters": []}
    await api.call("POST", "clusters", {"name": "live", "workers": 1})
    await stream.wait(lambda k, d: k == "cluster" and d["name"] == "live" and d["phase"] == "Creating")
    fake_operator.reconcile(k8s, "live")
    await stream.wait(lambda k, d: k == "cluster" and d["name"] == "live" and d["phase"] == "Running")
    k8s.remove("daskclusters", "live")
    await stream.wait(lambda k, d: k == "deleted" and d["name"] == "live")


async def test_environment_shows_defaults_gpus_and_checks(api, k8s):
    fake_operator.gpu_node(k8s, "gpu-node-1", 4)
    fake_operator.gpu_node(k8s, "gpu-node-2", 4)
    await create_running(api, k8s, workers=2)  # holds 2 GPUs on gpu-node-1
    env = await api.get("environment")
    assert env["backend"] == "kubernetes" and env["namespace"] == k8s.namespace
    assert env["defaults"]["image"] == NOTEBOOK_IMAGE
    assert env["gpus_available"] == 6
    checks = {c["name"]: c for c in env["checks"]}
    for name in ("kubernetes", "crd", "permissions", "operator", "cache", "gpus", "image"):
        assert checks[name]["ok"], checks[name]


async def test_the_operator_check_cannot_tell_before_any_cluster_exists(api, k8s):
    # No cluster yet: nothing shows whether an operator runs, so the check is not a pass.
    env = await api.get("environment")
    check = next(c for c in env["checks"] if c["name"] == "operator")
    assert check["status"] == "unknown" and check["ok"] is False, check
    assert check["message"].startswith("no cluster yet to tell whether the dask-kubernetes operator acts")
    await create_running(api, k8s)
    env = await api.get("environment")
    check = next(c for c in env["checks"] if c["name"] == "operator")
    assert check["status"] == "ok", check


async def test_permission_and_operator_checks_name_their_fix(api, k8s):
    k8s.deny("create", "daskautoscalers")
    k8s.deny("get", "pods/log")
    k8s.deny("list", "nodes")
    env = await api.get("environment")
    checks = {c["name"]: c for c in env["checks"]}
    assert not checks["permissions"]["ok"]
    assert "create daskautoscalers.kubernetes.dask.org" in checks["permissions"]["message"]
    assert "get pods/log" in checks["permissions"]["message"]
    assert "manifests" in checks["permissions"]["fix"]
    # Nodes cannot be read: the GPU check cannot tell, and says so (not ok, not failed).
    assert checks["gpus"]["status"] == "unknown" and checks["gpus"]["ok"] is False
    assert "may not read nodes" in checks["gpus"]["message"]
    assert checks["gpus"]["fix"].startswith("optional: apply manifests/optional/gpu-capacity")
    assert env["gpus_available"] is None


@pytest.mark.parametrize("kind,expected", [
    ("client", "Client('tcp://gpu-etl-scheduler.kubeflow-user:8786')"),
    ("kubecluster", "KubeCluster.from_name('gpu-etl', namespace='kubeflow-user'"),
    ("cudf", "\"dataframe.backend\": 'cudf'"),
])
async def test_snippets_point_at_the_scheduler_service(api, k8s, kind, expected):
    await create_running(api, k8s)
    data = await api.get("clusters/gpu-etl/snippet", kind=kind)
    assert expected in data["code"]
    compile(data["code"], "snippet", "exec")


async def test_image_falls_back_to_the_configured_one_outside_a_notebook_pod(api, k8s, monkeypatch):
    monkeypatch.setenv("HOSTNAME", "a-laptop")  # no such pod in the namespace
    env = await api.get("environment")
    assert env["defaults"]["image"] == "rapidsai/base:26.10-cuda13-py3.12"
    assert any("notebook pod a-laptop not readable" in note for note in env["notes"])
    code, cluster = await api.call("POST", "clusters", {"name": "gpu-etl"})
    assert code == 202 and cluster["image"] == "rapidsai/base:26.10-cuda13-py3.12"


async def test_extra_worker_groups_are_listed_apart_from_the_default_group(api, k8s, events):
    await create_running(api, k8s, workers=2, gpus_per_worker=1)
    fake_operator.extra_worker_group(k8s, "gpu-etl", "highmem", replicas=3, ready=2, gpus=2)
    # Its workers count as ready once the scheduler lists them (stand_in.py: right after their pods).
    cluster = await api.wait_for("gpu-etl", lambda c: c["worker_groups"] and c["worker_groups"][0]["ready"] == 2,
                                 what="the new group with its 2 registered workers")
    assert cluster["worker_groups"] == [{"name": "highmem", "desired": 3, "ready": 2, "gpus_per_worker": 2}]
    # `workers` (and the slider) stay the default group's; GPUs in use count every group.
    assert cluster["workers"] == {"desired": 2, "ready": 2, "pending": 0} and cluster["phase"] == "Running"
    assert cluster["gpus"]["in_use"] == 2 * 1 + 2 * 2

    stream = events()
    await stream.wait(lambda kind, data: kind == "clusters", what="the first snapshot")
    k8s.remove("daskworkergroups", "gpu-etl-highmem")
    for i in range(3):
        k8s.remove("pods", f"gpu-etl-highmem-worker-{i:04x}-pod")
    gone = await stream.wait(lambda kind, c: kind == "cluster" and c["worker_groups"] == [] and c["gpus"]["in_use"] == 2,
                             what="the group gone")
    assert gone["workers"]["ready"] == 2


async def test_workers_count_as_ready_only_once_the_scheduler_lists_them(api, k8s, events, monkeypatch):
    """Pods Ready is not enough: the card, the list, `workers` and the events say 0 ready and
    why until the scheduler lists the workers, then Running."""
    from . import stand_in

    joined = {"late": False}  # the stand-in scheduler lists nobody until the test says so
    stand_in.listing(monkeypatch, lambda backend, name: stand_in.ready_worker_names(backend, name)
                     if joined.get(name) else frozenset())
    stream = events()
    code, _ = await api.call("POST", "clusters", {"name": "late", "workers": 2})
    assert code == 202
    fake_operator.reconcile(k8s, "late")  # scheduler and both worker pods Ready
    waiting = await api.wait_for("late", lambda c: "2 workers started, waiting for them to join the scheduler"
                                 in c["reasons"], what="the started workers said")
    assert waiting["phase"] == "Scaling" and waiting["workers"] == {"desired": 2, "ready": 0, "pending": 2}
    assert waiting["scheduler"]["ready"] is True
    [listed] = (await api.get("clusters"))["clusters"]
    assert listed["workers"]["ready"] == 0 and listed["phase"] == "Scaling"

    joined["late"] = True
    running = await api.wait_for("late", lambda c: c["phase"] == "Running", what="Running once both joined")
    assert running["workers"] == {"desired": 2, "ready": 2, "pending": 0} and running["reasons"] == []
    seen = [c["workers"]["ready"] for kind, c in stream.events if kind == "cluster" and c["name"] == "late"]
    assert 0 in seen and seen[-1] == 2


async def test_a_scheduler_the_server_cannot_reach_counts_no_worker_and_says_so(api, k8s, monkeypatch):
    from . import stand_in

    def unreachable(backend, name):
        raise OSError("Timed out trying to connect to tcp://far-scheduler.kubeflow-user:8786 after 2 s")

    stand_in.listing(monkeypatch, unreachable)
    await api.call("POST", "clusters", {"name": "far", "workers": 1})
    fake_operator.reconcile(k8s, "far")
    cluster = await api.wait_for("far", lambda c: any("cannot reach the scheduler" in r for r in c["reasons"]),
                                 what="the unreachable scheduler said")
    assert cluster["phase"] == "Scaling" and cluster["workers"]["ready"] == 0
    assert any("Timed out trying to connect" in r for r in cluster["reasons"])
