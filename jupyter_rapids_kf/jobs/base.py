"""The interface both job backends implement (local subprocesses, the operator's DaskJob)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol

from ..models import ClusterSpec
from .models import Job

# Called with the job when it appears or changes, and with (name, None) when it is gone.
JobListener = Callable[[str, "Job | None"], None]


class JobsBackend(Protocol):
    name: str
    namespace: str

    async def start(self, listener: JobListener) -> None: ...

    async def stop(self) -> None: ...

    async def list(self) -> list[Job]: ...

    async def get(self, name: str) -> Job:
        """Raises NotFound."""

    async def create(self, job: Job, spec: ClusterSpec, source: Path, image: str | None) -> Job:
        """Starts the job (its cluster has `spec`'s shape) and returns at once."""

    async def delete(self, name: str) -> Job:
        """Cancels a running job and removes it with everything it made (pods, cluster)."""

    async def logs(self, name: str, tail: int) -> list[str]: ...

    async def executed(self, name: str) -> tuple[str | None, str | None]:
        """(executed notebook text, error) of a finished job, from where the runner left them;
        (None, error) when the runner wrote its copy itself."""

    async def mark_saved(self, name: str, output: str | None, error: str | None) -> None:
        """Remember that the executed copy was saved, so it is saved only once."""
