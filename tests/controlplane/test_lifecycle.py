"""Clusters that end with their notebook (issue 13), on the real control plane: a KubeFlow
Notebook owns the StatefulSet whose pod is this server; a cluster made through our REST API
lists the Notebook as its owner, and deleting the Notebook deletes the cluster and its pods
through the real garbage collector while our server is stopped."""

from __future__ import annotations

import json

import pytest

from . import kubeflow_notebook
from .conftest import (
    DASK_API,
    MANIFESTS,
    NOTEBOOK_IMAGE,
    SERVICE_ACCOUNT,
    eventually,
    in_thread,
    objects_of,
)

JOBS = "/apis/batch/v1/namespaces/{ns}/jobs"

NAMESPACE = "cp-life"
NOTEBOOK = "nb"
pytestmark = [pytest.mark.controlplane, pytest.mark.usefixtures("dask_rights", "clean_namespace")]


@pytest.fixture(scope="module")
def notebook_crd(control_plane) -> None:
    kubeflow_notebook.install_crd(control_plane.api)


@pytest.fixture
def notebook(control_plane, api_namespace, notebook_crd) -> dict:
    """The Notebook `nb` and its running pod (made again after a test deleted them)."""
    return kubeflow_notebook.create_notebook(control_plane.api, api_namespace, NOTEBOOK, NOTEBOOK_IMAGE)


@pytest.fixture(autouse=True)
def in_the_notebook_pod(as_service_account, notebook, monkeypatch):
    """This server runs in the notebook's pod `nb-0`, as KubeFlow runs it."""
    monkeypatch.setenv("HOSTNAME", f"{NOTEBOOK}-0")
    monkeypatch.setenv("NB_PREFIX", f"/notebook/{NAMESPACE}/{NOTEBOOK}")


def daskcluster(cp, name: str) -> dict | None:
    path = f"{DASK_API}/namespaces/{NAMESPACE}/daskclusters/{name}"
    return cp.api.get(path) if cp.api.exists(path) else None


async def test_deleting_the_notebook_deletes_its_clusters_while_the_server_is_stopped(
        api, jp_serverapp, http_server, control_plane, notebook):
    env = await api.get("environment")
    assert env["ends_with"] == {"kind": "Notebook", "name": NOTEBOOK}
    assert env["defaults"]["tie_to_notebook"] is True
    check = next(c for c in env["checks"] if c["name"] == "notebook")
    assert check["status"] == "ok" and f"Notebook {NOTEBOOK}" in check["message"]

    code, tied = await api.call("POST", "clusters", {"name": "tied", "workers": 1})
    assert code == 202, tied
    assert tied["ends_with"] == {"kind": "Notebook", "name": NOTEBOOK}
    code, untied = await api.call("POST", "clusters", {"name": "untied", "workers": 1, "tie_to_notebook": False})
    assert code == 202, untied
    assert untied["ends_with"] is None

    refs = (await in_thread(daskcluster, control_plane, "tied"))["metadata"]["ownerReferences"]
    assert refs == [{"apiVersion": "kubeflow.org/v1", "kind": "Notebook", "name": NOTEBOOK,
                     "uid": notebook["metadata"]["uid"]}]
    for name in ("tied", "untied"):
        await api.wait_for(name, lambda c: c["phase"] == "Running", 90, "Running")
    assert (await in_thread(objects_of, control_plane, NAMESPACE, "tied"))["pods"]

    # Our server goes away (as when KubeFlow culls the notebook): nothing of ours acts now.
    service = jp_serverapp.web_app.settings["rapids_kf_service"]
    await service.stop()
    http_server.stop()

    await in_thread(control_plane.api.http.delete,
                    f"/apis/kubeflow.org/v1/namespaces/{NAMESPACE}/notebooks/{NOTEBOOK}")

    def tied_gone() -> bool:
        left = objects_of(control_plane, NAMESPACE, "tied")
        return not any(left.values())

    # The garbage collector deletes the DaskCluster; the operator's finalizer and the
    # collector then remove its worker group, Deployments, Services and pods.
    await eventually(tied_gone, 150, "the tied cluster and its pods to be garbage-collected")
    assert await in_thread(daskcluster, control_plane, "untied") is not None
    left = await in_thread(objects_of, control_plane, NAMESPACE, "untied")
    assert len(left["pods"]) == 2  # the untied cluster's scheduler and worker keep running


async def test_a_cluster_with_a_lifetime_is_deleted_by_kubernetes_at_its_deadline(
        api, events, control_plane, notebook):
    """The lifetime Job never runs a pod; at its deadline the Job controller fails it, the
    TTL controller deletes it and the garbage collector deletes the cluster it owns."""
    async with events() as stream:
        await stream.next("clusters")
        code, made = await api.call("POST", "clusters", {"name": "brief", "workers": 1, "lifetime": 25})
        assert code == 202, made
        assert made["lifetime"] == 25
        # Still ends with the notebook: the Job in between is owned by it.
        assert made["ends_with"] == {"kind": "Notebook", "name": NOTEBOOK}
        jobs = JOBS.format(ns=NAMESPACE)
        job = await in_thread(control_plane.api.get, f"{jobs}/brief-lifetime")
        assert job["spec"]["parallelism"] == 0 and job["spec"]["activeDeadlineSeconds"] == 25
        assert [r["uid"] for r in job["metadata"]["ownerReferences"]] == [notebook["metadata"]["uid"]]
        dc = await in_thread(daskcluster, control_plane, "brief")
        assert [(r["kind"], r["uid"]) for r in dc["metadata"]["ownerReferences"]] == [
            ("Job", job["metadata"]["uid"])]
        await stream.next("cluster", lambda c: c["name"] == "brief" and c["phase"] == "Running", timeout=90)
        gone = await stream.next("deleted", lambda c: c["name"] == "brief", timeout=120)
    assert gone["name"] == "brief"
    await eventually(lambda: not any(objects_of(control_plane, NAMESPACE, "brief").values()), 90,
                     "the cluster's objects and pods to be gone")
    assert not (await in_thread(control_plane.api.exists, f"{jobs}/brief-lifetime"))
    # The timer never ran a pod.
    pods = await in_thread(control_plane.api.get, f"/api/v1/namespaces/{NAMESPACE}/pods",
                           labelSelector="rapids-kf.jupyter.org/lifetime-of=brief")
    assert pods["items"] == []


async def test_deleting_a_cluster_with_a_lifetime_removes_its_timer(api, control_plane, notebook):
    code, made = await api.call("POST", "clusters", {"name": "short", "workers": 1, "lifetime": 3600})
    assert code == 202, made
    jobs = JOBS.format(ns=NAMESPACE)
    assert await in_thread(control_plane.api.exists, f"{jobs}/short-lifetime")
    # Running first: a DaskCluster deleted before the operator's create handler ran waits on
    # kopf's 60 s retry (the operator's race, see README), which is not what this test is about.
    await api.wait_for("short", lambda c: c["phase"] == "Running", 90, "Running")
    code, _ = await api.call("DELETE", "clusters/short")
    assert code == 202
    await api.wait_gone("short", 150)  # the operator removes its finalizer; slow on a busy machine
    await eventually(lambda: not control_plane.api.exists(f"{jobs}/short-lifetime"), 30, "the Job to go")


async def test_the_startup_timeline_names_a_gpu_that_is_not_free(api, control_plane, notebook):
    """kwok's nodes: the real kube-scheduler's verdicts are in the timeline; kwok pulls no
    image and no scheduler answers here, so those steps are `unknown`, never guessed."""
    code, made = await api.call("POST", "clusters", {"name": "crowd", "workers": 8})
    assert code == 202, made
    await api.wait_for("crowd", lambda c: c["workers"]["ready"] == 6, 120, "6 of 8 workers on the 6 GPUs")
    timeline = await api.get("clusters/crowd/timeline")
    assert timeline["ready"] is None and timeline["elapsed"] > 0
    steps = timeline["steps"]
    assert steps[0]["step"] == "accepted" and steps[0]["state"] == "done"
    scheduler = {s["step"]: s for s in steps if s["component"] == "scheduler"}
    assert scheduler["scheduled"]["state"] == "done" and "cpu-node-" in scheduler["scheduled"]["detail"]
    assert scheduler["ready"]["state"] == "done" and scheduler["image"]["state"] == "unknown"
    scheduled = [s for s in steps if s["component"] == "worker" and s["step"] == "scheduled"]
    assert len(scheduled) == 8
    waiting = [s for s in scheduled if s["state"] == "waiting"]
    assert len(waiting) == 2 and all("Insufficient nvidia.com/gpu" in s["detail"] for s in waiting)
    assert {s["state"] for s in steps if s["step"] == "registered"} == {"unknown"}


@pytest.fixture
def nodes_readable(control_plane, api_namespace):
    """manifests/optional/gpu-capacity applied: notebooks may read nodes (and their images)."""
    path = MANIFESTS / "optional" / "gpu-capacity"
    can = lambda: control_plane.service_account_can(api_namespace, SERVICE_ACCOUNT, "list", "nodes", "")  # noqa: E731
    control_plane.apply_manifests(path)
    control_plane.api.wait_for(can, 60, "nodes to be readable")
    yield
    control_plane.delete_manifests(path)
    control_plane.api.wait_for(lambda: not can(), 60, "nodes to be unreadable again")


def set_node_images(cp, node: str, names: list[str]) -> None:
    images = [{"names": names, "sizeBytes": 7_123_456_789}] if names else []
    cp.api.request("PATCH", f"/api/v1/nodes/{node}/status",
                   headers={"Content-Type": "application/merge-patch+json"},
                   content=json.dumps({"status": {"images": images}}))


async def test_workers_prefer_the_gpu_node_that_already_holds_the_image(
        api, control_plane, notebook, nodes_readable):
    holder = "gpu-node-2"
    await in_thread(set_node_images, control_plane, holder, [f"docker.io/{NOTEBOOK_IMAGE}"])
    try:
        env = await api.get("environment")
        check = next(c for c in env["checks"] if c["name"] == "image-nodes")
        assert check["status"] == "ok"
        assert check["message"] == (f"{NOTEBOOK_IMAGE} is already on 1 of 3 GPU node(s): {holder}; "
                                    "new workers prefer them")
        code, where = await api.call("GET", "image-nodes", image="rapidsai/base:elsewhere")
        assert code == 200, where
        assert where["known"] is True and where["nodes"] == [] and where["gpu_nodes"] == 3

        code, made = await api.call("POST", "clusters", {"name": "near", "workers": 2})
        assert code == 202, made
        await api.wait_for("near", lambda c: c["phase"] == "Running", 90, "Running")
        pods = (await in_thread(control_plane.api.get, f"/api/v1/namespaces/{NAMESPACE}/pods",
                                labelSelector="dask.org/cluster-name=near,dask.org/component=worker"))["items"]
        assert len(pods) == 2
        for pod in pods:
            affinity = pod["spec"]["affinity"]["nodeAffinity"]
            assert "requiredDuringSchedulingIgnoredDuringExecution" not in affinity
            [preferred] = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
            assert preferred["preference"]["matchExpressions"][0]["values"] == [holder]
            assert pod["spec"]["nodeName"] == holder  # the real kube-scheduler followed it
    finally:
        await in_thread(set_node_images, control_plane, holder, [])
