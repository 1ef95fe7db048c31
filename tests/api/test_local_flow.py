"""The whole user flow through the REST API alone, on the local backend with real Dask processes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

RUN_SNIPPET = """
{code}
import dask.array as da
total = da.ones((2000, 2000), chunks=(500, 500)).sum().compute()
stages = set(client.run(lambda: __import__("os").environ.get("ETL_STAGE")).values())
print(json.dumps({{"total": float(total), "workers": len(client.scheduler_info()["workers"]),
                  "dashboard": client.dashboard_link, "stages": sorted(stages)}}))
client.close()
"""


async def run_snippet(code: str) -> dict:
    """Runs a snippet in a fresh Python, like a kernel started by this server would."""
    script = "import json\n" + RUN_SNIPPET.format(code=code)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, env=dict(os.environ),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()[-2000:]
    return json.loads(out.decode().strip().splitlines()[-1])


async def test_create_use_scale_dashboard_delete(api, events, jp_fetch, raw_get, jp_base_url, jp_http_port, jp_auth_header):
    async with events() as stream:
        first = await stream.next("clusters")
        assert first == {"clusters": []}

        body = {"name": "flow", "workers": 2, "env": {"ETL_STAGE": "flow-test"}}
        code, created = await api.call("POST", "clusters", body)
        assert code == 202
        assert created["phase"] == "Creating"
        assert created["workers"] == {"desired": 2, "ready": 0, "pending": 2}
        assert created["reasons"], "a cluster that is not ready says why"

        await stream.next("cluster", lambda c: c["name"] == "flow" and c["phase"] == "Creating")
        running = await stream.next("cluster", lambda c: c["name"] == "flow" and c["phase"] == "Running", timeout=90)
        assert running["workers"]["ready"] == 2
        assert running["scheduler"]["ready"] is True
        assert running["reasons"] == []
        assert (await api.get("clusters"))["clusters"][0]["name"] == "flow"

        # The client snippet works as pasted, and its dashboard link goes through this server.
        snippet = await api.get("clusters/flow/snippet", kind="client")
        result = await run_snippet(snippet["code"])
        assert result["total"] == 2000 * 2000
        assert result["workers"] == 2
        assert result["stages"] == ["flow-test"], "the cluster's env reaches every worker"
        port = running["scheduler"]["address"].rsplit(":", 1)[1]
        assert result["dashboard"].startswith(f"{jp_base_url}rapids-kf/dashboards/127.0.0.1:")
        assert result["dashboard"].endswith("/status")
        linked = await raw_get(result["dashboard"])
        assert linked.code == 200 and b"bokeh" in linked.body.lower()

        # Scale to 3: pending first, then 3 ready workers, each change pushed on the stream.
        code, scaling = await api.call("PATCH", "clusters/flow", {"workers": 3})
        assert code == 202
        assert scaling["workers"]["desired"] == 3
        await stream.next("cluster", lambda c: c["name"] == "flow" and c["phase"] == "Scaling")
        scaled = await stream.next(
            "cluster", lambda c: c["name"] == "flow" and c["workers"]["ready"] == 3 and c["phase"] == "Running", timeout=90
        )
        assert scaled["workers"] == {"desired": 3, "ready": 3, "pending": 0}
        logs = await api.get("clusters/flow/logs", component="worker", tail="20")
        assert len(logs["logs"]) == 3 and all(entry["lines"] for entry in logs["logs"])

        # The dashboard's bokeh page loads through the proxy, and its websocket streams.
        page = await jp_fetch("rapids-kf", "clusters", "flow", "dashboard", "status")
        html = page.body.decode()
        assert "bokeh" in html.lower()
        token = re.search(r'"token":\s*"([^"]+)"', html).group(1)
        ws_url = f"ws://127.0.0.1:{jp_http_port}{jp_base_url}rapids-kf/clusters/flow/dashboard/status/ws"
        ws = await websocket_connect(
            HTTPRequest(ws_url, headers=dict(jp_auth_header)), subprotocols=["bokeh", token]
        )
        first_frame = await asyncio.wait_for(ws.read_message(), 30)
        assert first_frame is not None, "the bokeh server answered nothing through the proxy"
        assert "ACK" in str(first_frame) or "msgtype" in str(first_frame)
        ws.close()

        # Delete: Deleting at once, then a `deleted` event, then 404.
        code, deleting = await api.call("DELETE", "clusters/flow")
        assert code == 202 and deleting["phase"] == "Deleting"
        gone = await stream.next("deleted", lambda d: d["name"] == "flow", timeout=60)
        assert gone == {"name": "flow", "namespace": "local"}
        code, error = await api.call("GET", "clusters/flow")
        assert code == 404 and error["error"]["code"] == "not_found"
        assert (await api.get("clusters"))["clusters"] == []
        # The cluster's processes are gone with it: its scheduler port refuses connections.
        try:
            await asyncio.open_connection("127.0.0.1", int(port))
        except OSError:
            pass
        else:
            raise AssertionError("the scheduler still accepts connections after delete")
