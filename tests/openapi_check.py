"""Validates every answer of the server under test against jupyter_rapids_kf/openapi.yaml."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from urllib.parse import parse_qsl

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict


@lru_cache(maxsize=1)
def spec() -> OpenAPI:
    path = files("jupyter_rapids_kf").joinpath("openapi.yaml")
    return OpenAPI.from_file_path(str(path))


@dataclass
class _Request:
    path: str
    method: str
    query: str = ""
    body: bytes | None = None
    host_url: str = "http://localhost"
    content_type: str = "application/json"
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        self.parameters = RequestParameters(query=ImmutableMultiDict(parse_qsl(self.query)))


@dataclass
class _Response:
    status_code: int
    data: bytes
    content_type: str
    headers: Headers


def check(method: str, path: str, query: str, body: bytes | None, status: int, data: bytes, content_type: str) -> None:
    """Raises if the request/response pair does not match the documented API."""
    if "/dashboard/" in path:  # {path} spans segments; OpenAPI templates match one
        head, tail = path.split("/dashboard/", 1)
        path = f"{head}/dashboard/{tail.replace('/', '%2F')}"
    request = _Request(path=path, method=method.lower(), query=query, body=body)
    response = _Response(status, data, content_type.split(";")[0].strip(), Headers({"Content-Type": content_type}))
    spec().validate_response(request, response)
