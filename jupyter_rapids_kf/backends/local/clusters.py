"""Local backend: each cluster is a LocalCUDACluster (GPUs) or LocalCluster in its own process.

A runner process (runner.py) hosts each cluster; this backend spawns runners, polls
their schedulers over Dask's own comm, and finds running clusters again after a server
restart through the state directory, much as Kubernetes is the source of truth there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from pathlib import Path
from typing import Any

from ...errors import Exists, Invalid, NotFound, Unavailable, describe
from ...models.gpu_workers import GPUWorkerSettings
from ...models.cluster import Adapt, Cluster, ClusterSpec, now_iso
from ...web.generic_proxy import is_loopback
from ..base import BackendFacts, ChangeListener, Check, ImageNodes, PodLogs
from . import timeline as local_timeline
from .checks import backend_checks
from .gpus import detect_gpus
from .jobs import LocalJobs
from .machine import cpu_defaults, machine_facts
from .processes import Launcher, Runner
from .runner import quantity, write_json
from .status import cluster_view

log = logging.getLogger(__name__)

NAMESPACE = "local"
POLL_SECONDS = 0.25
RPC_TIMEOUT = 5.0
DELETE_GRACE = 30.0


class LocalBackend:
    name = "local"
    namespace = NAMESPACE
    announces_every_change = True  # _refresh, and every write, emit what changed

    def __init__(
        self,
        state_dir: Path,
        *,
        stop_on_exit: bool = False,
        poll_seconds: float = POLL_SECONDS,
        standby: bool = True,
        warm_workers: int = 0,
        gpu_workers: GPUWorkerSettings | None = None,
    ):
        self.state_dir = Path(state_dir)
        self.gpu_workers = gpu_workers or GPUWorkerSettings()
        self.stop_on_exit = stop_on_exit
        self.poll_seconds = poll_seconds
        self._runners: dict[str, Runner] = {}
        self._listeners: list[ChangeListener] = []
        self._monitor: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._rpc: Any = None
        self._gpus = detect_gpus()
        self._launcher = Launcher(
            self.state_dir, gpu=bool(self._gpus), standby=standby, warm_spec=self._warm_spec(warm_workers)
        )

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        from distributed.core import ConnectionPool

        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._rpc = await ConnectionPool(limit=64, timeout=RPC_TIMEOUT)
        self._adopt()
        self._launcher.keep_standby()
        self._monitor = asyncio.ensure_future(self._watch())

    def _warm_spec(self, workers: int) -> dict[str, Any] | None:
        """The cluster a standby starts in advance: the default CPU cluster. None on a GPU
        machine, whose default is a GPU cluster, which would hold its GPUs while it waits."""
        if workers <= 0 or self._gpus:
            return None
        cpu, memory = cpu_defaults()
        return {"workers": workers, "cpu": cpu, "memory": memory, "gpus_per_worker": 0, "env": {}}

    async def stop(self) -> None:
        if self._monitor:
            self._monitor.cancel()
        self._launcher.stop()
        if self.stop_on_exit:
            for runner in list(self._runners.values()):
                runner.signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while any(r.alive() for r in self._runners.values()) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            for runner in self._runners.values():
                if runner.alive():
                    runner.signal(signal.SIGKILL)
                self._forget_files(runner.name)
        if self._rpc is not None:
            await self._rpc.close()

    def add_listener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def _adopt(self) -> None:
        for spec_path in sorted(self.state_dir.glob("*.spec.json")):
            try:
                spec = json.loads(spec_path.read_text())
                runner = Runner(spec=spec, pid=int(spec["pid"]))
            except (OSError, ValueError, KeyError):
                continue
            if runner.alive():
                self._runners[runner.name] = runner
                log.info("rapids-kf: found running local cluster %s (pid %s)", runner.name, runner.pid)
            else:
                self._forget_files(runner.name)
        for note in self.state_dir.glob("_standby-*.json"):  # of standbys of an earlier server
            note.unlink(missing_ok=True)
        for log_path in self.state_dir.glob("*.log"):  # logs of clusters that are gone
            if log_path.name[: -len(".log")] not in self._runners:
                log_path.unlink(missing_ok=True)

    # --- facts and checks ------------------------------------------------------------------

    async def facts(self) -> BackendFacts:
        return machine_facts(self._gpus, self._runners.values())

    async def checks(self) -> list[Check]:
        serving = self._monitor is not None  # the doctor command runs no server and no standby
        return backend_checks(self.state_dir, self._gpus, self._launcher if serving else None)

    # --- reads -----------------------------------------------------------------------------

    async def list(self) -> list[Cluster]:
        return [self._cluster(r) for r in self._runners.values()]

    async def get(self, name: str) -> Cluster:
        return self._cluster(self._runner(name))

    def _runner(self, name: str) -> Runner:
        runner = self._runners.get(name)
        if runner is None:
            raise NotFound(f"no cluster named {name!r}", field="name")
        return runner

    def _cluster(self, runner: Runner) -> Cluster:
        return cluster_view(runner, self.name)

    # --- writes ----------------------------------------------------------------------------

    async def create(self, spec: ClusterSpec) -> Cluster:
        if spec.name in self._runners:
            raise Exists(f"a cluster named {spec.name!r} already exists", field="name")
        if spec.gpus_per_worker > 1:
            raise Invalid("local GPU clusters have one GPU per worker", field="gpus_per_worker")
        if spec.gpus_per_worker and not self._gpus:
            raise Invalid("no NVIDIA GPU is visible to this server; use gpus_per_worker 0", field="gpus_per_worker")
        data = {
            "name": spec.name,
            "workers": spec.workers,
            "gpus_per_worker": spec.gpus_per_worker,
            "worker_command": "dask-cuda-worker" if spec.gpus_per_worker else "dask worker",
            "cpu": spec.cpu,
            "memory": spec.memory,
            "idle_timeout": spec.idle_timeout,
            "env": spec.env,
            "created": now_iso(),
            "protocol": spec.protocol,
        }
        if spec.gpus_per_worker:
            data["gpu_worker"] = self.gpu_workers.to_dict()  # the runner's LocalCUDACluster kwargs
        quantity(spec.memory)  # parseable, checked by the model
        self._forget_files(spec.name)
        spec_path = self.state_dir / f"{spec.name}.spec.json"
        write_json(spec_path, data)
        process = self._launcher.start(spec_path)
        data["pid"] = process.pid
        write_json(spec_path, data)
        runner = Runner(spec=data, pid=process.pid, process=process)
        self._runners[spec.name] = runner
        self._track(self._watch_start(runner))
        cluster = self._cluster(runner)
        self._emit("cluster", cluster)
        return cluster

    async def scale(self, name: str, workers: int) -> Cluster:
        runner = self._usable(name, starting_ok=True)
        if not runner.state:
            # Still starting: remembered, and applied as soon as the scheduler answers.
            runner.spec["workers"] = runner.pending_scale = workers
            return self._changed(runner)
        runner.state = await self._call(runner, "rapids_kf_scale", n=workers)
        return self._changed(runner)

    async def adapt(self, name: str, adapt: Adapt | None) -> Cluster:
        runner = self._usable(name)
        kwargs = {"minimum": adapt.minimum, "maximum": adapt.maximum} if adapt else {}
        runner.state = await self._call(runner, "rapids_kf_adapt", **kwargs)
        return self._changed(runner)

    async def delete(self, name: str) -> Cluster:
        runner = self._runner(name)
        if runner.deleting_since is None:
            runner.deleting_since = time.monotonic()
            if not runner.alive():
                pass  # a failed cluster: the monitor forgets it on its next pass
            elif runner.address and runner.state:
                try:
                    await self._call(runner, "rapids_kf_close")
                except Unavailable:
                    runner.signal(signal.SIGTERM)
            else:
                runner.signal(signal.SIGTERM)
            self._track(self._reap(runner))
        return self._changed(runner)

    def _track(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)  # asyncio keeps only weak references to tasks
        task.add_done_callback(self._tasks.discard)

    async def _watch_start(self, runner: Runner) -> None:
        """Read a new cluster's address as soon as its runner writes it (at once when a
        standby had the cluster started in advance), not at the monitor's next pass."""
        deadline = time.monotonic() + 120
        while runner.address is None and runner.alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            self._read_state_file(runner)
        if runner.address is not None and self._runners.get(runner.name) is runner:
            await self._refresh(runner)

    async def _reap(self, runner: Runner) -> None:
        """Forget a deleted cluster as soon as its process ends, not at the monitor's next
        pass: the name is free and the list is right a quarter of a second sooner."""
        while runner.alive() and time.monotonic() - runner.deleting_since < DELETE_GRACE:
            await asyncio.sleep(0.02)
        if not runner.alive():
            self._on_exit(runner)

    def _usable(self, name: str, starting_ok: bool = False) -> Runner:
        runner = self._runner(name)
        if runner.deleting_since is not None:
            raise Invalid(f"cluster {name!r} is being deleted", field="name")
        if runner.failed:
            raise Invalid(f"cluster {name!r} has failed: {runner.failed}", field="name")
        if not runner.state and not starting_ok:
            raise Invalid(f"cluster {name!r} is still starting; try again when its scheduler is up", field="name")
        return runner

    # --- logs and dashboard ----------------------------------------------------------------

    async def logs(self, name: str, component: str, tail: int) -> list[PodLogs]:
        runner = self._runner(name)
        if component == "scheduler" and (not runner.state or runner.failed):
            return [PodLogs(pod=f"{name}-scheduler", component="scheduler", lines=self._log_tail(name, tail))]
        if not runner.state:
            return []
        if component == "scheduler":
            records = await self._call(runner, "get_logs", n=tail)
            return [PodLogs(pod=f"{name}-scheduler", component="scheduler", lines=_lines(records))]
        per_worker = await self._call(runner, "worker_logs", n=tail)
        return [
            PodLogs(pod=address, component="worker", lines=_lines(records))
            for address, records in sorted(per_worker.items())
        ]

    def _log_tail(self, name: str, tail: int) -> list[str]:
        try:
            text = (self.state_dir / f"{name}.log").read_text(errors="replace")
        except OSError:
            return []
        return text.splitlines()[-tail:]

    async def timeline(self, name: str):
        return await local_timeline.build(self, self._runner(name))

    async def image_nodes(self, image: str | None) -> ImageNodes:
        return ImageNodes(image or "", known=False,
                          message="local clusters run in this server's environment: there is no image to pull")

    def jobs_backend(self, root: Path) -> LocalJobs:
        return LocalJobs(self.state_dir, root)

    async def dashboard_target(self, name: str) -> str:
        runner = self._runner(name)
        if runner.dashboard_port is None:
            raise Unavailable(f"the dashboard of {name!r} is not up yet")
        return f"http://127.0.0.1:{runner.dashboard_port}"

    def dashboard_owner(self, host: str, port: int) -> str | None:
        if not is_loopback(host):
            return None  # local dashboards listen on 127.0.0.1 only
        return next((r.name for r in self._runners.values() if r.dashboard_port == port), None)

    # --- monitoring ------------------------------------------------------------------------

    async def _watch(self) -> None:
        while True:
            self._launcher.keep_standby()
            try:
                await asyncio.gather(*(self._refresh(r) for r in list(self._runners.values())))
            except Exception:  # never let one bad poll end monitoring
                log.exception("rapids-kf: local cluster monitor")
            await asyncio.sleep(self.poll_seconds)

    async def _refresh(self, runner: Runner) -> None:
        before = self._cluster(runner).to_json()
        if not runner.alive():
            self._on_exit(runner)
            return
        if runner.deleting_since is not None:
            if time.monotonic() - runner.deleting_since > DELETE_GRACE:
                runner.signal(signal.SIGKILL)
            return
        if runner.address is None:
            self._read_state_file(runner)
        if runner.address is not None:
            try:
                runner.state = await self._call(runner, "rapids_kf_state")
                if runner.pending_scale is not None:
                    workers, runner.pending_scale = runner.pending_scale, None
                    runner.state = await self._call(runner, "rapids_kf_scale", n=workers)
            except Unavailable:
                runner.state = {}
        if self._cluster(runner).to_json() != before:
            self._emit("cluster", self._cluster(runner))

    def _read_state_file(self, runner: Runner) -> None:
        try:
            state = json.loads((self.state_dir / f"{runner.name}.json").read_text())
        except (OSError, ValueError):
            return
        runner.address = state["address"]
        runner.ucx_address = state.get("ucx_address")
        runner.dashboard_port = state["dashboard_port"]

    def _on_exit(self, runner: Runner) -> None:
        if self._runners.get(runner.name) is not runner:
            return  # already forgotten (by _reap or an earlier pass)
        spec_left = (self.state_dir / f"{runner.name}.spec.json").exists()
        if runner.deleting_since is not None or not spec_left:
            # Deleted, or closed itself after its idle timeout.
            self._runners.pop(runner.name, None)
            self._forget_files(runner.name)
            self._emit("deleted", self._cluster(runner))
        elif runner.failed is None:
            runner.failed = runner.failure_reason(self._log_tail(runner.name, 40))
            runner.state = {}
            self._emit("cluster", self._cluster(runner))

    def _forget_files(self, name: str) -> None:
        for suffix in (".spec.json", ".json", ".log"):
            (self.state_dir / f"{name}{suffix}").unlink(missing_ok=True)

    # --- helpers ---------------------------------------------------------------------------

    async def _call(self, runner: Runner, op: str, **kwargs: Any) -> Any:
        if runner.address is None:
            raise Unavailable(f"the scheduler of {runner.name!r} is not up yet")
        try:
            comm = self._rpc(runner.address)
            return await asyncio.wait_for(getattr(comm, op)(**kwargs), RPC_TIMEOUT)
        except (OSError, asyncio.TimeoutError) as err:
            raise Unavailable(f"the scheduler of {runner.name!r} does not answer: {describe(err)}") from err

    def _changed(self, runner: Runner) -> Cluster:
        cluster = self._cluster(runner)
        self._emit("cluster", cluster)
        return cluster

    def _emit(self, kind: str, cluster: Cluster) -> None:
        for listener in self._listeners:
            listener(kind, cluster)  # type: ignore[arg-type]


def _lines(records: Any) -> list[str]:
    """Dask log records come newest first as (level, message); users read oldest first."""
    return [message for _level, message in reversed(list(records))]
