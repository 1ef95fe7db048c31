"""One local cluster in its own process: `python -m jupyter_rapids_kf.backends.local.runner SPEC`.

The scheduler runs here (workers are nanny subprocesses), never in the Jupyter server, so a
busy cluster cannot slow the notebook server. The server talks to this process through
extra handlers on the scheduler's own comm (`rapids_kf_*`), and finds it again after a
restart through the state file written here once the scheduler is up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from ...models.gpu_usage import NO_GPUS, summarize

log = logging.getLogger("jupyter_rapids_kf.local_runner")

_UNITS = {
    "": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}


def quantity(value: str) -> float:
    """A Kubernetes quantity ("16Gi", "500m", "4") as a number."""
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if suffix and value.endswith(suffix):
            return float(value[: -len(suffix)]) * _UNITS[suffix]
    return float(value)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic, so the server never reads half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def gpu_summary(scheduler: Any) -> dict[str, Any]:
    return summarize((ws.metrics, ws.extra) for ws in scheduler.workers.values())



def make_cluster(spec: dict[str, Any]):
    # Workers come from a forkserver started before the user's env existed: pass it on.
    threads = max(1, math.ceil(quantity(spec["cpu"])))
    common: dict[str, Any] = dict(
        n_workers=spec["workers"],
        memory_limit=int(quantity(spec["memory"])),
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address="127.0.0.1:0",
        asynchronous=True,
        env=dict(spec.get("env") or {}),
    )
    if spec["gpus_per_worker"] > 0:
        from dask_cuda import LocalCUDACluster

        # The same RMM pool, spilling, memory and threads as a Kubernetes GPU worker
        # (jupyter_rapids_kf/models/gpu_workers.py says why each).
        from ...models.gpu_workers import GPUWorkerSettings

        settings = GPUWorkerSettings.from_dict(spec.get("gpu_worker"))
        kwargs = {**common, **settings.local_cuda_kwargs(spec["memory"], spec.get("protocol", "tcp"))}
        if spec.get("rmm_pool_size"):
            kwargs["rmm_pool_size"] = spec["rmm_pool_size"]
        return LocalCUDACluster(**kwargs)
    from distributed import LocalCluster

    import dask

    # A CPU cluster on a GPU machine: its workers would otherwise poll NVML and report
    # the first GPU as theirs.
    dask.config.set({"distributed.diagnostics.nvml": False})
    return LocalCluster(processes=True, threads_per_worker=threads, **common)


def same_shape(spec: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether a cluster started for `other` is the cluster `spec` asks for: CPU workers only
    (a started GPU cluster would hold GPUs), no environment of the user's (workers inherit it
    when they start), and the same workers, threads and memory limit."""

    def shape(s: dict[str, Any]) -> tuple:
        return (s["workers"], math.ceil(quantity(s["cpu"])), int(quantity(s["memory"])))

    return (
        spec["gpus_per_worker"] == 0
        and other["gpus_per_worker"] == 0
        and not spec.get("env")
        and not other.get("env")
        and shape(spec) == shape(other)
    )


async def run(spec_path: Path, warm: Any = None, warm_spec: dict[str, Any] | None = None) -> int:
    """Run the cluster of `spec_path` until it is deleted or idle; `warm` is a cluster a
    standby started in advance for `warm_spec`, used when it is the cluster asked for."""
    spec = json.loads(spec_path.read_text())
    name = spec["name"]
    state_path = spec_path.with_name(f"{name}.json")
    if warm is not None and not (warm_spec and same_shape(spec, warm_spec)):
        await warm.close()
        warm = None
    env = spec.get("env") or {}
    os.environ.update(env)
    import dask

    dask.config.refresh()  # a standby imported dask before the user's DASK_* settings existed
    use_forkserver()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    if warm is not None:
        log.info("cluster %s: using the cluster the standby process started in advance", name)
        cluster = warm
    else:
        cluster = await make_cluster(spec)
    scheduler = cluster.scheduler
    adapt: dict[str, int] | None = None

    def state() -> dict[str, Any]:
        ready = sum(1 for ws in scheduler.workers.values() if ws.status.name == "running")
        return {
            "desired": len(cluster.worker_spec),
            "ready": ready,
            "adapt": adapt,
            "gpus": gpu_summary(scheduler) if spec["gpus_per_worker"] else NO_GPUS,
            "workers": sorted(scheduler.workers),
            "idle_since": scheduler.idle_since,  # the card's idle countdown
        }

    def scale(n: int) -> dict[str, Any]:
        nonlocal adapt
        if adapt is not None:
            cluster._adaptive.stop()
            adapt = None
        cluster.scale(n)
        return state()

    def set_adapt(minimum: int | None = None, maximum: int | None = None) -> dict[str, Any]:
        nonlocal adapt
        if minimum is None or maximum is None:
            if adapt is not None:
                cluster._adaptive.stop()
                adapt = None
        else:
            cluster.adapt(minimum=minimum, maximum=maximum, interval="500ms", wait_count=3)
            adapt = {"minimum": minimum, "maximum": maximum}
        return state()

    def close() -> str:
        stop.set()
        return "closing"

    scheduler.handlers.update(
        rapids_kf_state=state, rapids_kf_scale=scale, rapids_kf_adapt=set_adapt, rapids_kf_close=close
    )
    if spec["idle_timeout"]:
        # Counted from now: a slow start must not use up the idle time of a cluster nobody
        # could use yet (the scheduler's own clock starts before its workers exist).
        scheduler.idle_timeout = float(spec["idle_timeout"])
        scheduler.idle_since = time.time()
    dashboard_port = scheduler.http_server.port
    from ...models.protocols import ucx_address

    write_json(
        state_path,
        {"pid": os.getpid(), "address": scheduler.address, "dashboard_port": dashboard_port,
         "ucx_address": ucx_address([listener.contact_address for listener in scheduler.listeners])},
    )
    log.info("cluster %s: scheduler %s, dashboard port %s", name, scheduler.address, dashboard_port)

    finished = asyncio.ensure_future(scheduler.finished())  # idle timeout closes the scheduler
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait([finished, stopped], return_when=asyncio.FIRST_COMPLETED)
    idle = finished.done()
    log.info("cluster %s: %s", name, "idle timeout reached" if idle else "closing on request")
    try:
        await asyncio.wait_for(cluster.close(), timeout=30)
    finally:
        state_path.unlink(missing_ok=True)
        spec_path.unlink(missing_ok=True)
    return 0


def use_forkserver() -> None:
    """Start worker processes from a forkserver that has already imported distributed.

    With the default 'spawn', every worker imports dask and distributed from scratch, which
    is most of a local cluster's start-up time. Users who chose a method keep theirs.
    """
    import dask

    if "DASK_DISTRIBUTED__WORKER__MULTIPROCESSING_METHOD" in os.environ:
        return
    dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"})
    import multiprocessing.forkserver

    from distributed.utils import get_mp_context

    get_mp_context()  # sets the forkserver's preload list
    multiprocessing.forkserver.ensure_running()


def standby_note(pid: int, state_dir: Path = Path(".")) -> Path:
    """Where a standby says whether its cluster started in advance is ready."""
    return state_dir / f"_standby-{pid}.json"  # "_": never a cluster name


async def standby(gpu: bool, warm_spec: dict[str, Any] | None) -> int:
    """Import everything a cluster needs, then wait for the server to hand over a spec path.

    The server keeps one such process ready so that a new cluster skips the imports. With
    `warm_spec` (the default CPU cluster) it also starts that cluster in advance, so a new
    cluster of that shape is usable at once. EOF on stdin (the server went away) ends it.
    """
    import distributed  # noqa: F401

    if gpu:
        try:
            import dask_cuda  # noqa: F401
        except ImportError:
            # GPUs but no dask-cuda: GPU clusters fail with their own message when they
            # start; the standby must still serve CPU clusters (gpus_per_worker 0).
            pass
    use_forkserver()
    warm = None
    if warm_spec is not None:
        note = standby_note(os.getpid())  # read by the server's checks (cwd: the state dir)
        try:
            warm = await make_cluster(warm_spec)
            write_json(note, {"ready": True})
        except Exception as err:  # the cluster asked for later starts, and fails, on its own
            log.exception("standby: could not start a cluster in advance")
            write_json(note, {"ready": False, "error": f"{type(err).__name__}: {err}"})
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if warm_spec is not None:
        standby_note(os.getpid()).unlink(missing_ok=True)
    if not line.strip():
        if warm is not None:
            await warm.close()
        return 0
    spec_path = Path(line.strip())
    log_fd = os.open(spec_path.with_suffix("").with_suffix(".log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    logging.getLogger().handlers[0].setStream(sys.stderr)
    return await run(spec_path, warm, warm_spec)


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr
    )
    if sys.argv[1] == "--standby":
        warm = json.loads(sys.argv[sys.argv.index("--warm") + 1]) if "--warm" in sys.argv else None
        code = asyncio.run(standby(gpu="--gpu" in sys.argv, warm_spec=warm))
    else:
        code = asyncio.run(run(Path(sys.argv[1])))
    # The cluster is closed and its files are gone: skip the interpreter's slow teardown so
    # the server sees the process end, and the user the cluster gone, at once.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
