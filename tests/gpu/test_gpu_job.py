"""Run as GPU job on the local backend of a GPU machine: the notebook runs in its own
LocalCUDACluster (one worker per GPU), computes with dask-cuDF, and its executed copy with
those outputs appears next to it."""

from __future__ import annotations

import json

import nbformat
import pytest

from ..api.test_jobs_local import wait_job, write_notebook
from .test_gpu_local import gpu_count

pytestmark = [pytest.mark.gpu, pytest.mark.timeout(600)]

ON_THE_GPUS = (
    "import json, os\n"
    "import cudf, dask_cudf\n"
    "from distributed import Client\n"
    "client = Client()  # DASK_SCHEDULER_ADDRESS: the job's own cluster\n"
    "devices = client.run(lambda: os.environ.get('CUDA_VISIBLE_DEVICES'))\n"
    "df = dask_cudf.from_cudf(cudf.DataFrame({'k': [i % 7 for i in range(n)], 'v': range(n)}), npartitions=4)\n"
    "sums = df.groupby('k').v.sum().compute()\n"
    "print('RESULT', json.dumps({'module': type(sums).__module__, 'total': int(sums.sum()),"
    " 'devices': sorted(devices.values())}))"
)


async def test_a_notebook_job_computes_on_the_gpus(api, jp_root_dir):
    n_gpus = gpu_count()
    write_notebook(jp_root_dir / "gpu" / "etl.ipynb", ON_THE_GPUS, parameters="n = 10")
    code, job = await api.call("POST", "jobs", {"path": "gpu/etl.ipynb", "name": "gpu-job",
                                                "parameters": {"n": 1000}})
    assert code == 202, job
    assert job["gpus_per_worker"] == 1 and job["workers"] == n_gpus, job  # the GPU machine's default
    done = await wait_job(api, "gpu-job", ("Successful", "Failed"), timeout=540)
    assert done["phase"] == "Successful", done
    executed = nbformat.read(jp_root_dir / "gpu" / "etl.gpu-job.ipynb", as_version=4)
    text = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
    line = next(t for t in text.splitlines() if t.startswith("RESULT"))
    result = json.loads(line.split(" ", 1)[1])
    assert result["module"].startswith("cudf"), result  # computed by cuDF, not pandas
    assert result["total"] == sum(range(1000))  # the injected n=1000 won over n=10
    firsts = {d.split(",")[0] for d in result["devices"]}
    assert len(result["devices"]) == n_gpus and len(firsts) == n_gpus, result  # one GPU per worker
