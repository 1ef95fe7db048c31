"""Bad input gets a clear Error object with the field, never a 500, and changes nothing."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(autouse=True)
def no_gpu(monkeypatch):
    """The local backend of these tests sees no GPU, on any host: gpus_per_worker 1 is then
    refused as on a CPU machine (tests/gpu covers GPU hosts)."""
    monkeypatch.setenv("RAPIDS_KF_FAKE_NO_GPU", "1")


@pytest.fixture
def rapids_kf_config():
    return {
        "backend": "local",
        "stop_local_clusters_on_exit": True,
        "max_workers": 4,
        "max_clusters": 1,
        "max_idle_timeout": 7200,
        "profiles": [{"name": "small", "title": "Small", "request": {"workers": 1, "cpu": "1"}}],
    }


BAD_BODIES = [
    # (body, status, code, field)
    ({"name": "Bad_Name"}, 400, "invalid", "name"),
    ({"name": "-x"}, 400, "invalid", "name"),
    ({"name": "a" * 54}, 400, "invalid", "name"),
    ({"workers": -1}, 400, "invalid", "workers"),
    ({"workers": 5}, 403, "limit", "workers"),
    ({"workers": "2"}, 400, "invalid", "workers"),
    ({"workers": 2.5}, 400, "invalid", "workers"),
    ({"workers": True}, 400, "invalid", "workers"),
    ({"gpus_per_worker": 1}, 400, "invalid", "gpus_per_worker"),  # no GPU: see no_gpu()
    ({"gpus_per_worker": 9}, 403, "limit", "gpus_per_worker"),  # over the admin's limit
    ({"gpus_per_worker": -1}, 400, "invalid", "gpus_per_worker"),
    ({"cpu": "four"}, 400, "invalid", "cpu"),
    ({"memory": "16 GB"}, 400, "invalid", "memory"),
    ({"idle_timeout": -5}, 400, "invalid", "idle_timeout"),
    ({"idle_timeout": 0}, 403, "limit", "idle_timeout"),
    ({"idle_timeout": 9000}, 403, "limit", "idle_timeout"),
    ({"image": "rapidsai/base:latest"}, 400, "invalid", "image"),
    ({"profile": "huge"}, 400, "invalid", "profile"),
    ({"env": {"1BAD": "x"}}, 400, "invalid", "env"),
    ({"env": {"GOOD": 1}}, 400, "invalid", "env"),
    ({"env": ["A=1"]}, 400, "invalid", "env"),
    ({"worker_command": "  "}, 400, "invalid", "worker_command"),
    ({"wrokers": 2}, 400, "invalid", "wrokers"),
]


@pytest.mark.parametrize("body,status,code,field", BAD_BODIES)
async def test_bad_create_bodies_are_refused_with_the_field(api, body, status, code, field):
    got_status, error = await api.call("POST", "clusters", body)
    assert got_status == status, error
    assert error["error"]["code"] == code
    assert error["error"]["field"] == field
    assert error["error"]["message"]
    if code == "limit":
        assert "administrator" in error["error"]["fix"]
    assert (await api.get("clusters"))["clusters"] == [], "a refused request creates nothing"


@pytest.mark.parametrize(
    "raw,needle",
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe", "not valid JSON"),
        (b'"just a string"', "JSON object"),
        (json.dumps({"env": {"K": "v" * 70_000}}).encode(), "64 KiB"),
    ],
)
async def test_bodies_that_are_not_a_json_object_or_too_large_are_400(api, raw, needle):
    status, error = await api.call("POST", "clusters", raw=raw)
    assert status == 400
    assert error["error"]["code"] == "invalid"
    assert needle in error["error"]["message"]


async def test_unknown_cluster_is_404_on_every_route(api):
    for method, path, body in [
        ("GET", "clusters/nope", None),
        ("PATCH", "clusters/nope", {"workers": 1}),
        ("DELETE", "clusters/nope", None),
        ("GET", "clusters/nope/snippet", None),
        ("GET", "clusters/nope/logs", None),
        ("GET", "clusters/nope/dashboard/status", None),
    ]:
        status, error = await api.call(method, path, body)
        assert status == 404, (method, path, error)
        assert error["error"]["code"] == "not_found"


async def test_invalid_name_in_the_path_is_400(api):
    status, error = await api.call("GET", "clusters/UPPER")
    assert status == 400 and error["error"]["field"] == "name"


async def test_duplicate_name_is_409_and_guardrails_count_clusters(api):
    status, cluster = await api.call("POST", "clusters", {"name": "only", "profile": "small"})
    assert status == 202
    assert cluster["workers"]["desired"] == 1, "the profile's request applies"
    assert cluster["cpu"] == "1"
    try:
        status, error = await api.call("POST", "clusters", {"name": "only"})
        assert status == 409 and error["error"]["code"] == "exists" and error["error"]["field"] == "name"

        status, error = await api.call("POST", "clusters", {"name": "second"})
        assert status == 403 and error["error"]["code"] == "limit"
        assert "max_clusters" in error["error"]["fix"]

        # Bad scale requests are refused and leave the cluster as it was.
        await api.wait_for("only", lambda c: c["phase"] == "Running", what="Running")
        for body, status_code, field in [
            ({"workers": 99}, 403, "workers"),
            ({"workers": -1}, 400, "workers"),
            ({"workers": 10**400}, 400, "workers"),
            ({"workers": "3"}, 400, "workers"),
            ({"workers": 1, "adapt": None}, 400, "workers"),
            ({"adapt": {"minimum": 3, "maximum": 1}}, 400, "adapt.minimum"),
            ({"adapt": {"minimum": 1}}, 400, "adapt.maximum"),
            ({"adapt": {"minimum": 0, "maximum": 9}}, 403, "adapt.maximum"),
            ({"adapt": {"minimum": 0, "maximum": 10**400}}, 400, "adapt.maximum"),
            ({"adapt": [1, 2]}, 400, "adapt"),
            ({"size": 3}, 400, "size"),
        ]:
            status, error = await api.call("PATCH", "clusters/only", body)
            assert (status, error["error"]["field"]) == (status_code, field), (body, error)
        cluster = await api.get("clusters/only")
        assert cluster["workers"]["desired"] == 1

        for params, field in [({"kind": "java"}, "kind"), ({"kind": "kubecluster"}, "kind")]:
            status, error = await api.call("GET", "clusters/only/snippet", **params)
            assert status == 400 and error["error"]["field"] == field
        for params, field in [({"component": "nanny"}, "component"), ({"tail": "ten"}, "tail"), ({"tail": "0"}, "tail")]:
            status, error = await api.call("GET", "clusters/only/logs", **params)
            assert status == 400 and error["error"]["field"] == field
    finally:
        await api.call("DELETE", "clusters/only")
        await api.wait_gone("only")
