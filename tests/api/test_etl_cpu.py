"""The CPU path of the GPU example, through the REST API: what CI can run without a GPU.

A CPU cluster is created through the extension, then the `cudf` snippet and the example
notebook run unchanged against it (on the pandas backend). tests/gpu does the same on GPUs.
On a CPU cluster both of the notebook's runs are pandas, so its own "same result" proves
little: the results it wrote are checked against the answer computed here, from the same
Parquet files, with numpy alone (no code of examples/etl.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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


def expected_results(data: Path):
    """(by segment x category, by customer) of the example ETL, computed from the generated
    files with lookups and bincounts: filter amount > 10 and quantity > 0, join customers
    (segment) and products (category, margin), revenue = amount x quantity, profit =
    revenue x margin; sums (and the mean amount) per group."""
    import pandas as pd

    orders = pd.concat([pd.read_parquet(f) for f in sorted((data / "orders").glob("part.*.parquet"))])
    customers = pd.read_parquet(data / "customers.parquet")
    products = pd.read_parquet(data / "products.parquet")
    segment = dict(zip(customers["customer"], customers["segment"]))
    category = dict(zip(products["product"], products["category"]))
    margin = dict(zip(products["product"], products["margin"]))
    rows = orders[(orders["amount"] > 10.0) & (orders["quantity"] > 0)
                  & orders["customer"].isin(segment.keys()) & orders["product"].isin(category.keys())]
    customer = rows["customer"].to_numpy()
    seg = np.array([segment[c] for c in customer])
    cat = np.array([category[p] for p in rows["product"]])
    amount, quantity = rows["amount"].to_numpy(), rows["quantity"].to_numpy()
    revenue = amount * quantity
    profit = revenue * np.array([margin[p] for p in rows["product"]])

    width = int(cat.max()) + 1
    key = seg.astype(np.int64) * width + cat
    count = np.bincount(key)
    present = np.flatnonzero(count)
    by_segment = {
        (int(k // width), int(k % width)): (r, p, a / n, q)
        for k, r, p, a, q, n in zip(present, np.bincount(key, revenue)[present], np.bincount(key, profit)[present],
                                    np.bincount(key, amount)[present], np.bincount(key, quantity)[present],
                                    count[present])
    }
    buyers = np.flatnonzero(np.bincount(customer))
    by_customer = {int(c): (r, p) for c, r, p in zip(buyers, np.bincount(customer, revenue)[buyers],
                                                     np.bincount(customer, profit)[buyers])}
    return by_segment, by_customer


def assert_same_as_computed_here(out: Path, data: Path) -> None:
    import pandas as pd

    segments, customers = expected_results(data)
    written = pd.read_parquet(out / "by_segment.parquet")
    got = {(int(s), int(c)): (row.revenue, row.profit, row.amount, row.quantity)
           for (s, c), row in zip(written.index, written.itertuples())}
    assert got.keys() == segments.keys()
    for group, values in segments.items():
        assert np.allclose(got[group], values, rtol=1e-9), (group, got[group], values)
    written = pd.read_parquet(out / "by_customer.parquet")
    assert sorted(int(c) for c in written.index) == sorted(customers)
    np.testing.assert_allclose(written[["revenue", "profit"]].to_numpy(),
                               np.array([customers[int(c)] for c in written.index]), rtol=1e-9)


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
    # What the cluster computed equals what plain numpy computes here from the same files.
    assert_same_as_computed_here(tmp_path / "out" / "pandas", tmp_path / "data")
    await api.call("DELETE", "clusters/notebook-cpu")
    await api.wait_gone("notebook-cpu")
