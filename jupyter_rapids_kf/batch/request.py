"""A run's request (`JobRequest`), as jobs and pipeline exports read it, and the job's name."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ..errors import Invalid
from ..models.cluster import check_name, check_text
from ..models.limits import query_int

MAX_PARAMETERS_BYTES = 16 * 1024
REQUEST_FIELDS = ("path", "name", "parameters", "cluster")


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


def job_name_for(path: str) -> str:
    stem = "".join(c if c.isalnum() else "-" for c in PurePosixPath(path).stem.lower()).strip("-")
    return f"{stem[:40].strip('-') or 'job'}-{secrets.token_hex(2)}"


def check_tail(tail: str | None) -> int:
    return query_int("tail", tail, 200, 1, 5000)
