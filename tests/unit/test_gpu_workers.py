"""GPU workers get the same RMM pool, spilling, host memory and threads on both backends,
from one settings object the admin changes through c.RapidsKF (jupyter_rapids_kf/models/gpu_workers.py)."""

from __future__ import annotations

import asyncio
import sys
import types

import pytest

from jupyter_rapids_kf.backends.base import BackendFacts, GPUInfo
from jupyter_rapids_kf.backends.kubernetes.spec import build_daskcluster, drop_none
from jupyter_rapids_kf.backends.local import LocalBackend
from jupyter_rapids_kf.backends.local.runner import make_cluster
from jupyter_rapids_kf.clusters.rules import resolve
from jupyter_rapids_kf.config import RapidsKF
from jupyter_rapids_kf.models.gpu_workers import GPUWorkerSettings
from jupyter_rapids_kf.models.cluster import ClusterRequest, ClusterSpec

KUBE = BackendFacts(namespace="team-a", default_image="img", accepts_image=True)


def kube_spec(config: RapidsKF, **request) -> ClusterSpec:
    return resolve(config, ClusterRequest(name="gpu-etl", **request), KUBE)


def worker_args(config: RapidsKF, spec: ClusterSpec) -> list[str]:
    body = drop_none(build_daskcluster(spec, image="img", scheduler_cpu="1", scheduler_memory="4Gi",
                                       gpu_workers=GPUWorkerSettings.from_config(config)))
    return body["spec"]["worker"]["spec"]["containers"][0]["args"]


def flag(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def local_kwargs(config: RapidsKF, memory: str, monkeypatch, protocol: str = "tcp") -> dict:
    """What the local runner passes to LocalCUDACluster for a spec written by LocalBackend."""
    backend = LocalBackend("/nonexistent", standby=False, gpu_workers=GPUWorkerSettings.from_config(config))
    backend._gpus = [GPUInfo(name="H100", memory_total=80 * 2**30)]
    written = {}

    class Process:
        pid = 4242

    monkeypatch.setattr("jupyter_rapids_kf.backends.local.clusters.write_json", lambda path, data: written.update(data))
    monkeypatch.setattr(backend, "_forget_files", lambda name: None)
    monkeypatch.setattr(backend._launcher, "start", lambda path: Process())
    monkeypatch.setattr(backend, "_track", lambda coroutine: coroutine.close())
    spec = ClusterSpec(name="gpu", workers=1, gpus_per_worker=1, image=None, worker_command="dask-cuda-worker",
                       cpu="4", memory=memory, idle_timeout=0, env={}, protocol=protocol)
    assert asyncio.run(backend.create(spec)).protocol == protocol
    seen = {}
    fake = types.ModuleType("dask_cuda")
    fake.LocalCUDACluster = lambda **kwargs: seen.update(kwargs) or "cluster"
    monkeypatch.setitem(sys.modules, "dask_cuda", fake)
    assert make_cluster(dict(written)) == "cluster"
    return seen


def test_a_kubernetes_gpu_worker_gets_the_pool_spilling_threads_and_host_memory_sized_to_its_gpu():
    config = RapidsKF()
    spec = kube_spec(config)  # the default cluster: 1 GPU per worker
    assert spec.memory == "100Gi"  # 1.25 x an 80Gi GPU, not the 16Gi of CPU workers
    args = worker_args(config, spec)
    assert args[0] == "dask-cuda-worker"
    assert flag(args, "--rmm-pool-size") == "0.5"
    assert flag(args, "--device-memory-limit") == "0.8"
    assert flag(args, "--nthreads") == "1"
    assert flag(args, "--memory-limit") == str(100 * 2**30)  # the pod's limit: nothing spills past it
    assert "--enable-cudf-spill" not in args


def test_both_backends_take_the_admins_settings_from_the_same_object(monkeypatch):
    config = RapidsKF(gpu_rmm_pool_size="0.9", gpu_device_memory_limit="0.6", gpu_worker_threads=2,
                      gpu_enable_cudf_spill=True, gpu_memory="141Gi")
    spec = kube_spec(config, gpus_per_worker=2)
    assert spec.memory == "353Gi"  # 1.25 x 141Gi x 2 GPUs
    args = worker_args(config, spec)
    assert (flag(args, "--rmm-pool-size"), flag(args, "--device-memory-limit"), flag(args, "--nthreads")) == (
        "0.9", "0.6", "2")
    assert flag(args, "--memory-limit") == str(353 * 2**30 // 2)  # one worker process per GPU
    assert "--enable-cudf-spill" in args

    local = local_kwargs(config, "100Gi", monkeypatch)
    assert (local["rmm_pool_size"], local["device_memory_limit"], local["threads_per_worker"]) == ("0.9", "0.6", 2)
    assert local["enable_cudf_spill"] is True
    assert local["memory_limit"] == 100 * 2**30


def test_the_local_gpu_worker_defaults_match_the_kubernetes_flags(monkeypatch):
    config = RapidsKF()
    args = worker_args(config, kube_spec(config))
    local = local_kwargs(config, "100Gi", monkeypatch)
    assert local["rmm_pool_size"] == flag(args, "--rmm-pool-size")
    assert local["device_memory_limit"] == flag(args, "--device-memory-limit")
    assert str(local["threads_per_worker"]) == flag(args, "--nthreads")
    assert str(local["memory_limit"]) == flag(args, "--memory-limit")


def test_the_older_pool_setting_still_works(monkeypatch):
    monkeypatch.setenv("RAPIDS_KF_RMM_POOL_SIZE", "40GB")
    config = RapidsKF()
    assert flag(worker_args(config, kube_spec(config)), "--rmm-pool-size") == "40GB"
    assert local_kwargs(config, "64Gi", monkeypatch)["rmm_pool_size"] == "40GB"


@pytest.mark.parametrize(
    ("config", "request_", "memory"),
    [
        ({}, {"gpus_per_worker": 0}, "16Gi"),  # CPU workers keep the CPU default
        ({"gpu_worker_memory": "64Gi"}, {}, "64Gi"),  # the admin's size for GPU workers
        ({"default_memory": "200Gi"}, {}, "200Gi"),  # the existing option still applies to them
        ({}, {"memory": "32Gi"}, "32Gi"),  # what the user typed wins
        ({"gpu_memory": "40Gi", "gpu_host_memory_ratio": 2.0}, {}, "80Gi"),
    ],
)
def test_the_gpu_worker_memory_rules(config, request_, memory):
    assert kube_spec(RapidsKF(**config), **request_).memory == memory


def test_a_flag_in_the_users_worker_command_is_left_to_the_user():
    config = RapidsKF()
    spec = kube_spec(config, worker_command="dask-cuda-worker --rmm-pool-size 0.95")
    args = worker_args(config, spec)
    assert args.count("--rmm-pool-size") == 1 and flag(args, "--rmm-pool-size") == "0.95"
    assert flag(args, "--device-memory-limit") == "0.8"


def test_another_worker_command_gets_no_dask_cuda_flags():
    config = RapidsKF()
    args = worker_args(config, kube_spec(config, worker_command="dask worker"))
    assert "--rmm-pool-size" not in args and "--device-memory-limit" not in args


def test_a_local_gpu_worker_is_sized_to_the_gpu_nvml_reports_within_the_machine():
    facts = BackendFacts(namespace="local", gpus=[GPUInfo("H100", 80 * 2**30)], default_gpus_per_worker=1,
                         default_memory="125Gi", max_workers=1, max_gpus_per_worker=1)
    assert resolve(RapidsKF(), ClusterRequest(name="g"), facts).memory == "100Gi"
    facts.gpus = [GPUInfo("H200", 140 * 2**30)]
    assert resolve(RapidsKF(), ClusterRequest(name="g"), facts).memory == "125Gi"  # all the machine has
