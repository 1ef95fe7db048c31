"""The CPU path of the GPU example, through the REST API: what CI can run without a GPU.

A CPU cluster is created through the extension, then the `cudf` snippet and the example
notebook run unchanged against it (on the pandas backend). tests/gpu does the same on GPUs.
"""

from __future__ import annotations

import json

import pytest

from ..examples_run import outputs_text, run_notebook, run_python

pytest.importorskip("pandas", reason="the example ETL needs pandas (dask[dataframe])")
pytest.importorskip("nbclient", reason="running the example notebook needs nbclient")

pytestmark = pytest.mark.timeout(600)

CHECK = """
print("RESULT", json.dumps({"module": type(by_segment).__module__, "segments": len(by_segment),
                            "days": len(by_day), "orders": len(orders)}))
client.close()
"""


async def cpu_cluster(api, name: str) -> dict:
    code, created = await api.call("POST", "clusters", {"name": name, "workers": 2, "gpus_per_worker": 0})
    assert code == 202, created
    assert created["worker_command"] == "dask worker"
    return await api.wait_for(name, lambda c: c["phase"] == "Running", timeout=120, what="Running")


async def test_cudf_snippet_runs_unchanged_on_a_cpu_cluster(api):
    cluster = await cpu_cluster(api, "snippet-cpu")
    assert cluster["gpus"] == {"in_use": 0, "memory_used": None, "memory_total": None, "utilization": None}
    snippet = await api.get("clusters/snippet-cpu/snippet", kind="cudf")
    out, _ = await run_python("import json\n" + snippet["code"] + CHECK)
    result = json.loads(out.split("RESULT", 1)[1])
    assert result["module"].startswith("pandas"), "no GPU: the snippet runs on pandas"
    assert result["segments"] == 8 and result["days"] == 365
    assert result["orders"] > 0 and "orders in" in out
    code, _ = await api.call("DELETE", "clusters/snippet-cpu")
    assert code == 202
    await api.wait_gone("snippet-cpu")


async def test_example_notebook_runs_on_a_cpu_cluster(api, tmp_path):
    cluster = await cpu_cluster(api, "notebook-cpu")
    notebook = await run_notebook(cluster["scheduler"]["address"], "200k", tmp_path, tmp_path / "executed.ipynb")
    text = outputs_text(notebook)
    assert "ETL backend: pandas" in text
    assert "both backends computed the same result" in text
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["pandas"]
    assert sorted(p.name for p in (tmp_path / "out" / "pandas").iterdir()) == ["by_customer.parquet", "by_segment.parquet"]
    await api.call("DELETE", "clusters/notebook-cpu")
    await api.wait_gone("notebook-cpu")
