"""The DaskJob and its ConfigMap as sent to the API: valid against the operator's own CRD schema,
nothing pruned, the cluster built by the same spec builder as a cluster, the file mounted."""

from __future__ import annotations

import base64
import json

import nbformat
import pytest

from jupyter_rapids_kf.config import RapidsKF
from jupyter_rapids_kf.errors import Invalid
from jupyter_rapids_kf.batch.files import payload
from jupyter_rapids_kf.backends.kubernetes.jobs import daskjob_body, file_configmap, job_from
from jupyter_rapids_kf.batch.files import MAX_FILE_BYTES
from jupyter_rapids_kf.models.job import Job
from jupyter_rapids_kf.models.cluster import ClusterSpec

from .crd import errors, pruned


def spec(**kw) -> ClusterSpec:
    values = dict(name="etl-1a2b", workers=3, gpus_per_worker=1, image=None, worker_command="dask-cuda-worker",
                  cpu="4", memory="16Gi", idle_timeout=0, env={"RMM_POOL": "1"})
    return ClusterSpec(**{**values, **kw})


def test_daskjob_is_valid_and_its_cluster_is_a_gpu_cluster():
    job = Job(name="etl-1a2b", namespace="ns", backend="kubernetes", file="work/etl.ipynb", parameters={"n": 3})
    body = daskjob_body(job, spec(), "img:1", "etl.ipynb", RapidsKF())
    assert errors("daskjobs", body) == [] and pruned("daskjobs", body) == []
    worker = body["spec"]["cluster"]["spec"]["worker"]
    assert worker["replicas"] == 3
    assert worker["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert worker["spec"]["tolerations"][0]["key"] == "nvidia.com/gpu"
    scheduler = body["spec"]["cluster"]["spec"]["scheduler"]["spec"]["containers"][0]
    assert "nvidia.com/gpu" not in scheduler["resources"]["limits"]
    runner = body["spec"]["job"]["spec"]["containers"][0]
    assert runner["image"] == "img:1"
    assert runner["args"][:4] == ["python", "/var/rapids-kf/job/.rapids-kf-run.py", "/var/rapids-kf/job/etl.ipynb",
                                  "--print-notebook"]
    assert json.loads(runner["args"][-1]) == {"n": 3}
    assert {"name": "RMM_POOL", "value": "1"} in runner["env"]
    assert body["spec"]["job"]["spec"]["volumes"] == [{"name": "job-file", "configMap": {"name": "etl-1a2b-file"}}]
    # What the list shows is read back from the object alone.
    back = job_from({**body, "metadata": {**body["metadata"], "creationTimestamp": "t"}}, None, "ns")
    assert (back.file, back.workers, back.gpus_per_worker, back.parameters, back.phase) == (
        "work/etl.ipynb", 3, 1, {"n": 3}, "Creating")


def test_configmap_is_owned_by_the_job_and_holds_the_file():
    owner = {"metadata": {"uid": "u-1"}}
    cm = file_configmap("etl-1a2b", owner, "etl.py", b"print(1)\n")
    assert cm["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    assert base64.b64decode(cm["binaryData"]["etl.py"]) == b"print(1)\n"
    # The runner comes along, so the job's image needs no jupyter-rapids-kf.
    assert "def execute_notebook" in cm["data"][".rapids-kf-run.py"]


def test_a_notebook_travels_without_outputs_and_a_big_file_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('x')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="y" * (2 * MAX_FILE_BYTES))]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "big-output.ipynb")
    sent = nbformat.reads(payload(tmp_path / "big-output.ipynb").decode(), as_version=4)
    assert sent.cells[0].outputs == [] and sent.cells[0].source == "print('x')"
    (tmp_path / "big.py").write_text("#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(Invalid) as err:
        payload(tmp_path / "big.py")
    assert err.value.field == "path" and "ConfigMap" in err.value.message


def test_job_phase_follows_the_operator_and_the_runner_pod_reasons():
    obj = {"metadata": {"name": "j", "annotations": {}}, "spec": {}, "status": {"jobStatus": "Failed",
           "startTime": "a", "endTime": "b"}}
    pod = {"status": {"containerStatuses": [{"state": {"waiting": {"reason": "ImagePullBackOff",
                                                                    "message": "no such image"}}}]}}
    job = job_from(obj, pod, "ns")
    assert (job.phase, job.started, job.finished) == ("Failed", "a", "b")
    assert job.reasons == ["job pod: ImagePullBackOff: no such image"]
    obj["metadata"]["deletionTimestamp"] = "now"
    assert job_from(obj, None, "ns").phase == "Deleting"
