"""The `Job` and `JobRequest` objects of `rapids-kf/jobs`, and where files and copies go."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..bounds import query_int
from ..errors import Invalid, NotFound
from ..models import check_name, check_text, now_iso

SUFFIXES = (".ipynb", ".py")
# A DaskJob's file travels in a ConfigMap, which etcd caps at 1 MiB with its metadata.
MAX_FILE_BYTES = 900 * 1024
MAX_PARAMETERS_BYTES = 16 * 1024
REQUEST_FIELDS = ("path", "name", "parameters", "cluster")
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


@dataclass
class JobRequest:
    path: str
    name: str | None
    parameters: dict[str, Any]
    cluster: dict[str, Any]


def parse_job_request(body: Any) -> JobRequest:
    if not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object")
    unknown = sorted(set(body) - set(REQUEST_FIELDS))
    if unknown:
        raise Invalid(f"unknown field {unknown[0]!r}; allowed: {', '.join(REQUEST_FIELDS)}", field=unknown[0])
    path = body.get("path")
    if not isinstance(path, str) or not path.strip():
        raise Invalid("path must name a notebook or .py file, relative to the Jupyter root", field="path")
    check_text("path", path)
    name = body.get("name")
    if name is not None:
        if not isinstance(name, str):
            raise Invalid("name must be a string", field="name")
        check_name(name)
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise Invalid("parameters must be an object of names and JSON values", field="parameters")
    for key in parameters:
        if not key.isidentifier():
            raise Invalid(f"parameters: {key!r} is not a Python name", field="parameters")
    if len(json.dumps(parameters)) > MAX_PARAMETERS_BYTES:
        raise Invalid(f"parameters must be at most {MAX_PARAMETERS_BYTES} bytes of JSON", field="parameters")
    cluster = body.get("cluster") or {}
    if not isinstance(cluster, dict):
        raise Invalid("cluster must be an object of ClusterRequest fields", field="cluster")
    if "name" in cluster:
        raise Invalid("the job's cluster is named after the job; give name at the top level", field="cluster.name")
    return JobRequest(path=path, name=name, parameters=parameters, cluster=cluster)


def user_file(root: Path, path: str, suffixes: tuple[str, ...] = SUFFIXES) -> Path:
    """The file a user named, inside the server's root only."""
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts:
        raise Invalid("path must be relative to the Jupyter root, without '..'", field="path")
    if rel.suffix not in suffixes:
        raise Invalid(f"path must end in {' or '.join(suffixes)}", field="path")
    full = (root / rel).resolve()
    if root.resolve() not in full.parents:
        raise Invalid("path must stay inside the Jupyter root", field="path")
    if not full.is_file():
        raise NotFound(f"no file {path!r}", field="path")
    return full


def job_name_for(path: str) -> str:
    stem = "".join(c if c.isalnum() else "-" for c in PurePosixPath(path).stem.lower()).strip("-")
    return f"{stem[:40].strip('-') or 'job'}-{secrets.token_hex(2)}"


def output_path(file: str, job: str) -> str:
    """The executed copy next to the file: `etl.ipynb` -> `etl.<job>.ipynb` (`.log` for .py)."""
    rel = PurePosixPath(file)
    suffix = ".ipynb" if rel.suffix == ".ipynb" else ".log"
    return str(rel.with_name(f"{rel.stem}.{job}{suffix}"))


def check_tail(tail: str | None) -> int:
    return query_int("tail", tail, 200, 1, 5000)
