"""Which NVIDIA GPUs this process may use, from NVML (nvidia-ml-py), honouring CUDA_VISIBLE_DEVICES."""

from __future__ import annotations

import logging
import os

from ..base import GPUInfo

log = logging.getLogger(__name__)


def detect_gpus() -> list[GPUInfo]:
    """The visible GPUs, or [] when there are none or NVML is missing (CPU-only machines)."""
    if os.environ.get("RAPIDS_KF_FAKE_NO_GPU"):  # lets GPU machines exercise the CPU path
        return []
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception as err:  # NVMLError_LibraryNotFound and friends: no driver here
        log.debug("NVML unavailable: %s", err)
        return []
    try:
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        if visible is not None:
            wanted = [v.strip() for v in visible.split(",") if v.strip()]
            handles = [h for i, h in enumerate(handles) if str(i) in wanted or _uuid(pynvml, h) in wanted]
        return [
            GPUInfo(name=_text(pynvml.nvmlDeviceGetName(h)), memory_total=int(pynvml.nvmlDeviceGetMemoryInfo(h).total))
            for h in handles
        ]
    except Exception as err:
        log.warning("rapids-kf: could not list GPUs through NVML: %s", err)
        return []
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


def _uuid(pynvml, handle) -> str:
    return _text(pynvml.nvmlDeviceGetUUID(handle))


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
