"""Input no cluster could use is refused up front with 400 and the field (issue 10, cases 2 and 3).

Before, these were accepted (202) and the cluster failed later with an OverflowError, or the
server answered 500 with a RecursionError. No admin limit is set here on idle_timeout, so only
the absolute bounds of models/limits.py stand between such a request and a broken cluster.
"""

from __future__ import annotations

import pytest

NESTED = [
    b"[" * 20_000 + b"]" * 20_000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
]

UNUSABLE = [
    ({"memory": "9" * 400}, "memory"),
    ({"memory": "1"}, "memory"),
    ({"cpu": "99999"}, "cpu"),
    ({"idle_timeout": 10**400}, "idle_timeout"),
    ({"idle_timeout": 10**12}, "idle_timeout"),
    ({"workers": 10**400}, "workers"),
    ({"gpus_per_worker": 10**400}, "gpus_per_worker"),
    ({"env": {"A": "nul\x00byte"}}, "env"),
    ({"name": "trailing-newline\n"}, "name"),
]


async def _no_cluster_left(api):
    clusters = (await api.get("clusters"))["clusters"]
    for cluster in clusters:  # a regression must not leave processes behind
        await api.call("DELETE", f"clusters/{cluster['name']}")
    return [c["name"] for c in clusters]


@pytest.mark.parametrize("raw", NESTED, ids=["lists", "objects"])
@pytest.mark.parametrize("method,path", [("POST", "clusters"), ("PATCH", "clusters/any")])
async def test_deeply_nested_json_is_invalid_not_a_500(api, method, path, raw):
    status, error = await api.call(method, path, raw=raw)
    assert status == 400, error
    assert error["error"]["code"] == "invalid"
    assert "nested too deeply" in error["error"]["message"]


@pytest.mark.parametrize("body,field", UNUSABLE, ids=[f for _, f in UNUSABLE])
async def test_numbers_no_cluster_can_use_are_refused_with_the_field(api, body, field):
    status, error = await api.call("POST", "clusters", body)
    left = await _no_cluster_left(api)
    assert status == 400, error
    assert error["error"]["code"] == "invalid"
    assert error["error"]["field"] == field
    assert left == [], "a refused request creates nothing"


async def test_log_tail_is_bounded(api):
    for tail in ("0", "5001", str(10**400), "9" * 5000):
        status, error = await api.call("GET", "clusters/any/logs", tail=tail)
        assert status == 400 and error["error"]["field"] == "tail", (tail, error)
