"""JobService: validation, the job's cluster shape (ClusterService's rules), saving executed copies,
and job events on the cluster event stream. No tornado here."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from ..backends.base import JobsBackend
from ..batch.files import user_file
from ..batch.request import check_tail, job_name_for, parse_job_request
from ..clusters.service import ClusterService
from ..errors import Exists, RapidsKFError
from ..models.cluster import check_name
from ..models.job import FINISHED, Job, output_path

log = logging.getLogger(__name__)


class JobService:
    def __init__(self, clusters: ClusterService, root: Path):
        self.clusters = clusters
        self.root = root
        self._backend: JobsBackend | None = None
        self._lock = asyncio.Lock()
        self._saving: set[str] = set()
        self._tasks: set[asyncio.Task] = set()

    async def backend(self) -> JobsBackend:
        if self._backend is None:
            async with self._lock:
                if self._backend is None:
                    backend = await self.clusters.jobs_backend(self.root)
                    await backend.start(self._on_change)
                    self._backend = backend
        return self._backend

    async def stop(self) -> None:
        if self._backend is not None:
            await self._backend.stop()

    # --- reads -----------------------------------------------------------------------------

    async def list(self) -> list[Job]:
        return sorted(await (await self.backend()).list(), key=lambda j: j.created, reverse=True)

    async def get(self, name: str) -> Job:
        check_name(name)
        return await (await self.backend()).get(name)

    async def logs(self, name: str, tail: str | None) -> list[str]:
        check_name(name)
        lines = check_tail(tail)
        return await (await self.backend()).logs(name, lines)

    # --- writes ----------------------------------------------------------------------------

    async def create(self, body: Any) -> Job:
        request = parse_job_request(body)
        source = user_file(self.root, request.path)
        backend = await self.backend()
        name = request.name or job_name_for(request.path)
        if any(j.name == name for j in await backend.list()):
            raise Exists(f"a job named {name!r} already exists", field="name")
        spec, facts = await self.clusters.resolve({**request.cluster, "name": name})
        await self.clusters.reserve(name, "the job's cluster takes its name")  # the job brings a cluster
        image = spec.image or facts.default_image
        job = Job(name=name, namespace=backend.namespace, backend=backend.name, file=request.path,
                  workers=spec.workers, gpus_per_worker=spec.gpus_per_worker, image=image,
                  parameters=request.parameters)
        return await backend.create(job, spec, source, image)

    async def delete(self, name: str) -> Job:
        check_name(name)
        return await (await self.backend()).delete(name)

    # --- changes ---------------------------------------------------------------------------

    def _on_change(self, name: str, job: Job | None) -> None:
        if job is None:
            self._saving.discard(name)
            self.clusters.publish("job-deleted", {"name": name})
            return
        if job.phase in FINISHED and job.output is None and name not in self._saving:
            self._saving.add(name)
            task = asyncio.ensure_future(self._save(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.clusters.publish("job", job.to_json())

    async def _save(self, job: Job) -> None:
        """The executed copy next to the original, once, when the runner left it in its log."""
        backend = await self.backend()
        try:
            text, error = await backend.executed(job.name)
            output = None
            if text is not None:
                output = output_path(job.file, job.name)
                target = self.root / output
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            elif not job.file.endswith(".ipynb"):
                lines = await backend.logs(job.name, 5000)
                output = output_path(job.file, job.name)
                (self.root / output).write_text("\n".join(lines) + "\n", encoding="utf-8")
            if output is not None or error is not None:
                await backend.mark_saved(job.name, output, error)
        except RapidsKFError as err:
            log.warning("rapids-kf: could not save the output of job %s: %s", job.name, err.message)
        except OSError as err:
            log.warning("rapids-kf: could not write the output of job %s: %s", job.name, err)
