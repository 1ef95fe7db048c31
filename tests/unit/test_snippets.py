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
