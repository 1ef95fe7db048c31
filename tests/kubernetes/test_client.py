"""map_error: each failure of a request, in words with a fix (no network here)."""

from __future__ import annotations

import httpx
import pytest
from kr8s._exceptions import APITimeoutError, ServerError

from jupyter_rapids_kf.backends.kubernetes.client import DASKCLUSTERS, PODS, map_error


def server_error(code: int, body=None, text: str | None = None) -> ServerError:
    request = httpx.Request("GET", "http://127.0.0.1/x")
    if body is not None:
        response = httpx.Response(code, json=body, request=request)
    else:
        response = httpx.Response(code, text=text or "", request=request)
    return ServerError("error", response=response)


def status(code: int, reason: str, message: str, **details) -> dict:
    return {"kind": "Status", "code": code, "reason": reason, "message": message, "details": details}


@pytest.mark.parametrize("err,resource,code,words", [
    (server_error(401, status(401, "Unauthorized", "Unauthorized")), DASKCLUSTERS, "forbidden", "credentials"),
    (server_error(403, status(403, "Forbidden", 'cannot delete resource "daskclusters"')), DASKCLUSTERS,
     "forbidden", "not allowed to delete daskclusters.kubernetes.dask.org 'etl' in namespace ns"),
    (server_error(404, status(404, "NotFound", 'daskclusters "etl" not found', name="etl")), DASKCLUSTERS,
     "not_found", "no DaskCluster named 'etl'"),
    (server_error(404, text="404 page not found"), DASKCLUSTERS, "unavailable", "operator's CustomResourceDefinitions"),
    (server_error(404, text="404 page not found"), PODS, "not_found", "not found"),
    (server_error(409, status(409, "AlreadyExists", "exists")), DASKCLUSTERS, "exists", "already exists"),
    (server_error(422, status(422, "Invalid", "spec.worker.replicas: Invalid value")), DASKCLUSTERS, "invalid",
     "spec.worker.replicas: Invalid value"),
    (server_error(400, status(400, "BadRequest", "container is waiting to start")), PODS, "invalid", "waiting to start"),
    (server_error(500, text="boom"), DASKCLUSTERS, "unavailable", "answered 500"),
    (APITimeoutError("slow"), DASKCLUSTERS, "unavailable", "did not answer in time"),
    (httpx.ConnectError("[Errno 111] Connection refused"), DASKCLUSTERS, "unavailable", "Connection refused"),
    (ValueError("Unable to find valid credentials"), DASKCLUSTERS, "unavailable", "no Kubernetes credentials"),
])
def test_every_failure_maps_to_an_error_users_can_act_on(err, resource, code, words):
    mapped = map_error(err, "delete", resource, "ns", "etl")
    assert mapped.code == code
    assert words in mapped.message
    if code == "forbidden" and "credentials" not in words:
        assert "manifests" in mapped.fix
    if "CustomResourceDefinitions" in words:
        assert "helm install" in mapped.fix
