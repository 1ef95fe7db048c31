"""The local backend on real GPUs, through the REST API: LocalCUDACluster, NVML metrics,
the GPU dashboard plots, the `cudf` snippet and the example notebook on dask-cuDF."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jupyter_rapids_kf.backends.kubernetes.readings.gpu import GpuReadings
from jupyter_rapids_kf.backends.local.gpus import detect_gpus

from ..examples_run import outputs_text, run_notebook, run_python

pytestmark = [pytest.mark.gpu, pytest.mark.timeout(900)]

WORKER_FACTS = """
import json, os
from dask.distributed import Client

def facts(dask_worker):
    import rmm
    return {"devices": os.environ.get("CUDA_VISIBLE_DEVICES"), "threads": dask_worker.state.nthreads,
            "pool": type(rmm.mr.get_current_device_resource()).__name__}

with Client(ADDRESS_HERE) as client:
    print("RESULT", json.dumps(client.run(facts)))
"""

SNIPPET_CHECK = """
print("RESULT", json.dumps({"module": type(by_segment).__module__, "segments": len(by_segment),
                            "days": len(by_day), "orders": len(orders)}))
client.close()
"""

#: Where the executed notebook is kept (e.g. $OUT on the GPU machine); a temporary file otherwise.
KEEP = os.environ.get("RAPIDS_KF_GPU_ARTIFACTS")


def gpu_count() -> int:
    return len(detect_gpus())


async def start_gpu_cluster(api, name: str) -> dict:
    n = gpu_count()
    code, created = await api.call("POST", "clusters", {"name": name, "workers": n})
    assert code == 202, created
    assert (created["gpus_per_worker"], created["worker_command"]) == (1, "dask-cuda-worker")
    running = await api.wait_for(name, lambda c: c["phase"] == "Running", timeout=300, what="Running")
    assert running["workers"] == {"desired": n, "ready": n, "pending": 0}
    assert running["gpus"]["in_use"] == n
    return running


async def delete(api, name: str) -> None:
    code, deleting = await api.call("DELETE", f"clusters/{name}")
    assert code == 202 and deleting["phase"] == "Deleting"
    await api.wait_gone(name, timeout=120)


async def test_environment_reports_the_gpus(api):
    env = await api.get("environment")
    gpus = detect_gpus()
    assert [g["name"] for g in env["gpus"]] == [g.name for g in gpus]
    assert all(g["memory_total"] and g["memory_total"] > 2**30 for g in env["gpus"])
    assert env["gpus_available"] == len(gpus)
    assert env["defaults"]["gpus_per_worker"] == 1
    assert env["defaults"]["worker_command"] == "dask-cuda-worker"
    assert env["limits"]["max_gpu_workers"] == len(gpus), "one worker per GPU"
    assert any(c["name"] == "dask-cuda" and c["ok"] for c in env["checks"])


async def test_gpu_cluster_flow(api, jp_fetch):
    n = gpu_count()
    running = await start_gpu_cluster(api, "gpu-flow")
    address = running["scheduler"]["address"]
    assert (await api.get("environment"))["gpus_available"] == 0, "the cluster holds every GPU"

    # LocalCUDACluster: one worker per GPU, each on its own device, one thread, an RMM pool.
    out, _ = await run_python(WORKER_FACTS.replace("ADDRESS_HERE", repr(address)))
    facts = json.loads(out.split("RESULT", 1)[1])
    assert len(facts) == n
    first_devices = {f["devices"].split(",")[0] for f in facts.values()}
    assert len(first_devices) == n, f"each worker owns a different GPU: {facts}"
    assert all(f["threads"] == 1 for f in facts.values())
    assert all("Pool" in f["pool"] for f in facts.values()), facts

    # NVML metrics from every worker reach the Cluster model.
    metered = await api.wait_for(
        "gpu-flow", lambda c: None not in (c["gpus"]["memory_used"], c["gpus"]["memory_total"], c["gpus"]["utilization"]),
        timeout=60, what="GPU metrics",
    )
    gpus = metered["gpus"]
    assert gpus["memory_total"] == sum(g.memory_total for g in detect_gpus()[:n])
    assert 0 < gpus["memory_used"] <= gpus["memory_total"]
    assert 0 <= gpus["utilization"] <= 100

    # The `cudf` snippet, exactly as the API gives it, runs on the GPUs.
    snippet = await api.get("clusters/gpu-flow/snippet", kind="cudf")
    out, _ = await run_python("import json\n" + snippet["code"] + SNIPPET_CHECK, timeout=600)
    result = json.loads(out.split("RESULT", 1)[1])
    assert result["module"].startswith("cudf"), result
    assert result["segments"] == 8 and result["days"] == 365 and result["orders"] == n * 25_000_000

    # The RMM pools hold GPU memory: NVML says so through the Cluster model.
    pooled = await api.wait_for("gpu-flow", lambda c: c["gpus"]["memory_used"] > 0.3 * c["gpus"]["memory_total"],
                                timeout=30, what="pool memory in the metrics")
    assert pooled["gpus"]["in_use"] == n

    # A Kubernetes server reads the same figures from the scheduler, over Dask's comm.
    readings = GpuReadings(5.0, lambda: {"gpu-flow": address}, lambda name: None)
    await readings.read_all()
    await readings.stop()
    through_scheduler = readings.get("gpu-flow")
    assert through_scheduler["memory_total"] == gpus["memory_total"]
    assert through_scheduler["memory_used"] > 0.3 * gpus["memory_total"]
    assert 0 <= through_scheduler["utilization"] <= 100

    # The GPU plots of the dashboard render through the proxy.
    for page in ("individual-gpu-memory", "individual-gpu-utilization"):
        response = await jp_fetch("rapids-kf", "clusters", "gpu-flow", "dashboard", page)
        html = response.body.decode()
        assert response.code == 200 and "bokeh" in html.lower(), page
        assert "docs_json" in html or "Bokeh.embed" in html, f"{page} is not a bokeh document"
    # The Plots menu lists what the scheduler's individual-plots.json offers, read through the
    # same proxy: on a GPU cluster that includes GPU memory and utilisation (shown first).
    response = await jp_fetch("rapids-kf", "clusters", "gpu-flow", "dashboard", "individual-plots.json")
    offered = {path.strip("/") for path in json.loads(response.body).values()}
    assert {"individual-gpu-memory", "individual-gpu-utilization"} <= offered, sorted(offered)

    await delete(api, "gpu-flow")
    assert (await api.get("environment"))["gpus_available"] == n


async def test_cpu_cluster_on_a_gpu_machine(api):
    """gpus_per_worker 0 gives a CPU LocalCluster, not bounded by the GPU count."""
    workers = gpu_count() + 1
    code, created = await api.call("POST", "clusters", {"name": "cpu-on-gpu", "workers": workers, "gpus_per_worker": 0,
                                                         "cpu": "1", "memory": "2Gi"})
    assert code == 202, created
    assert created["worker_command"] == "dask worker"
    running = await api.wait_for("cpu-on-gpu", lambda c: c["phase"] == "Running", timeout=120, what="Running")
    assert running["workers"]["ready"] == workers
    assert running["gpus"] == {"in_use": 0, "memory_used": None, "memory_total": None, "utilization": None}
    env = await api.get("environment")
    assert env["gpus_available"] == gpu_count(), "a CPU cluster holds no GPU"
    await delete(api, "cpu-on-gpu")


async def test_example_notebook_on_the_gpu_cluster(api, tmp_path):
    running = await start_gpu_cluster(api, "gpu-notebook")
    keep = Path(KEEP) if KEEP else tmp_path
    keep.mkdir(parents=True, exist_ok=True)
    rows = os.environ.get("RAPIDS_KF_GPU_NOTEBOOK_ROWS", "50M")
    notebook = await run_notebook(running["scheduler"]["address"], rows, tmp_path, keep / "etl-dask-cudf.executed.ipynb")
    text = outputs_text(notebook)
    assert "ETL backend: cudf" in text
    assert "both backends computed the same result" in text
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["cudf", "pandas"]
    await delete(api, "gpu-notebook")
