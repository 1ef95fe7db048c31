"""GPU memory and utilisation of a cluster, from the NVML readings its Dask workers report.

The same summary serves both backends: the local runner reads its scheduler's WorkerState
objects; the Kubernetes backend asks each GPU cluster's scheduler for its `identity()` over
Dask's comm. Workers report NVML twice in distributed 2026.x: as the `gpu` metric
(`memory-used`, `utilization`) with `memory-total` in the startup information (`extra`),
and through the system monitor as `gpu_memory_used`, `gpu_utilization`, `gpu-memory-total`.
The `gpu` metric exists only where NVML was initialised before the worker was built, so
either is read.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

NO_GPUS: dict[str, Any] = {"memory_used": None, "memory_total": None, "utilization": None}


def summarize(workers: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> dict[str, Any]:
    """Sum memory and average utilisation over (metrics, extra) pairs, one per worker."""
    used = total = 0
    utils: list[float] = []
    seen = False
    for all_metrics, extra in workers:
        all_metrics = all_metrics or {}
        metrics = all_metrics.get("gpu") or {}
        info = (extra or {}).get("gpu") or {}
        memory_used = _first_number(metrics.get("memory-used"), all_metrics.get("gpu_memory_used"))
        memory_total = _first_number(info.get("memory-total"), all_metrics.get("gpu-memory-total"))
        utilization = _first_number(metrics.get("utilization"), all_metrics.get("gpu_utilization"))
        if memory_used is None and memory_total is None and utilization is None:
            continue
        seen = True
        used += int(memory_used or 0)
        total += int(memory_total or 0)
        if utilization is not None:
            utils.append(float(utilization))
    if not seen:
        return dict(NO_GPUS)
    return {
        "memory_used": used,
        "memory_total": total or None,
        "utilization": round(sum(utils) / len(utils), 1) if utils else None,
    }


def from_identity(identity: Mapping[str, Any]) -> dict[str, Any]:
    """The summary from a scheduler's `identity()` answer (workers carry metrics and extra)."""
    workers = (identity or {}).get("workers") or {}
    return summarize((w.get("metrics") or {}, w) for w in workers.values())


def _first_number(*values: Any) -> float | None:
    """The first real reading; distributed uses -1 for "no GPU" in some places."""
    for value in values:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return value
    return None
