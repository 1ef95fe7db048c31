"""The user flows through the extension's REST API, on the real control plane: a Jupyter
server with the Kubernetes backend, acting as the profile's `default-editor` service
account, the real dask-kubernetes operator, the real scheduler and kwok's GPU nodes."""

from __future__ import annotations

import pytest

from .conftest import (
    DASK_API,
    NOTEBOOK_IMAGE,
    daskcluster_body,
    eventually,
    in_thread,
    objects_of,
)

NAMESPACE = "cp-flows"
pytestmark = [pytest.mark.controlplane,
              pytest.mark.usefixtures("dask_rights", "clean_namespace")]


@pytest.fixture(autouse=True)
def watches_stay_open(caplog):
    """Nothing in these flows should break the backend's watches (the API server stays up)."""
    yield
    broken = [r.getMessage() for r in caplog.get_records("call")
              if r.getMessage().startswith("rapids-kf: watching")]
    assert broken == []


def named(name: str, phase: str | None = None):
    return lambda c: c["name"] == name and (phase is None or c["phase"] == phase)


async def create(api, name: str, workers: int = 2, **fields) -> dict:
    code, cluster = await api.call("POST", "clusters", {"name": name, "workers": workers, **fields})
    assert code == 202, cluster
    return cluster


async def test_create_two_workers_runs_on_gpu_nodes(api, events, control_plane, api_namespace):
    async with events() as stream:
        assert (await stream.next("clusters"))["clusters"] == []
        created = await create(api, "etl", workers=2)
        assert created["phase"] == "Creating" and created["managed"] is True
        assert created["workers"]["desired"] == 2 and created["gpus_per_worker"] == 1
        # The default image is the notebook pod's own, read from the API.
        assert created["image"] == NOTEBOOK_IMAGE
        running = await stream.next("cluster", named("etl", "Running"), timeout=90)
    phases = [c["phase"] for kind, c in stream.seen if kind == "cluster" and c["name"] == "etl"]
    assert phases[-1] == "Running" and "Failed" not in phases
    assert running["workers"] == {"desired": 2, "ready": 2, "pending": 0}
    assert running["scheduler"] == {"ready": True,
                                    "address": f"tcp://etl-scheduler.{api_namespace}:8786",
                                    "ucx_address": None}  # a TCP cluster: no UCX listener
    assert running["reasons"] == [] and running["gpus"]["in_use"] == 2
    assert await api.get("clusters/etl") == running
    assert [c["name"] for c in (await api.get("clusters"))["clusters"]] == ["etl"]

    # What really ran: one GPU per worker pod on the GPU nodes, the scheduler (no GPU,
    # no toleration) on the CPU node, as the real kube-scheduler placed them.
    pods = (await in_thread(control_plane.api.get, f"/api/v1/namespaces/{api_namespace}/pods",
                            labelSelector="dask.org/cluster-name=etl"))["items"]
    by_component: dict[str, list[dict]] = {}
    for pod in pods:
        by_component.setdefault(pod["metadata"]["labels"]["dask.org/component"], []).append(pod)
    assert len(by_component["worker"]) == 2 and len(by_component["scheduler"]) == 1
    for pod in by_component["worker"]:
        assert pod["spec"]["nodeName"].startswith("gpu-node-")
        assert pod["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
        assert pod["spec"]["containers"][0]["image"] == NOTEBOOK_IMAGE
    scheduler = by_component["scheduler"][0]
    assert scheduler["spec"]["nodeName"].startswith("cpu-node-")
    assert "nvidia.com/gpu" not in str(scheduler["spec"]["containers"][0].get("resources"))


async def test_cluster_made_with_kubectl_appears_unmanaged(api, events, control_plane,
                                                           api_namespace):
    async with events() as stream:
        await stream.next("clusters")
        body = daskcluster_body("by-hand", api_namespace, workers=1)
        await in_thread(control_plane.api.request, "POST",
                        f"{DASK_API}/namespaces/{api_namespace}/daskclusters", json=body)
        first = await stream.next("cluster", named("by-hand"), timeout=30)
        assert first["managed"] is False
        running = await stream.next("cluster", named("by-hand", "Running"), timeout=90)
    assert running["managed"] is False
    assert running["image"] == "rapidsai/base:kubectl" and running["worker_command"] == "dask-worker"
    assert running["workers"] == {"desired": 1, "ready": 1, "pending": 0}
    listed = (await api.get("clusters"))["clusters"]
    assert [(c["name"], c["managed"]) for c in listed] == [("by-hand", False)]


async def test_scale_beyond_the_gpus_and_back(api, control_plane, api_namespace):
    await create(api, "wide", workers=2)
    await api.wait_for("wide", lambda c: c["phase"] == "Running", 90, "Running")

    code, cluster = await api.call("PATCH", "clusters/wide", {"workers": 8})
    assert code == 202, cluster
    assert cluster["workers"]["desired"] == 8 and cluster["phase"] == "Scaling"

    def six_of_eight(c: dict) -> bool:
        # Both pending pods carry the scheduler's verdict (the last one created may not
        # have been tried yet when the first six are ready).
        return (c["workers"] == {"desired": 8, "ready": 6, "pending": 2}
                and any(r.startswith("2 worker pods cannot be scheduled:")
                        and "Insufficient nvidia.com/gpu" in r for r in c["reasons"]))

    cluster = await api.wait_for("wide", six_of_eight, 120, "6 of 8 workers ready, GPUs short")
    assert cluster["phase"] == "Scaling" and cluster["gpus"]["in_use"] == 6
    # One line for both pods, in the scheduler's own words, and the count.
    assert cluster["reasons"][0].startswith(
        "2 worker pods cannot be scheduled: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu"
    ), cluster["reasons"]
    assert cluster["reasons"][1:] == ["2 of 8 workers not started yet"], cluster["reasons"]

    code, cluster = await api.call("PATCH", "clusters/wide", {"workers": 2})
    assert code == 202, cluster
    cluster = await api.wait_for(
        "wide", lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 2, 90,
        "Running with 2 workers")
    assert cluster["workers"] == {"desired": 2, "ready": 2, "pending": 0}
    assert cluster["reasons"] == []
    owned = await in_thread(objects_of, control_plane, api_namespace, "wide")
    assert len([d for d in owned["deployments"] if "-worker-" in d]) == 2


async def test_delete_removes_everything_the_cluster_owned(api, events, control_plane,
                                                           api_namespace):
    await create(api, "doomed", workers=2)
    await api.wait_for("doomed", lambda c: c["phase"] == "Running", 90, "Running")
    code, cluster = await api.call("PATCH", "clusters/doomed", {"adapt": {"minimum": 1, "maximum": 2}})
    assert code == 202 and cluster["adapt"] == {"minimum": 1, "maximum": 2}, cluster

    # kopf puts a finalizer on the autoscaler; if the cluster is deleted before the
    # operator's create handler for the autoscaler ran, that handler fails and kopf keeps
    # the finalizer until its 60 s retry (README: "Notes and limits"). Let it run first.
    scaler = f"{DASK_API}/namespaces/{api_namespace}/daskautoscalers/doomed"
    await eventually(lambda: "kopf.zalando.org/last-handled-configuration" in (
        control_plane.api.get(scaler)["metadata"].get("annotations") or {}),
        30, "the operator to handle the DaskAutoscaler")

    owned = await in_thread(objects_of, control_plane, api_namespace, "doomed")
    assert owned["daskclusters"] == ["doomed"]
    assert owned["daskworkergroups"] == ["doomed-default"]
    assert owned["daskautoscalers"] == ["doomed"]
    assert owned["services"] == ["doomed-scheduler"]
    assert len(owned["deployments"]) == 3 and len(owned["pods"]) == 3  # scheduler + 2 workers

    async with events() as stream:
        await stream.next("clusters")
        code, cluster = await api.call("DELETE", "clusters/doomed")
        assert code == 202 and cluster["phase"] == "Deleting", cluster
        gone = await stream.next("deleted", lambda d: d["name"] == "doomed", timeout=60)
    assert gone == {"name": "doomed", "namespace": api_namespace}
    code, body = await api.call("GET", "clusters/doomed")
    assert code == 404 and body["error"]["code"] == "not_found"

    # Garbage collection (owner references) and kwok's pod deletion take a few seconds.
    left = {}

    def nothing_left() -> bool:
        left.update(objects_of(control_plane, api_namespace, "doomed"))
        return not any(left.values())

    await eventually(nothing_left, 60, "every object of the cluster to be deleted")
    assert not any(left.values()), left


async def test_a_worker_group_added_by_hand_is_listed_apart(api, control_plane, api_namespace):
    """What `KubeCluster.add_worker_group("highmem", n_workers=2)` makes: a DaskWorkerGroup
    `<cluster>-highmem` that the real operator turns into worker pods of that group."""
    await create(api, "groups", workers=1)
    await api.wait_for("groups", lambda c: c["phase"] == "Running", 90, "Running")
    worker = daskcluster_body("groups", api_namespace, workers=2)["spec"]["worker"]
    group = {"apiVersion": "kubernetes.dask.org/v1", "kind": "DaskWorkerGroup",
             "metadata": {"name": "groups-highmem", "namespace": api_namespace},
             "spec": {"cluster": "groups", "worker": worker}}
    groups_url = f"{DASK_API}/namespaces/{api_namespace}/daskworkergroups"
    await in_thread(control_plane.api.request, "POST", groups_url, json=group)
    try:
        cluster = await api.wait_for(
            "groups", lambda c: c["worker_groups"] and c["worker_groups"][0]["ready"] == 2, 90,
            "the highmem group's workers ready")
        assert cluster["worker_groups"] == [{"name": "highmem", "desired": 2, "ready": 2, "gpus_per_worker": 1}]
        assert cluster["workers"] == {"desired": 1, "ready": 1, "pending": 0}
        assert cluster["phase"] == "Running" and cluster["gpus"]["in_use"] == 3
    finally:
        await in_thread(control_plane.api.request, "DELETE", f"{groups_url}/groups-highmem")
    gone = await api.wait_for("groups", lambda c: c["worker_groups"] == [], 60, "the group gone")
    assert gone["gpus"]["in_use"] == 1
