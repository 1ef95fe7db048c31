"""Export as pipeline through the real server: the YAML written next to the notebook compiles
with the kfp SDK, names our component and wraps it in an exit handler that deletes the cluster."""

from __future__ import annotations

import json

import nbformat
import pytest
import yaml

from jupyter_rapids_kf.pipelines.step import unpack_notebook


@pytest.fixture
def notebook(jp_root_dir):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("n = 10")
    cell.metadata["tags"] = ["parameters"]
    work = nbformat.v4.new_code_cell("from distributed import Client\nprint(Client().submit(sum, range(n)).result())")
    work.outputs = [nbformat.v4.new_output("stream", name="stdout", text="45\n")]
    nb.cells = [cell, work]
    (jp_root_dir / "etl").mkdir()
    nbformat.write(nb, jp_root_dir / "etl" / "ETL run.ipynb")
    return jp_root_dir / "etl" / "ETL run.ipynb"


async def test_export_writes_a_compiled_pipeline_next_to_the_notebook(api, notebook):
    code, answer = await api.call("POST", "pipelines", {"path": "etl/ETL run.ipynb", "parameters": {"n": 1000},
                                                        "cluster": {"workers": 3}})
    assert code == 201, answer
    assert answer["path"] == "etl/ETL run.pipeline.yaml" and answer["component"] == "run-notebook-on-gpu-cluster"
    path = notebook.with_name("ETL run.pipeline.yaml")
    assert answer["bytes"] == path.stat().st_size
    ir = yaml.safe_load(path.read_text())
    assert ir["pipelineInfo"]["name"] == "etl-run" and ir["sdkVersion"].startswith("kfp-2.")
    assert {"comp-run-notebook-on-gpu-cluster", "comp-delete-gpu-cluster"} <= set(ir["components"])
    step = ir["deploymentSpec"]["executors"]["exec-run-notebook-on-gpu-cluster"]["container"]
    assert step["command"] == ["python", "-m", "jupyter_rapids_kf.pipelines.step", "run"]
    assert step["image"] == answer["image"]
    cleanup = ir["root"]["dag"]["tasks"]["delete-gpu-cluster"]
    assert cleanup["triggerPolicy"]["strategy"] == "ALL_UPSTREAM_TASKS_COMPLETED"  # runs when the step fails
    assert cleanup["dependentTasks"] == ["exit-handler-1"]
    assert cleanup["inputs"]["parameters"]["run_id"]["runtimeValue"]["constant"] == "{{$.pipeline_job_uuid}}"
    inner = ir["components"]["comp-exit-handler-1"]["dag"]["tasks"]["run-notebook-on-gpu-cluster"]
    assert inner["cachingOptions"].get("enableCache") is not True
    defaults = {k: v.get("defaultValue") for k, v in ir["root"]["inputDefinitions"]["parameters"].items()}
    assert json.loads(defaults["parameters"]) == {"n": 1000}
    request = json.loads(defaults["cluster_request"])
    assert request["workers"] == 3 and request["image"] == answer["image"]
    carried = nbformat.reads(unpack_notebook(defaults["notebook"]), as_version=4)
    assert [c.source for c in carried.cells] == ["n = 10", nbformat.read(notebook, 4).cells[1].source]
    assert carried.cells[1].outputs == []  # outputs stay behind

    from kfp import components

    loaded = components.load_component_from_file(str(path))  # the SDK reads its own IR back
    assert loaded.name == "etl-run"
    assert "run_id" not in loaded.component_spec.inputs  # only the pipeline's own parameters
    assert set(loaded.component_spec.inputs) == {"notebook", "cluster_request", "parameters"}


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"path": "etl/ETL run.ipynb", "cluster": {"workers": 99}}, 403, "workers"),
        ({"path": "etl/run.py"}, 400, "path"),
        ({"path": "etl/none.ipynb"}, 404, "path"),
        ({"path": "etl/ETL run.ipynb", "cluster": {"profile": "nope"}}, 400, "profile"),
    ],
)
async def test_a_refused_export_writes_nothing(api, notebook, body, status, field):
    (notebook.parent / "run.py").write_text("print(1)\n")
    code, error = await api.call("POST", "pipelines", body)
    assert code == status, error
    assert error["error"]["field"] == field
    assert not list(notebook.parent.glob("*.pipeline.yaml"))
