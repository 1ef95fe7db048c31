"""What the local backend offers on this machine: one worker per GPU where there are GPUs,
otherwise CPU workers of one core and a quarter of the memory each."""

from __future__ import annotations

import os
from collections.abc import Iterable

from ...models.protocols import ucx_missing
from ..base import BackendFacts, GPUInfo
from .processes import Runner


def machine_facts(gpus: list[GPUInfo], runners: Iterable[Runner]) -> BackendFacts:
    cores = os.cpu_count() or 1
    memory = total_memory()
    if gpus:
        used = sum(r.spec["workers"] for r in runners if r.spec["gpus_per_worker"])
        per_worker_memory = memory // max(1, len(gpus))
        return BackendFacts(
            namespace="local",
            gpus_available=max(0, len(gpus) - used),
            gpus=gpus,
            default_worker_command="dask-cuda-worker",
            default_gpus_per_worker=1,
            default_cpu=str(max(1, cores // len(gpus))),
            default_memory=gibibytes(per_worker_memory),
            max_workers=len(gpus),  # LocalCUDACluster: one worker per GPU
            max_gpus_per_worker=1,
            accepts_image=False,
            ucx_installed=not ucx_missing(),
            notes=[
                f"{len(gpus)} GPU(s) on this machine: each worker gets one GPU; "
                "choose 0 GPUs per worker for a cluster on the CPU"
            ],
        )
    cpu, memory_text = cpu_defaults()
    return BackendFacts(
        namespace="local",
        gpus_available=0,
        default_worker_command="dask worker",
        default_gpus_per_worker=0,
        default_cpu=cpu,
        default_memory=memory_text,
        max_gpus_per_worker=0,
        accepts_image=False,
        ucx_installed=not ucx_missing(),
        notes=["No NVIDIA GPU on this machine: clusters run their workers on the CPU."],
    )


def total_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 8 * 2**30


def cpu_defaults() -> tuple[str, str]:
    """cpu and memory of a CPU worker by default: one core, a quarter of the memory."""
    return "1", gibibytes(total_memory() // 4)


def gibibytes(value: int) -> str:
    return f"{max(1, value // 2**30)}Gi"
