"""The OpenAPI document states the rules the server enforces (issue 10, case 8).

A client generated from openapi.yaml, or a fuzzer reading it, must learn the same name
pattern, the same integer ranges and the same answers (403 without credentials, 503 when the
backend is away) that the server gives; tests/api/test_fuzz.py then checks the server against it.
"""

from __future__ import annotations

from importlib.resources import files

import pytest
import yaml

from jupyter_rapids_kf.models import limits as bounds, cluster as models
from jupyter_rapids_kf import errors

DOC = yaml.safe_load(files("jupyter_rapids_kf").joinpath("openapi.yaml").read_text())
SCHEMAS = DOC["components"]["schemas"]
OPERATIONS = [
    (path, method, operation)
    for path, item in DOC["paths"].items()
    for method, operation in item.items()
    if method in ("get", "post", "patch", "delete", "put")
]


def resolve(node: dict) -> dict:
    while "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        node = DOC["components"][kind][name]
    return node


@pytest.mark.parametrize("path,method,operation", OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_every_operation_documents_403_without_credentials_and_503(path, method, operation):
    responses = operation["responses"]
    assert "403" in responses and "401" not in responses, "Jupyter answers 403 on API routes"
    assert "503" in responses
    if "{name}" in path:
        assert "404" in responses and "400" in responses


def test_the_name_in_paths_has_the_servers_pattern_and_length():
    name = resolve(DOC["components"]["parameters"]["name"]["schema"])
    assert name["pattern"] == f"^{models.NAME_RE.pattern}$"
    assert name["maxLength"] == models.NAME_MAX
    assert resolve(SCHEMAS["ClusterRequest"]["properties"]["name"]) == name


def test_integer_ranges_are_the_servers_bounds():
    request = SCHEMAS["ClusterRequest"]["properties"]
    for field, (low, high) in models.INT_BOUNDS.items():
        schema = resolve(request[field])
        assert (schema["minimum"], schema["maximum"]) == (low, high), field
    for key in ("minimum", "maximum"):
        schema = resolve(SCHEMAS["Adapt"]["properties"][key])
        assert (schema["minimum"], schema["maximum"]) == (0, bounds.WORKERS_MAX)
    scale_workers = resolve(SCHEMAS["ScaleRequest"]["oneOf"][0]["properties"]["workers"])
    assert scale_workers["maximum"] == bounds.WORKERS_MAX
    tail = next(p for p in DOC["paths"]["/rapids-kf/clusters/{name}/logs"]["parameters"] if p.get("name") == "tail")
    assert (tail["schema"]["minimum"], tail["schema"]["maximum"]) == (1, bounds.LOG_TAIL_MAX)


def test_quantities_have_the_servers_pattern_and_length():
    quantity = SCHEMAS["Quantity"]
    assert quantity["pattern"] == f"^{bounds.QUANTITY_RE.pattern}$"
    assert quantity["maxLength"] == bounds.QUANTITY_MAX_LENGTH


def test_every_error_code_the_server_can_answer_is_listed():
    listed = set(SCHEMAS["Error"]["properties"]["error"]["properties"]["code"]["enum"])
    raised = {cls.code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.RapidsKFError)}
    assert raised | set(errors.STATUS_CODES.values()) <= listed
