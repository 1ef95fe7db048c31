"""Inputs the schema-driven run found answered wrongly (issue 23, item 5), on a real local cluster.

- An integer is what JSON Schema says it is: 2.0 is one (openapi.yaml says `type: integer`), so
  it is taken as 2 wherever the API takes an integer; 2.5 and true are not.
- `tail=` (given, but empty) is a 400 naming the field, not the default.
- A scheduler that does not answer is a 503 that says why, never "does not answer: " and nothing.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir


async def test_integral_numbers_are_integers_everywhere_the_api_takes_one(api):
    status, made = await api.call("POST", "clusters", {"name": "floats", "workers": 0.0, "idle_timeout": 600.0})
    assert status == 202, made
    try:
        assert made["workers"]["desired"] == 0 and made["idle_timeout"] == 600
        assert isinstance(made["idle_timeout"], int)
        await api.wait_for("floats", lambda c: c["phase"] == "Running")
        status, adapted = await api.call("PATCH", "clusters/floats", {"adapt": {"minimum": 0.0, "maximum": 1.0}})
        assert status == 202, adapted
        assert adapted["adapt"] == {"minimum": 0, "maximum": 1}
        assert json.dumps(adapted["adapt"]) == '{"minimum": 0, "maximum": 1}'  # written as integers
        # Out of the admin's bounds is said as such, not "must be an integer".
        status, error = await api.call("PATCH", "clusters/floats", {"adapt": {"minimum": 1393.0, "maximum": 1393.0}})
        assert status == 403 and error["error"]["code"] == "limit", error
        for bad in (1.5, True, "1"):
            status, error = await api.call("PATCH", "clusters/floats", {"adapt": {"minimum": bad, "maximum": 1}})
            assert status == 400 and error["error"]["field"] == "adapt.minimum", (bad, error)
            assert "must be an integer" in error["error"]["message"]
        status, scaled = await api.call("PATCH", "clusters/floats", {"workers": 1.0})
        assert status == 202 and scaled["workers"]["desired"] == 1, scaled
    finally:
        await api.call("DELETE", "clusters/floats")
        await api.wait_gone("floats")


async def test_an_empty_tail_is_refused_and_a_frozen_scheduler_says_why(api):
    status, _ = await api.call("POST", "clusters", {"name": "frozen", "workers": 0})
    assert status == 202
    spec = Path(jupyter_runtime_dir()) / "rapids-kf-clusters" / "frozen.spec.json"
    pgid = None
    try:
        await api.wait_for("frozen", lambda c: c["phase"] == "Running")
        for query in ({"tail": ""}, {"tail": "x"}, {"tail": "2.5"}):
            status, error = await api.call("GET", "clusters/frozen/logs", **query)
            assert status == 400, (query, status, error)
            assert error["error"]["code"] == "invalid" and error["error"]["field"] == "tail", error
        status, logs = await api.call("GET", "clusters/frozen/logs", tail="3.0")
        assert status == 200 and all(len(p["lines"]) <= 3 for p in logs["logs"]), logs

        pgid = json.loads(spec.read_text())["pid"]
        os.killpg(pgid, signal.SIGSTOP)  # alive but not answering: the RPC times out
        status, error = await api.call("GET", "clusters/frozen/logs")
        assert status == 503 and error["error"]["code"] == "unavailable", (status, error)
        message = error["error"]["message"]
        assert "does not answer: TimeoutError" in message and not message.rstrip().endswith(":"), message
    finally:
        if pgid is not None:
            os.killpg(pgid, signal.SIGCONT)
        await api.call("DELETE", "clusters/frozen")
        await api.wait_gone("frozen")
