"""The `Job` of `rapids-kf/jobs`, as both job backends report it, and where its executed copy goes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath
from typing import Any

from .cluster import now_iso

# The operator's job phases (status.jobStatus), plus ours before and after it acts.
PHASES = ("Creating", "JobCreated", "ClusterCreated", "Running", "Successful", "Failed", "Deleting")
FINISHED = ("Successful", "Failed")


@dataclass
class Job:
    name: str
    namespace: str
    backend: str
    file: str  # relative to the server's root, as the file browser shows it
    phase: str = "Creating"
    created: str = field(default_factory=now_iso)
    started: str | None = None
    finished: str | None = None
    workers: int = 0
    gpus_per_worker: int = 0
    image: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    output: str | None = None  # the executed copy, once saved next to the file
    error: str | None = None  # the failing cell's (or script's) error
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def output_path(file: str, job: str) -> str:
    """The executed copy next to the file: `etl.ipynb` -> `etl.<job>.ipynb` (`.log` for .py)."""
    rel = PurePosixPath(file)
    suffix = ".ipynb" if rel.suffix == ".ipynb" else ".log"
    return str(rel.with_name(f"{rel.stem}.{job}{suffix}"))
