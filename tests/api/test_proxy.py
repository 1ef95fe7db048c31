"""The dashboard route reaches the user's own clusters and nothing else."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect


async def test_the_dashboard_route_only_knows_clusters_by_name(api, jp_fetch):
    for path in ["other-host:8787/status", "..%2F..%2Fapi%2Fstatus"]:
        status, error = await api.call("GET", f"clusters/not-a-cluster/dashboard/{path}")
        assert status == 404 and error["error"]["code"] == "not_found"
    status, error = await api.call("GET", "clusters/10.0.0.1:8787/dashboard/status")
    assert status == 400 and error["error"]["field"] == "name"


async def test_a_dashboard_that_is_not_up_yet_is_503_and_the_root_redirects_to_status(api, jp_fetch, jp_base_url):
    status, _ = await api.call("POST", "clusters", {"name": "early", "workers": 0})
    assert status == 202
    try:
        status, error = await api.call("GET", "clusters/early/dashboard/status")
        assert status == 503 and error["error"]["code"] == "unavailable"
        await api.wait_for("early", lambda c: c["phase"] == "Running")
        root = await jp_fetch("rapids-kf", "clusters", "early", "dashboard", "", follow_redirects=False, raise_error=False)
        assert root.code in (301, 302)
        assert root.headers["Location"].endswith(f"{jp_base_url}rapids-kf/clusters/early/dashboard/status")
        page = await jp_fetch("rapids-kf", "clusters", "early", "dashboard", "status")
        assert page.code == 200
    finally:
        await api.call("DELETE", "clusters/early")
        await api.wait_gone("early")


async def test_the_generic_proxy_still_refuses_hosts_outside_its_allowlist(raw_get, jp_base_url):
    # Refused before any connection is made: nothing is sent to this address.
    response = await raw_get(f"{jp_base_url}proxy/10.1.2.3:8787/status")
    assert response.code == 403



async def test_a_dashboard_websocket_to_a_dead_scheduler_is_closed_cleanly(api, jp_fetch, jp_http_port, jp_base_url, jp_auth_header):
    status, _ = await api.call("POST", "clusters", {"name": "crashy", "workers": 0})
    assert status == 202
    try:
        await api.wait_for("crashy", lambda c: c["phase"] == "Running")
        spec = Path(jupyter_runtime_dir()) / "rapids-kf-clusters" / "crashy.spec.json"
        os.killpg(json.loads(spec.read_text())["pid"], signal.SIGKILL)  # dies without a goodbye
        await api.wait_for("crashy", lambda c: c["phase"] == "Failed", what="Failed")
        url = f"ws://127.0.0.1:{jp_http_port}{jp_base_url}rapids-kf/clusters/crashy/dashboard/status/ws"
        ws = await websocket_connect(HTTPRequest(url, headers=dict(jp_auth_header)))
        assert await ws.read_message() is None
        assert ws.close_code == 1011
        assert "not reachable" in ws.close_reason
    finally:
        await api.call("DELETE", "clusters/crashy")
        await api.wait_gone("crashy")


async def test_a_dashboard_whose_scheduler_was_killed_is_503_with_a_fix(api, jp_fetch):
    status, _ = await api.call("POST", "clusters", {"name": "killed", "workers": 0})
    assert status == 202
    try:
        await api.wait_for("killed", lambda c: c["phase"] == "Running")
        assert (await jp_fetch("rapids-kf", "clusters", "killed", "dashboard", "status")).code == 200
        spec = Path(jupyter_runtime_dir()) / "rapids-kf-clusters" / "killed.spec.json"
        os.killpg(json.loads(spec.read_text())["pid"], signal.SIGKILL)
        await api.wait_for("killed", lambda c: c["phase"] == "Failed", what="Failed")
        for method in ("GET", "POST"):
            status, error = await api.call(method, "clusters/killed/dashboard/status")
            assert status == 503, (method, status, error)
            assert error["error"]["code"] == "unavailable"
            assert "not answering" in error["error"]["message"] and error["error"]["fix"]
    finally:
        await api.call("DELETE", "clusters/killed")
        await api.wait_gone("killed")
