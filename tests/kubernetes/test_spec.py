"""The DaskCluster body: valid for the operator's own CRD schema, GPUs on workers only."""

from __future__ import annotations

import json

import pytest

from jupyter_rapids_kf.backends.kubernetes.spec import (
    MANAGED_LABEL,
    ROUTES_ENV,
    autoscaler_body,
    build_daskcluster,
    drop_none,
)
from jupyter_rapids_kf.models.cluster import ClusterSpec

from . import crd


def make(**overrides) -> dict:
    values = dict(name="gpu-etl", workers=3, gpus_per_worker=2, image="rapidsai/base:26.10-cuda13-py3.12",
                  worker_command="dask-cuda-worker", cpu="8", memory="32Gi", idle_timeout=1800,
                  env={"EXTRA": "1"}, profile="gpu-large")
    values.update(overrides)
    spec = ClusterSpec(**values)
    return drop_none(build_daskcluster(spec, image=spec.image, scheduler_cpu="1", scheduler_memory="4Gi"))


def containers(body: dict) -> tuple[dict, dict]:
    return (body["spec"]["scheduler"]["spec"]["containers"][0], body["spec"]["worker"]["spec"]["containers"][0])


def test_the_scheduler_starts_with_a_command_distributed_installs():
    """`dask-scheduler` (the operator's default) is gone from distributed: the real node's
    scheduler pods crashed with it. `dask scheduler` is what the image's `dask` CLI runs."""
    import shutil
    import sys
    from pathlib import Path

    scheduler, _ = containers(make(gpus_per_worker=0))
    assert scheduler["args"] == ["dask", "scheduler", "--host", "0.0.0.0"]
    bindir = Path(sys.executable).parent
    assert shutil.which("dask", path=str(bindir)) and not shutil.which("dask-scheduler", path=str(bindir))


@pytest.mark.parametrize("gpus", [0, 1, 4])
def test_body_is_valid_for_the_operator_crd_and_nothing_is_pruned(gpus):
    body = make(gpus_per_worker=gpus)
    assert crd.errors("daskclusters", body) == []
    assert crd.pruned("daskclusters", body) == []


def test_gpu_limits_and_toleration_are_on_workers_only():
    body = make(gpus_per_worker=2)
    scheduler, worker = containers(body)
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == "2"  # a string, as the CRD requires
    assert "nvidia.com/gpu" not in json.dumps(scheduler)
    assert "nvidia.com/gpu" not in json.dumps(body["spec"]["scheduler"])
    assert body["spec"]["worker"]["spec"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert "tolerations" not in body["spec"]["scheduler"]["spec"]


def test_an_integer_gpu_quantity_would_be_refused_by_the_crd():
    body = make()
    containers(body)[1]["resources"]["limits"]["nvidia.com/gpu"] = 2
    assert any("nvidia.com/gpu" in e for e in crd.errors("daskclusters", body))


def test_cpu_only_cluster_has_no_gpu_limit_or_toleration():
    body = make(gpus_per_worker=0, worker_command="dask worker")
    _, worker = containers(body)
    assert "nvidia.com/gpu" not in worker["resources"]["limits"]
    assert "tolerations" not in body["spec"]["worker"]["spec"]
    assert worker["args"][:2] == ["dask", "worker"]


def test_worker_command_and_resources():
    scheduler, worker = containers(make())
    assert worker["args"][0] == "dask-cuda-worker"
    assert "--name" in worker["args"]
    assert scheduler["args"][:2] == ["dask", "scheduler"]
    assert worker["resources"]["requests"] == {"cpu": "8", "memory": "32Gi"}
    assert worker["resources"]["limits"]["cpu"] == "8"
    assert worker["resources"]["limits"]["memory"] == "32Gi"
    assert scheduler["resources"] == {"requests": {"cpu": "1", "memory": "4Gi"},
                                      "limits": {"cpu": "1", "memory": "4Gi"}}


def test_scheduler_serves_the_http_api_the_operator_calls():
    scheduler, worker = containers(make())
    routes = {e["name"]: e["value"] for e in scheduler["env"]}[ROUTES_ENV]
    parsed = json.loads(routes)
    assert "distributed.http.scheduler.api" in parsed
    assert "distributed.http.health" in parsed and "distributed.http.statics" in parsed
    assert ROUTES_ENV not in {e["name"] for e in worker["env"]}
    # dask parses the environment value the way the scheduler will.
    import ast
    assert ast.literal_eval(routes) == parsed
    assert {"name": "EXTRA", "value": "1"} in worker["env"] and {"name": "EXTRA", "value": "1"} in scheduler["env"]


def test_labels_idle_timeout_image_and_replicas():
    body = make()
    assert body["metadata"]["labels"][MANAGED_LABEL] == "jupyter-rapids-kf"
    assert body["metadata"]["annotations"]["rapids-kf.jupyter.org/profile"] == "gpu-large"
    assert body["spec"]["idleTimeout"] == 1800
    assert body["spec"]["worker"]["replicas"] == 3
    scheduler, worker = containers(body)
    assert scheduler["image"] == worker["image"] == "rapidsai/base:26.10-cuda13-py3.12"


def test_autoscaler_body_is_valid_and_owned_by_its_cluster():
    body = autoscaler_body("gpu-etl", 1, 8, {"metadata": {"uid": "1234"}})
    assert crd.errors("daskautoscalers", body) == []
    assert body["metadata"]["ownerReferences"][0]["uid"] == "1234"
    assert body["spec"] == {"cluster": "gpu-etl", "minimum": 1, "maximum": 8}
