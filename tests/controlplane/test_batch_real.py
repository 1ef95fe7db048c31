"""Batch jobs on real pods (the real node of this tier, the unpatched operator): a notebook job
computes on its cluster's workers and its executed copy comes back next to the notebook, a
.py job's log likewise; a failing one is Failed with its error; the job's cluster is gone
afterwards; cancel removes the DaskJob and every pod. The images have no jupyter-rapids-kf:
the runner travels in the job's ConfigMap (.py jobs run in the tier's Dask image, notebook
jobs in that image plus nbclient and ipykernel, build_layer_image.sh). The pipeline step runs
as a pod in test_pipeline_real.py."""

from __future__ import annotations

import time
from importlib.metadata import version

import nbformat
import pytest

from ..api.test_jobs_local import write_notebook
from .conftest import SERVICE_ACCOUNT
from .node_server import NodeJupyterServer

pytestmark = pytest.mark.controlplane

NAMESPACE = "real-batch"
SMALL = {"workers": 2, "gpus_per_worker": 0, "worker_command": "dask worker", "cpu": "250m", "memory": "1Gi"}
COUNT = (
    "from distributed import Client\n"
    "client = Client()  # DASK_SCHEDULER_ADDRESS, set by the operator\n"
    "client.wait_for_workers(2, timeout=120)\n"
    "print('workers', len(client.scheduler_info()['workers']), 'sum', client.submit(sum, range(n)).result())\n"
)



@pytest.fixture(scope="module")
def notebook_image(real_node) -> str:
    """The Dask image plus nbclient, nbformat and ipykernel (pinned to this checkout's), which
    a job's runner needs to execute a notebook; imported into the node's containerd."""
    return real_node.layer_image("jobs", *(f"{p}=={version(p)}" for p in ("nbclient", "nbformat", "ipykernel")))


@pytest.fixture(scope="module")
def server(real_node, control_plane, dask_rights_switch, tmp_path_factory):
    dask_rights_switch.grant()
    real_node.real_namespace(NAMESPACE)
    kubeconfig = control_plane.kubeconfig_for_service_account(NAMESPACE, SERVICE_ACCOUNT)
    srv = NodeJupyterServer(real_node, NAMESPACE, kubeconfig, tmp_path_factory.mktemp("jupyter"), {
        "default_image": real_node.dask_image, "use_notebook_image": False,
        "scheduler_cpu": "250m", "scheduler_memory": "1Gi", "gpu_metrics_interval": 0,
    }).start()
    yield srv
    srv.stop()


def wait_job(server, name: str, check, timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        resp = server.get(f"jobs/{name}")
        last = resp.json()
        if resp.status_code == 200 and check(last):
            return last
        time.sleep(1)
    raise AssertionError(f"job {name}: not {what} after {timeout:.0f}s; last: {last}")


def pods_of(cp, job: str) -> list[str]:
    items = cp.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods", labelSelector=f"dask.org/cluster-name={job}")["items"]
    return sorted(p["metadata"]["name"] for p in items)


def test_a_python_job_computes_on_real_workers_and_its_log_comes_back(server, control_plane):
    (server.dir / "count.py").write_text(COUNT)
    resp = server.post("jobs", {"path": "count.py", "name": "count", "parameters": {"n": 100}, "cluster": SMALL})
    assert resp.status_code == 202, resp.text
    done = wait_job(server, "count", lambda j: j["phase"] in ("Successful", "Failed") and (j["output"] or j["error"]),
                    300, "finished with its output saved")
    assert done["phase"] == "Successful" and done["error"] is None, done
    assert done["output"] == "count.count.log"
    assert "workers 2 sum 4950" in (server.dir / "count.count.log").read_text()
    lines = server.get("jobs/count/logs").json()["lines"]
    assert any(line == "workers 2 sum 4950" for line in lines), lines
    # The operator deletes the job's cluster when the runner ends; the runner pod stays.
    deadline = time.monotonic() + 120
    while pods_of(control_plane, "count") != ["count-runner"] and time.monotonic() < deadline:
        time.sleep(1)
    assert pods_of(control_plane, "count") == ["count-runner"]
    assert server.get("clusters/count").status_code == 404
    assert server.delete("jobs/count").status_code == 202


def outputs(nb) -> list[str]:
    return [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def test_a_notebook_job_computes_and_its_executed_copy_comes_back(server, control_plane, notebook_image):
    write_notebook(server.dir / "etl.ipynb", COUNT, parameters="n = 10")
    resp = server.post("jobs", {"path": "etl.ipynb", "name": "etl", "parameters": {"n": 100},
                                "cluster": {**SMALL, "image": notebook_image}})
    assert resp.status_code == 202, resp.text
    done = wait_job(server, "etl", lambda j: j["phase"] in ("Successful", "Failed") and (j["output"] or j["error"]),
                    300, "finished with its copy saved")
    assert done["phase"] == "Successful" and done["error"] is None, done
    assert done["output"] == "etl.etl.ipynb"
    executed = nbformat.read(server.dir / "etl.etl.ipynb", as_version=4)
    assert "workers 2 sum 4950\n" in outputs(executed)  # the injected n = 100, on 2 real workers
    # The log the user reads has no trace of the notebook's transport.
    lines = server.get("jobs/etl/logs").json()["lines"]
    assert not any("executed notebook" in line for line in lines), lines
    deadline = time.monotonic() + 120
    while pods_of(control_plane, "etl") != ["etl-runner"] and time.monotonic() < deadline:
        time.sleep(1)
    assert pods_of(control_plane, "etl") == ["etl-runner"]  # the job's cluster is gone
    assert server.delete("jobs/etl").status_code == 202


def test_a_failing_notebook_is_failed_with_the_cells_error(server, notebook_image):
    write_notebook(server.dir / "broken.ipynb", "x = 1", "x / 0", "print('never')")
    resp = server.post("jobs", {"path": "broken.ipynb", "name": "broken",
                                "cluster": {**SMALL, "workers": 1, "image": notebook_image}})
    assert resp.status_code == 202, resp.text
    failed = wait_job(server, "broken", lambda j: j["phase"] == "Failed" and j["error"], 300, "Failed")
    assert failed["error"] == "ZeroDivisionError: division by zero"
    executed = nbformat.read(server.dir / failed["output"], as_version=4)
    assert executed.cells[1].outputs[0]["ename"] == "ZeroDivisionError"
    assert server.delete("jobs/broken").status_code == 202


def test_a_failing_job_is_failed_with_its_error(server):
    (server.dir / "bad.py").write_text("raise ValueError('no input for this run')\n")
    resp = server.post("jobs", {"path": "bad.py", "name": "bad", "cluster": {**SMALL, "workers": 1}})
    assert resp.status_code == 202, resp.text
    failed = wait_job(server, "bad", lambda j: j["phase"] == "Failed" and j["error"], 300, "Failed with its error")
    assert failed["error"] == "ValueError: no input for this run"
    assert server.delete("jobs/bad").status_code == 202


def test_cancel_removes_the_job_and_its_pods(server, control_plane):
    (server.dir / "forever.py").write_text("import time\ntime.sleep(3600)\n")
    resp = server.post("jobs", {"path": "forever.py", "name": "forever", "cluster": {**SMALL, "workers": 1}})
    assert resp.status_code == 202, resp.text
    wait_job(server, "forever", lambda j: j["phase"] == "Running", 300, "Running")
    assert "forever-runner" in pods_of(control_plane, "forever")
    assert server.delete("jobs/forever").status_code == 202
    deadline = time.monotonic() + 120
    while (pods_of(control_plane, "forever") or server.get("jobs/forever").status_code != 404) \
            and time.monotonic() < deadline:
        time.sleep(1)
    assert pods_of(control_plane, "forever") == []
    assert server.get("jobs/forever").status_code == 404
