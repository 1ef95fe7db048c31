"""Kueue on the real control plane: the real Kueue controller manager (kueue.py) admits our
clusters' pods against a ClusterQueue of 4 GPUs on kwok's GPU nodes, through the extension's
REST API as the profile's `default-editor` (c.RapidsKF.kueue_queue).

NOT part of `make test` yet: named so that pytest does not collect it (run it by hand:
`pytest -m controlplane tests/controlplane/kueue_scenarios.py`). On 2026-12-07 it failed 2 of 5
runs: after A's delete, C stayed queued for more than 30 s with "4 of 4 in use" (A's workloads
still counted, or C's requeue backed off). A bug to find before it joins the tier."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jupyter_rapids_kf.backends.kubernetes.queue.labels import mark_cluster
from jupyter_rapids_kf.backends.kubernetes.spec import build_daskcluster, drop_none
from jupyter_rapids_kf.models.cluster import ClusterSpec

from .conftest import DASK_API, NOTEBOOK_IMAGE, delete_all_daskclusters, eventually, in_thread

READER = Path(__file__).resolve().parents[2] / "manifests" / "optional" / "kueue"
NAMESPACE = "cp-kueue-a"
OTHER = "cp-kueue-b"  # a second profile in the same ClusterQueue
pytestmark = [pytest.mark.controlplane, pytest.mark.usefixtures("dask_rights", "queues", "clean_both")]


@pytest.fixture
def rapids_kf_options():
    return {"kueue_queue": "team-a", "scheduler_cpu": "500m", "scheduler_memory": "1Gi"}


@pytest.fixture
def queues(kueue, control_plane, profiles, api_namespace):
    """What docs/kueue.md has the admin do: a LocalQueue per profile, our reader role."""
    for ns, queue in ((api_namespace, "team-a"), (profiles(OTHER), "team-b")):
        kueue.manage_namespace(ns)
        kueue.local_queue(ns, queue)
    control_plane.apply_manifests(READER)
    control_plane.api.wait_for(lambda: control_plane.service_account_can(
        api_namespace, "default-editor", "watch", "workloads", "kueue.x-k8s.io"), 60, "the reader role")
    return kueue


@pytest.fixture
def clean_both(control_plane, api_namespace):
    yield
    for ns in (api_namespace, OTHER):
        delete_all_daskclusters(control_plane, ns)


def pods_of(cp, ns: str, cluster: str, component: str = "worker") -> list[dict]:
    return cp.api.get(f"/api/v1/namespaces/{ns}/pods",
                      labelSelector=f"dask.org/cluster-name={cluster},dask.org/component={component}")["items"]


def gated(pod: dict) -> bool:
    return any(g["name"] == "kueue.x-k8s.io/admission" for g in pod["spec"].get("schedulingGates") or [])


def admitted_running(cp, ns: str, cluster: str, count: int) -> list[dict] | None:
    pods = [p for p in pods_of(cp, ns, cluster) if not gated(p) and p["status"].get("phase") == "Running"]
    return pods if len(pods) == count else None


async def create(api, name: str, workers: int = 2) -> dict:
    code, cluster = await api.call("POST", "clusters", {"name": name, "workers": workers})
    assert code == 202, cluster
    return cluster


async def running(api, name: str, timeout: float = 90) -> dict:
    return await api.wait_for(name, lambda c: c["phase"] == "Running", timeout, "Running")


async def queued(api, name: str, workers: int, timeout: float = 60) -> dict:
    return await api.wait_for(name, lambda c: (c["queue"] or {}).get("queued") == workers
                              and c["queue"]["position"] is not None, timeout, f"{workers} queued")


def other_cluster(cp, name: str, workers: int = 2) -> None:
    """A cluster of the second profile, as our server there would make it (same spec, same label)."""
    spec = ClusterSpec(name=name, workers=workers, gpus_per_worker=1, cpu="1", memory="4Gi",
                       image=NOTEBOOK_IMAGE, worker_command="dask-cuda-worker", idle_timeout=0, env={})
    body = drop_none(build_daskcluster(spec, image=NOTEBOOK_IMAGE, scheduler_cpu="500m", scheduler_memory="1Gi"))
    mark_cluster(body["spec"], "team-b")
    body["metadata"]["namespace"] = OTHER
    cp.api.request("POST", f"{DASK_API}/namespaces/{OTHER}/daskclusters", json=body)


async def test_third_cluster_waits_with_its_place_and_starts_when_the_first_goes(
        api, control_plane, api_namespace):
    cp = control_plane
    for name in ("a", "b"):
        await create(api, name)
    for name in ("a", "b"):
        ready = await running(api, name)
        assert ready["queue"]["admitted"] == 2 and ready["queue"]["queued"] == 0
        assert ready["reasons"] == []
    await create(api, "c")
    c = await queued(api, "c", 2)
    await create(api, "d")
    d = await queued(api, "d", 2)
    assert c["phase"] != "Running" and c["workers"]["ready"] == 0
    assert c["reasons"][0].startswith("Queued in team-a: position 1, waiting for 2 GPUs (4 of 4 in use by "), c
    assert d["reasons"][0].startswith("Queued in team-a: position 2, waiting for 2 GPUs (4 of 4 in use by "), d
    assert "0 workers admitted, 2 queued" in d["reasons"][0]
    # What Kueue did: C's workers are gated and bound to no node, each one Workload, pending.
    for pod in await in_thread(pods_of, cp, api_namespace, "c"):
        assert gated(pod) and not pod["spec"].get("nodeName"), pod["spec"]
        assert pod["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a"
    workloads = await in_thread(lambda: cp.api.get(
        f"/apis/kueue.x-k8s.io/v1beta2/namespaces/{api_namespace}/workloads")["items"])
    owners = {w["metadata"]["ownerReferences"][0]["name"]: w for w in workloads}
    for pod in await in_thread(pods_of, cp, api_namespace, "a"):
        assert pod["spec"]["nodeName"].startswith("gpu-node-") and not gated(pod)
        assert any(c["type"] == "Admitted" and c["status"] == "True"
                   for c in owners[pod["metadata"]["name"]]["status"]["conditions"])
    # The form's line: where a new cluster goes.
    env = await api.get("environment")
    assert env["queue"] == "team-a"
    assert any(c["name"] == "kueue" and c["ok"] for c in env["checks"]), env["checks"]

    code, _ = await api.call("DELETE", "clusters/a")
    assert code == 202
    t0 = time.monotonic()
    c = await running(api, "c", timeout=30)
    took = time.monotonic() - t0
    print(f"\n[kueue] C admitted and Running {took:.1f}s after A's delete")
    assert c["queue"]["admitted"] == 2 and c["reasons"] == []
    d = await api.wait_for("d", lambda x: (x["reasons"] or [""])[0].startswith("Queued in team-a: position 1"),
                           30, "D first in line")
    assert d["queue"]["queued"] == 2


async def test_second_profile_takes_its_turn_in_the_same_cluster_queue(api, control_plane, api_namespace):
    cp = control_plane
    for name in ("a", "b"):
        await create(api, name)
    for name in ("a", "b"):
        await running(api, name)
    await create(api, "c")  # first in line
    await queued(api, "c", 2)
    await in_thread(other_cluster, cp, "e")  # the other profile's, after it
    await eventually(lambda: len(pods_of(cp, OTHER, "e")) == 2 and all(map(gated, pods_of(cp, OTHER, "e"))),
                     60, "E's two workers gated")
    # BestEffortFIFO does not promise that C's second worker is admitted before E's first once
    # A's GPUs free up (the final clean-clone run of 2026-12-07 timed out with C at 1 admitted,
    # 1 queued, 4 of 4 GPUs in use: probably E's worker took one), so the test frees A and B and
    # asserts what it does promise: both profiles' clusters get their turn.
    for name in ("a", "b"):
        code, _ = await api.call("DELETE", f"clusters/{name}")
        assert code == 202
    await running(api, "c", timeout=60)
    pods = await eventually(lambda: admitted_running(cp, OTHER, "e", 2), 60, "E's workers admitted and Running")
    assert all(p["spec"]["nodeName"].startswith("gpu-node-") for p in pods)


async def test_scale_up_beyond_the_quota_queues_the_extra_workers(api, control_plane, api_namespace):
    cp = control_plane
    await create(api, "grow", workers=2)
    await create(api, "hold", workers=2)
    await running(api, "grow")
    await running(api, "hold")
    first = sorted(p["metadata"]["name"] for p in await in_thread(pods_of, cp, api_namespace, "grow"))
    code, scaled = await api.call("PATCH", "clusters/grow", {"workers": 4})
    assert code == 202, scaled
    grow = await api.wait_for("grow", lambda c: (c["queue"] or {}).get("queued") == 2, 60, "2 extra queued")
    assert grow["queue"]["admitted"] == 2 and grow["workers"]["ready"] == 2 and grow["phase"] == "Scaling"
    assert grow["reasons"][0].startswith("Queued in team-a: position 1, waiting for 2 GPUs (4 of 4 in use by ")
    pods = await in_thread(pods_of, cp, api_namespace, "grow")
    still = sorted(p["metadata"]["name"] for p in pods if not gated(p))
    assert still == first  # the first two keep running, untouched
    assert all(p["status"]["phase"] == "Running" for p in pods if not gated(p))
    code, _ = await api.call("DELETE", "clusters/hold")
    assert code == 202
    grow = await api.wait_for("grow", lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 4, 30,
                              "all 4 workers")
    assert grow["queue"]["admitted"] == 4 and grow["reasons"] == []


async def test_a_daskjob_queues_and_runs_the_same_way(api, control_plane, api_namespace, jp_root_dir):
    cp = control_plane
    for name in ("a", "b"):
        await create(api, name)
    for name in ("a", "b"):
        await running(api, name)
    (jp_root_dir / "etl.py").write_text("print(sum(range(3)))\n")
    code, job = await api.call("POST", "jobs", {"path": "etl.py", "name": "etl-job", "cluster": {"workers": 2}})
    assert code == 202, job
    dj = await in_thread(cp.api.get, f"{DASK_API}/namespaces/{api_namespace}/daskjobs/etl-job")
    assert dj["spec"]["job"]["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a"
    # Its cluster's workers wait for quota like any cluster's: gated, on no node, queued on its card.
    cluster = await queued(api, "etl-job", 2)
    assert cluster["reasons"][0].startswith("Queued in team-a: position 1, waiting for 2 GPUs"), cluster
    for pod in await in_thread(pods_of, cp, api_namespace, "etl-job"):
        assert gated(pod) and not pod["spec"].get("nodeName")
    code, _ = await api.call("DELETE", "clusters/a")
    assert code == 202
    await eventually(lambda: admitted_running(cp, api_namespace, "etl-job", 2), 30, "the job's workers admitted")
    runner = await eventually(lambda: (lambda p: p if p.get("status", {}).get("phase") == "Running" else None)(
        cp.api.get(f"/api/v1/namespaces/{api_namespace}/pods/etl-job-runner")), 60, "the runner Running")
    assert runner["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a" and not gated(runner)
    job = next(j for j in (await api.get("jobs"))["jobs"] if j["name"] == "etl-job")
    assert job["phase"] == "Running"
    path = f"{DASK_API}/namespaces/{api_namespace}/daskjobs"
    await in_thread(cp.api.http.delete, f"{path}/etl-job")
    await in_thread(cp.api.wait_for, lambda: not cp.api.get(path)["items"], 60, "the job gone")
