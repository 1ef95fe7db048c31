"""How a GPU worker runs, in one place for both backends.

One settings object (`GPUWorkerSettings`, read from `c.RapidsKF`) gives
  * the Kubernetes worker's `dask-cuda-worker` flags (`worker_flags`, used by
    backends/kubernetes/spec.py), and
  * the local backend's `LocalCUDACluster` keyword arguments (`local_cuda_kwargs`, used by
    backends/local/runner.py),
so that a GPU worker in a pod and one on the Jupyter machine get the same RMM pool, the
same spilling thresholds and the same threads, and the GPU figures of docs/benchmarks.md
describe both.

The defaults and why:
  * RMM pool of half the GPU's memory (`rmm_pool_size` 0.5): without a pool dask-cuDF spends
    much of its time in cudaMalloc. The pool grows past its start size when it must.
  * device-to-host spilling from 80% of the GPU's memory (`device_memory_limit` 0.8,
    dask-cuda's own default, what the benchmark ran with), host-to-disk beyond the worker's
    host memory limit (`--memory-limit`, the pod's memory divided over its GPUs).
  * host memory sized to the GPU: 1.25 x the GPU's memory per GPU. What spills from the GPU
    (up to 0.8 x its memory) is then 64% of the host limit, below distributed's pause
    threshold (80%), leaving the rest for the worker process itself. The 16Gi default of CPU
    workers holds a fifth of what an 80 GB GPU spills.
  * one thread per GPU worker (dask-cuda-worker's own default): more threads only queue more
    partitions on the same GPU, each holding its memory.
  * cuDF's own spilling off (dask-cuda's default; it replaces the device memory limit).
  * TCP between workers unless the request asks for UCX (protocols.py says how and why).
"""

from __future__ import annotations

import math
import os
import shlex
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from . import protocols

# Worker commands that take dask-cuda-worker's flags; other commands are left as typed.
DASK_CUDA_COMMANDS = (("dask-cuda-worker",), ("dask", "cuda", "worker"))
POOL_ENV = "RAPIDS_KF_RMM_POOL_SIZE"  # the local backend's setting before c.RapidsKF had one

_UNITS = {
    "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}


def quantity_bytes(value: str) -> int:
    """A Kubernetes memory quantity ("100Gi", "80G", "1073741824") in bytes."""
    text = str(value).strip()
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if suffix and text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * _UNITS[suffix])
    return int(float(text))


def gibibytes(value: float) -> str:
    return f"{max(1, math.ceil(value / 2**30))}Gi"


@dataclass(frozen=True)
class GPUWorkerSettings:
    """The settings of every GPU worker; `from_config` reads the admin's `c.RapidsKF`."""

    # fraction of the GPU's memory, or a size ("40GB"); "" for no pool
    rmm_pool_size: str = field(default_factory=lambda: default_pool_size())
    device_memory_limit: str = "0.8"  # spill device -> host from here (fraction or size)
    enable_cudf_spill: bool = False
    threads: int = 1
    gpu_memory: str = "80Gi"  # one GPU of the Kubernetes GPU nodes (the local backend asks NVML)
    host_memory_ratio: float = 1.25  # host memory per GPU, in GPU memories
    host_memory: str = ""  # per worker; "" = host_memory_ratio x gpu_memory x GPUs
    ucx_transports: str = ""  # UCX transports forced on ("nvlink,tcp"); "" = UCX chooses

    @classmethod
    def from_config(cls, config: Any) -> GPUWorkerSettings:
        return cls(
            rmm_pool_size=config.gpu_rmm_pool_size,
            device_memory_limit=config.gpu_device_memory_limit,
            enable_cudf_spill=config.gpu_enable_cudf_spill,
            threads=config.gpu_worker_threads,
            gpu_memory=config.gpu_memory,
            host_memory_ratio=config.gpu_host_memory_ratio,
            host_memory=config.gpu_worker_memory or (config.default_memory if admin_set(config, "default_memory") else ""),
            ucx_transports=config.gpu_ucx_transports,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> GPUWorkerSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    # --- host memory ------------------------------------------------------------------------

    def worker_memory(self, gpus: int, gpu_memory_bytes: int | None = None, available: str | None = None) -> str:
        """Host memory of one GPU worker (a pod, or a local worker) holding `gpus` GPUs.

        The admin's `host_memory` where set; else `host_memory_ratio` x the GPU's memory
        (`gpu_memory_bytes` where known, as NVML reports it locally, else `gpu_memory`) x
        GPUs, at most `available` (a local worker cannot have more than the machine).
        """
        if self.host_memory:
            return self.host_memory
        per_gpu = gpu_memory_bytes or quantity_bytes(self.gpu_memory)
        wanted = self.host_memory_ratio * per_gpu * max(1, gpus)
        if available is not None:
            wanted = min(wanted, quantity_bytes(available))
        return gibibytes(wanted)

    # --- what each backend starts ---------------------------------------------------------

    def worker_flags(self, memory: str, gpus: int, given: list[str] | None = None,
                     protocol: str = protocols.DEFAULT) -> list[str]:
        """dask-cuda-worker's flags for a pod of `memory` and `gpus` GPUs (one worker process
        per GPU, each with its share of the memory) talking `protocol`. Flags already in
        `given` (the user's worker command) are left to the user."""
        per_process = quantity_bytes(memory) // max(1, gpus)
        flags: list[tuple[str, str | None]] = [
            ("--nthreads", str(self.threads)),
            *([("--rmm-pool-size", self.rmm_pool_size)] if self.rmm_pool_size else []),
            ("--device-memory-limit", self.device_memory_limit),
            ("--memory-limit", str(per_process)),
        ]
        if self.enable_cudf_spill:
            flags.append(("--enable-cudf-spill", None))
        given = given or []
        taken = {a.split("=", 1)[0] for a in given if a.startswith("--")}
        if "--disable-cudf-spill" in taken:
            taken.add("--enable-cudf-spill")
        out: list[str] = []
        for flag, value in flags:
            if flag in taken:
                continue
            out += [flag] if value is None else [flag, value]
        return out + protocols.worker_flags(protocol, self.transports(), taken)

    def transports(self) -> tuple[str, ...]:
        return protocols.parse_transports(self.ucx_transports)

    def local_cuda_kwargs(self, memory: str, protocol: str = protocols.DEFAULT) -> dict[str, Any]:
        """LocalCUDACluster's keyword arguments for workers of `memory` (one GPU each)."""
        return protocols.local_kwargs(protocol, self.transports()) | {
            "threads_per_worker": self.threads,
            "rmm_pool_size": self.rmm_pool_size or None,
            "device_memory_limit": self.device_memory_limit,
            "memory_limit": quantity_bytes(memory),
            "enable_cudf_spill": self.enable_cudf_spill,
        }


def takes_dask_cuda_flags(args: list[str]) -> bool:
    """Whether a worker container's args start with dask-cuda-worker (or `dask cuda worker`)."""
    return any(tuple(args[: len(c)]) == c for c in DASK_CUDA_COMMANDS)


def default_pool_size() -> str:
    return os.environ.get(POOL_ENV) or "0.5"


def admin_set(config: Any, name: str) -> bool:
    """Whether the admin set `c.RapidsKF.<name>` (config file, command line, or a value other
    than the option's default)."""
    try:
        if name in config.config.get("RapidsKF", {}):
            return True
        return getattr(config, name) != config.traits()[name].default_value
    except (AttributeError, KeyError):
        return False


def describe(settings: GPUWorkerSettings, memory: str, gpus: int, protocol: str = protocols.DEFAULT) -> str:
    """The flags as a shell line (docs, logs)."""
    return shlex.join(["dask-cuda-worker", *settings.worker_flags(memory, gpus, protocol=protocol)])
