"""Jobs without Kubernetes: a subprocess that starts its own LocalCluster (LocalCUDACluster for
GPU jobs) and runs the file with `jupyter_rapids_kf.batch.runner`, writing the executed copy next
to the original itself. Jobs live as long as this server: the list is not kept across restarts.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from ...batch.runner import decode_from_log, strip_payload
from ...errors import NotFound
from ...models.cluster import ClusterSpec, now_iso
from ...models.job import Job, output_path
from ..base import JobListener


@dataclass
class _Running:
    job: Job
    log: Path
    process: asyncio.subprocess.Process | None = None
    watcher: asyncio.Task | None = None


class LocalJobs:
    name = "local"
    namespace = "local"

    def __init__(self, state_dir: Path, root: Path):
        self.state_dir = state_dir / "jobs"
        self.root = root
        self._jobs: dict[str, _Running] = {}
        self._listener: JobListener | None = None

    async def start(self, listener: JobListener) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._listener = listener

    async def stop(self) -> None:
        for name in list(self._jobs):
            await self._kill(self._jobs[name])

    def _emit(self, name: str, job: Job | None) -> None:
        if self._listener is not None:
            self._listener(name, job)

    async def list(self) -> list[Job]:
        return [r.job for r in self._jobs.values()]

    async def get(self, name: str) -> Job:
        if name not in self._jobs:
            raise NotFound(f"no job named {name!r}", field="name")
        return self._jobs[name].job

    async def create(self, job: Job, spec: ClusterSpec, source: Path, image: str | None) -> Job:
        log = self.state_dir / f"{job.name}.log"
        output = self.root / output_path(job.file, job.name)
        args = [sys.executable, "-m", "jupyter_rapids_kf.batch.runner", str(source),
                "--parameters", json.dumps(job.parameters), "--local-workers", str(spec.workers)]
        if spec.gpus_per_worker > 0:
            args.append("--gpu")
            if spec.protocol == "ucx":
                args.append("--ucx")
        if source.suffix == ".ipynb":
            args += ["--output", str(output)]
        env = {**os.environ, **spec.env}
        env.pop("DASK_SCHEDULER_ADDRESS", None)
        running = _Running(job, log)
        self._jobs[job.name] = running
        with open(log, "wb") as out:
            running.process = await asyncio.create_subprocess_exec(
                *args, stdout=out, stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL,
                cwd=str(source.parent), env=env, start_new_session=True,  # cancel ends its whole group
            )
        job.phase, job.started = "Running", now_iso()
        running.watcher = asyncio.ensure_future(self._watch(running, output))
        self._emit(job.name, job)
        return job

    async def _watch(self, running: _Running, output: Path) -> None:
        assert running.process is not None
        code = await running.process.wait()
        job = running.job
        if self._jobs.get(job.name) is not running:
            return  # cancelled and removed
        job.finished = now_iso()
        job.phase = "Successful" if code == 0 else "Failed"
        _, error = decode_from_log(self._read_log(running))
        job.error = error or (None if code == 0 else f"the job exited with status {code}")
        if not job.file.endswith(".ipynb"):
            output.write_text("\n".join(self._read_log(running)) + "\n", encoding="utf-8")
        if output.exists():
            job.output = str(Path(job.file).with_name(output.name))
        self._emit(job.name, job)

    def _read_log(self, running: _Running) -> list[str]:
        try:
            return running.log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []

    async def _kill(self, running: _Running) -> None:
        process = running.process
        if process is not None and process.returncode is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                await asyncio.wait_for(process.wait(), 10)
            except asyncio.TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()

    async def delete(self, name: str) -> Job:
        running = self._jobs.get(name)
        if running is None:
            raise NotFound(f"no job named {name!r}", field="name")
        del self._jobs[name]  # first, so the watcher does not report the killed run as Failed
        running.job.phase = "Deleting"
        await self._kill(running)
        running.log.unlink(missing_ok=True)
        self._emit(name, None)
        return running.job

    async def logs(self, name: str, tail: int) -> list[str]:
        running = self._jobs.get(name)
        if running is None:
            raise NotFound(f"no job named {name!r}", field="name")
        return strip_payload(self._read_log(running))[-tail:]

    async def executed(self, name: str) -> tuple[str | None, str | None]:
        return None, (await self.get(name)).error

    async def mark_saved(self, name: str, output: str | None, error: str | None) -> None:
        pass
