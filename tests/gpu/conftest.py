"""GPU tests run where NVIDIA GPUs, NVML and the RAPIDS stack are present; elsewhere they skip, saying why."""

from __future__ import annotations

import importlib.util

import pytest

from jupyter_rapids_kf.backends.local.gpus import detect_gpus


def missing_gpu_stack() -> str | None:
    """Why GPU tests cannot run here, or None when they can."""
    if importlib.util.find_spec("pynvml") is None:
        return "no NVML bindings (pip install nvidia-ml-py): GPU tests need an NVIDIA GPU machine"
    if not detect_gpus():
        return "no NVIDIA GPU visible through NVML: GPU tests run on a GPU machine"
    for module, package in (("dask_cuda", "dask-cuda"), ("cudf", "cudf-cu13"), ("dask_cudf", "dask-cudf-cu13")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed: pip install 'jupyter_rapids_kf[gpu]'"
    return None


def pytest_collection_modifyitems(config, items):
    reason = missing_gpu_stack()
    for item in items:
        if "tests/gpu/" in item.nodeid.replace("\\", "/") or item.get_closest_marker("gpu"):
            item.add_marker(pytest.mark.gpu)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
