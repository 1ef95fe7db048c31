"""Snippets are valid Python that point at the right cluster, whatever its name."""

from __future__ import annotations

import ast

import pytest

from jupyter_rapids_kf.errors import Invalid
from jupyter_rapids_kf.models.cluster import Cluster, Scheduler
from jupyter_rapids_kf.clusters.snippets import snippet


def cluster(backend="kubernetes", gpus=1, address="tcp://gpu-etl-scheduler.team-a:8786") -> Cluster:
    return Cluster(name="gpu-etl", namespace="team-a", backend=backend, gpus_per_worker=gpus,
                   scheduler=Scheduler(ready=True, address=address))


def literals(code: str) -> list:
    return [node.value for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Constant)]


def test_client_snippet_connects_to_the_scheduler_address():
    code = snippet(cluster(), "client")
    assert "tcp://gpu-etl-scheduler.team-a:8786" in literals(code)
    assert "Client(" in code


def test_kubecluster_snippet_attaches_by_name_and_namespace_without_owning_the_cluster():
    code = snippet(cluster(), "kubecluster")
    tree = ast.parse(code)
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "from_name")
    assert [a.value for a in call.args] == ["gpu-etl"]
    keywords = {k.arg: k.value.value for k in call.keywords}
    assert keywords == {"namespace": "team-a", "shutdown_on_close": False}


def test_kubecluster_snippet_is_refused_for_local_clusters():
    with pytest.raises(Invalid) as info:
        snippet(cluster(backend="local", address="tcp://127.0.0.1:1234"), "kubecluster")
    assert info.value.field == "kind"


def test_cudf_snippet_uses_the_cudf_backend_on_gpus_and_pandas_on_cpus():
    gpu = snippet(cluster(), "cudf")
    cpu = snippet(cluster(gpus=0), "cudf")
    assert "cudf" in literals(gpu) and "import cudf" in gpu
    assert "pandas" in literals(cpu) and "cudf" not in cpu
    assert "broadcast=True" in gpu, "the small table is broadcast, not shuffled"


class FakeClient:
    """What the GPU sizing of the cudf snippet asks the cluster: its workers and their GPUs."""

    def __init__(self, workers: int, gpu_memory: int):
        self.workers, self.gpu_memory = workers, gpu_memory

    def scheduler_info(self):
        return {"workers": {f"tcp://w{i}": {} for i in range(self.workers)}}

    def run(self, fn):
        return {f"tcp://w{i}": self.gpu_memory for i in range(self.workers)}


def sized(workers: int, gpu_memory: int, rows: int | None = None) -> dict:
    from jupyter_rapids_kf.clusters.snippets import GPU_SIZING

    code = GPU_SIZING if rows is None else GPU_SIZING.replace("ROWS = 50_000_000 * WORKERS", f"ROWS = {rows}")
    assert code != GPU_SIZING or rows is None
    names = {"client": FakeClient(workers, gpu_memory)}
    exec(compile(code, "snippet", "exec"), names)
    return names


def test_cudf_snippet_sizes_partitions_to_the_gpu_and_the_data():
    h100, h200 = 81559 * 2**20, 143771 * 2**20
    assert "GPU_SIZING" not in snippet(cluster(), "cudf") and "PARTITION_BYTES" in snippet(cluster(), "cudf")
    assert sized(1, h100)["PARTITIONS"] == 1, "the starter's 50M rows (0.8 GB) are one partition"
    # 19.2 GB of orders, as the example's 800M: 3 partitions on an 80 GB H100, 2 on an H200
    assert sized(1, h100, rows=1_200_000_000)["PARTITIONS"] == 3
    assert sized(1, h200, rows=1_200_000_000)["PARTITIONS"] == 2
    assert sized(2, h100, rows=2_400_000_000)["PARTITIONS"] == 6, "a multiple of the workers"
    for gpu in (h100, h200):
        for rows in (50_000_000, 600_000_000, 1_200_000_000, 6_000_000_000):  # the last is 96 GB
            s = sized(1, gpu, rows=rows)
            part = s["PERSISTED"] / s["PARTITIONS"]
            assert part * 6 <= max(0.8 * gpu - s["PERSISTED"], 0.2 * gpu), (gpu, rows)
            assert s["ROWS_PER_PARTITION"] * s["PARTITIONS"] <= rows


def test_values_cannot_break_out_of_the_code():
    evil = 'tcp://x:1"); import os; os.system("boom'
    code = snippet(cluster(address=evil), "client")
    ast.parse(code)
    assert evil in literals(code)
    assert "os.system" not in [getattr(n.func, "attr", None) for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call)]


def test_unknown_kind_and_missing_address_are_invalid():
    with pytest.raises(Invalid):
        snippet(cluster(), "scala")
    with pytest.raises(Invalid, match="no scheduler address"):
        snippet(cluster(address=None), "client")
