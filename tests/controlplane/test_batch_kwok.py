"""Batch runs on the real control plane (kube-apiserver, the real dask-kubernetes operator, kwok
GPU nodes): what the API server and the operator do with our DaskJobs and pipeline-step clusters.

kwok pods never run code, so a runner never finishes here and has no log: that a notebook
computes, its executed copy comes back and a failing cell fails the job is shown on the local
backend (tests/api/test_jobs_local.py) and, once the tier has a real node, on real pods.
The pipeline step's Client dials a real Dask scheduler on 127.0.0.1 (the DaskCluster's own
pods are kwok's), so the step's order (create, wait for pods, run, delete) is real."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys

import nbformat
import pytest

from jupyter_rapids_kf.config import RapidsKF
from jupyter_rapids_kf.errors import Limit
from jupyter_rapids_kf.pipelines import cluster_name_for_run, run_on_gpu_cluster_async

from .conftest import DASK_API, NOTEBOOK_IMAGE, PROXY_VARS, daskcluster_body, eventually, in_thread, objects_of

NAMESPACE = "cp-batch"
pytestmark = [pytest.mark.controlplane, pytest.mark.usefixtures("dask_rights", "clean_namespace", "no_jobs_left")]


@pytest.fixture
def no_jobs_left(control_plane, api_namespace):
    yield
    path = f"{DASK_API}/namespaces/{api_namespace}/daskjobs"
    for job in control_plane.api.get(path).get("items", []):
        control_plane.api.http.delete(f"{path}/{job['metadata']['name']}")
    control_plane.api.wait_for(lambda: not control_plane.api.get(path)["items"], 60, "jobs to be gone")


def _running_workers(get, namespace: str, count: int) -> list[dict] | None:
    pods = get(f"/api/v1/namespaces/{namespace}/pods",
               labelSelector="dask.org/cluster-name=etl-job,dask.org/component=worker")["items"]
    running = [p for p in pods if p["status"].get("phase") == "Running"]
    return running if len(running) == count else None


def everything_of(cp, namespace: str, name: str) -> dict[str, list[str]]:
    found = {k: v for k, v in objects_of(cp, namespace, name).items() if v}
    for plural, base in (("daskjobs", DASK_API), ("configmaps", "/api/v1")):
        items = cp.api.get(f"{base}/namespaces/{namespace}/{plural}")["items"]
        names = sorted(o["metadata"]["name"] for o in items if o["metadata"]["name"].startswith(name))
        if names:
            found[plural] = names
    return found


async def test_a_job_is_a_daskjob_the_operator_runs_and_cancel_removes_it(
        api, events, control_plane, api_namespace, jp_root_dir):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("from distributed import Client\nClient().submit(sum, range(n)).result()")
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "3"}, execution_count=1)]
    nb.cells = [cell]
    nbformat.write(nb, jp_root_dir / "etl.ipynb")
    async with events() as stream:
        code, job = await api.call("POST", "jobs", {"path": "etl.ipynb", "name": "etl-job", "parameters": {"n": 3},
                                                    "cluster": {"workers": 2}})
        assert code == 202, job
        assert (job["backend"], job["phase"], job["image"]) == ("kubernetes", "Creating", NOTEBOOK_IMAGE)
        phases = []
        running = await stream.next(
            "job", lambda j: j["name"] == "etl-job" and (phases.append(j["phase"]) or j["phase"] == "Running"),
            timeout=90)
    assert running["started"] and running["finished"] is None and running["reasons"] == []
    assert "Failed" not in phases

    # What the operator made of it, as the admin sees it.
    get = control_plane.api.get
    dj = await in_thread(get, f"{DASK_API}/namespaces/{api_namespace}/daskjobs/etl-job")
    assert dj["status"]["jobStatus"] == "Running" and dj["status"]["clusterName"] == "etl-job"
    cm = await in_thread(get, f"/api/v1/namespaces/{api_namespace}/configmaps/etl-job-file")
    assert cm["metadata"]["ownerReferences"][0]["uid"] == dj["metadata"]["uid"]
    sent = nbformat.reads(base64.b64decode(cm["binaryData"]["etl.ipynb"]).decode(), as_version=4)
    assert sent.cells[0].source == cell.source and sent.cells[0].outputs == []
    runner = await in_thread(get, f"/api/v1/namespaces/{api_namespace}/pods/etl-job-runner")
    container = runner["spec"]["containers"][0]
    assert container["image"] == NOTEBOOK_IMAGE and runner["status"]["phase"] == "Running"
    assert container["args"][:4] == ["python", "/var/rapids-kf/job/.rapids-kf-run.py", "/var/rapids-kf/job/etl.ipynb",
                                      "--print-notebook"]
    assert "def execute_notebook" in cm["data"][".rapids-kf-run.py"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["DASK_SCHEDULER_ADDRESS"] == f"tcp://etl-job-scheduler.{api_namespace}.svc.cluster.local:8786"
    assert runner["spec"]["volumes"][0]["configMap"]["name"] == "etl-job-file"
    # The job is Running once its runner runs; its workers may come a moment later.
    pods = await eventually(lambda: _running_workers(get, api_namespace, 2), 60, "2 running workers")
    assert len(pods) == 2
    for pod in pods:
        assert pod["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
        assert pod["spec"]["nodeName"].startswith("gpu-node")
    # The job's cluster is listed with the user's clusters, Running from its pods.
    cluster = await api.wait_for("etl-job", lambda c: c["phase"] == "Running", 60, "Running")
    assert cluster["workers"]["ready"] == 2

    listed = (await api.get("jobs"))["jobs"]
    assert [(j["name"], j["phase"], j["workers"], j["gpus_per_worker"], j["file"]) for j in listed] == [
        ("etl-job", "Running", 2, 1, "etl.ipynb")]

    async with events() as stream:
        code, cancelled = await api.call("DELETE", "jobs/etl-job")
        assert code == 202 and cancelled["phase"] == "Deleting"
        await stream.next("job-deleted", lambda d: d["name"] == "etl-job", timeout=60)
    # Garbage collection removes everything the job owned: runner, cluster, pods, its ConfigMap.
    await eventually(lambda: not everything_of(control_plane, api_namespace, "etl-job"), 90,
                     "the job's objects to be gone")
    code, _ = await api.call("GET", "jobs/etl-job")
    assert code == 404


async def test_a_job_over_the_guardrail_makes_nothing(api, control_plane, api_namespace, jp_root_dir):
    (jp_root_dir / "big.py").write_text("print(1)\n")
    code, error = await api.call("POST", "jobs", {"path": "big.py", "name": "big", "cluster": {"workers": 99}})
    assert code == 403 and error["error"]["code"] == "limit" and error["error"]["field"] == "workers"
    assert await in_thread(everything_of, control_plane, api_namespace, "big") == {}


async def test_export_uses_the_notebook_pods_image(api, jp_root_dir):
    import yaml

    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), jp_root_dir / "etl.ipynb")
    code, exported = await api.call("POST", "pipelines", {"path": "etl.ipynb", "cluster": {"workers": 3}})
    assert code == 201, exported
    assert exported["image"] == NOTEBOOK_IMAGE
    ir = yaml.safe_load((jp_root_dir / "etl.pipeline.yaml").read_text())
    executors = ir["deploymentSpec"]["executors"]
    assert {e["container"]["image"] for e in executors.values()} == {NOTEBOOK_IMAGE}
    code, error = await api.call("POST", "pipelines", {"path": "etl.ipynb", "cluster": {"workers": 99}})
    assert code == 403 and error["error"]["field"] == "workers"


@pytest.fixture
def loopback_scheduler():
    """A real Dask scheduler with 2 workers on 127.0.0.1 for the step's Client (kwok pods run nothing)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as local:
        yield local.scheduler_address


async def test_the_pipeline_step_creates_uses_and_deletes_its_cluster(
        control_plane, api_namespace, as_service_account, loopback_scheduler):
    name = cluster_name_for_run("0b5e-run-ok")
    seen = {}

    def work(client):
        seen.update(everything_of(control_plane, api_namespace, name))
        return client.submit(sum, range(10)).result()

    config = RapidsKF(namespace=api_namespace, gpu_metrics_interval=0)
    result = await run_on_gpu_cluster_async(work, {"workers": 2}, name=name, config=config,
                                            address=lambda c: loopback_scheduler)
    assert result == 45
    # While the work ran: the cluster, its scheduler and both GPU workers existed (ready pods).
    assert seen["daskclusters"] == [name]
    assert len([p for p in seen["pods"] if "-worker-" in p]) == 2
    assert await in_thread(everything_of, control_plane, api_namespace, name) == {}


async def test_a_raising_step_still_deletes_its_cluster(
        control_plane, api_namespace, as_service_account, loopback_scheduler):
    name = cluster_name_for_run("0b5e-run-raises")
    seen = {}

    def work(client):
        seen.update(everything_of(control_plane, api_namespace, name))
        raise ValueError("the ETL failed")

    config = RapidsKF(namespace=api_namespace, gpu_metrics_interval=0)
    with pytest.raises(ValueError, match="the ETL failed"):
        await run_on_gpu_cluster_async(work, {"workers": 1}, name=name, config=config,
                                       address=lambda c: loopback_scheduler)
    assert seen["daskclusters"] == [name]
    assert await in_thread(everything_of, control_plane, api_namespace, name) == {}


async def test_the_step_refuses_what_the_guardrails_refuse(control_plane, api_namespace, as_service_account):
    config = RapidsKF(namespace=api_namespace, gpu_metrics_interval=0, max_workers=4)
    with pytest.raises(Limit):
        await run_on_gpu_cluster_async(lambda c: None, {"workers": 5}, name="kfp-too-big", config=config)
    assert await in_thread(everything_of, control_plane, api_namespace, "kfp-too-big") == {}


async def test_the_exit_handler_deletes_a_cluster_a_killed_step_left(
        control_plane, api_namespace, as_service_account, tmp_path):
    name = cluster_name_for_run("0b5e-run-killed")
    await in_thread(control_plane.api.request, "POST", f"{DASK_API}/namespaces/{api_namespace}/daskclusters",
                    json=daskcluster_body(name, api_namespace, workers=1))
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path)  # no admin config: defaults, namespace from the kubeconfig
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "jupyter_rapids_kf.pipelines.step", "cleanup", "--run-id",
                         "0b5e-run-killed"], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert await in_thread(everything_of, control_plane, api_namespace, name) == {}


async def test_a_job_ends_with_its_notebook(api, control_plane, api_namespace, jp_root_dir, monkeypatch):
    """As clusters do (issue 13): the DaskJob lists the KubeFlow Notebook this server runs in as
    its owner, so deleting the Notebook deletes the job, its runner, its cluster and its file."""
    from . import kubeflow_notebook

    kubeflow_notebook.install_crd(control_plane.api)
    await in_thread(kubeflow_notebook.create_notebook, control_plane.api, api_namespace, "nb", NOTEBOOK_IMAGE)
    monkeypatch.setenv("HOSTNAME", "nb-0")
    monkeypatch.setenv("NB_PREFIX", f"/notebook/{api_namespace}/nb")
    (jp_root_dir / "tied.py").write_text("print(1)\n")
    code, job = await api.call("POST", "jobs", {"path": "tied.py", "name": "tied", "cluster": {"workers": 1}})
    assert code == 202, job
    notebook = await in_thread(control_plane.api.get, f"/apis/kubeflow.org/v1/namespaces/{api_namespace}/notebooks/nb")
    dj = await in_thread(control_plane.api.get, f"{DASK_API}/namespaces/{api_namespace}/daskjobs/tied")
    assert [(r["kind"], r["uid"]) for r in dj["metadata"]["ownerReferences"]] == [
        ("Notebook", notebook["metadata"]["uid"])]
    await eventually(lambda: "tied-runner" in everything_of(control_plane, api_namespace, "tied").get("pods", []),
                     60, "the operator's runner pod")
    await in_thread(control_plane.api.http.delete, f"/apis/kubeflow.org/v1/namespaces/{api_namespace}/notebooks/nb")
    await eventually(lambda: not everything_of(control_plane, api_namespace, "tied"), 120,
                     "the job and all it made to be garbage-collected with the notebook")
