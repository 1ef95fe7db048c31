"""jupyter-server-proxy's generic /proxy routes reach the user's dashboards and nothing else.

Before this extension narrowed them, `/proxy/<jupyter port>/api/contents` answered from the
Jupyter server itself with the user's token forwarded, a scheduler's comm port was reachable,
and `/proxy/absolute/<jupyter port>/...` made the server proxy to itself until it ran out of
file descriptors. Everything here stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from ..ports import free_port


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def refused(response) -> bool:
    if response.code != 403:
        return False
    error = json.loads(response.body)["error"]
    return error["code"] == "forbidden" and "the proxy does not reach" in error["message"] and error["fix"]


async def dashboard_port(address: str) -> int:
    """The dashboard port a kernel's Client learns from the scheduler."""
    from distributed import Client

    async with Client(address, asynchronous=True) as client:
        return client.scheduler_info()["services"]["dashboard"]


@asynccontextmanager
async def running_cluster(api):
    status, _ = await api.call("POST", "clusters", {"name": "reach", "workers": 1})
    assert status == 202
    try:
        cluster = await api.wait_for("reach", lambda c: c["phase"] == "Running")
        cluster["dashboard_port"] = await dashboard_port(cluster["scheduler"]["address"])
        yield cluster
    finally:
        await api.call("DELETE", "clusters/reach")
        await api.wait_gone("reach")


async def test_the_jupyter_server_itself_is_refused_without_a_loop(raw_get, jp_base_url, jp_http_port):
    before = open_fds()
    for path in [
        f"proxy/{jp_http_port}/api/contents",
        f"proxy/absolute/{jp_http_port}/api/status",
        f"proxy/localhost:{jp_http_port}/api/kernels",
        f"proxy/absolute/127.0.0.1:{jp_http_port}/api/status",
        f"proxy/%6cocalhost:{jp_http_port}/api/status",  # tornado unquotes the host
    ]:
        response = await asyncio.wait_for(raw_get(f"{jp_base_url}{path}"), 10)
        assert refused(response), (path, response.code, response.body[:200])
        assert b"contents" not in response.body and b"kernels" not in response.body
    assert "this Jupyter server itself" in json.loads(response.body)["error"]["message"]
    assert open_fds() < before + 20, "refusals must not open connections"


async def test_only_the_dashboard_port_of_a_cluster_is_reachable(raw_get, jp_base_url, api):
    async with running_cluster(api) as running:
        port = running["dashboard_port"]
        for path in [f"proxy/{port}/status", f"proxy/127.0.0.1:{port}/status"]:
            response = await raw_get(f"{jp_base_url}{path}")
            assert response.code == 200, (path, response.code)
            assert b"bokeh" in response.body.lower() or b"dask" in response.body.lower()
        # An absolute route passes its own path on: the dashboard answers (404), we do not refuse.
        response = await raw_get(f"{jp_base_url}proxy/absolute/{port}/status")
        assert response.code == 404 and not refused(response)
        comm_port = urlsplit(running["scheduler"]["address"]).port
        response = await raw_get(f"{jp_base_url}proxy/{comm_port}/")
        assert refused(response), "a scheduler's comm port is not a dashboard"
        assert "not the dashboard of one of your clusters" in json.loads(response.body)["error"]["message"]


async def test_a_websocket_upgrade_to_a_refused_port_is_refused(jp_fetch, jp_http_port, jp_base_url, jp_auth_header):
    from tornado.websocket import WebSocketClosedError, websocket_connect
    from tornado.httpclient import HTTPClientError

    url = f"ws://127.0.0.1:{jp_http_port}{jp_base_url}proxy/{jp_http_port}/api/kernels/x/channels"
    with pytest.raises((HTTPClientError, WebSocketClosedError)) as err:
        await websocket_connect(HTTPRequest(url, headers=dict(jp_auth_header)))
    assert getattr(err.value, "code", 403) == 403


async def test_a_kernels_dashboard_link_opens_through_the_extension(raw_get, jp_base_url, jp_http_port, api):
    async with running_cluster(api) as running:
        template = os.environ["DASK_DISTRIBUTED__DASHBOARD__LINK"]
        assert template == f"{jp_base_url}rapids-kf/dashboards/{{host}}:{{port}}/status"
        port = running["dashboard_port"]
        # What distributed.utils.format_dashboard_link makes of it in a kernel's Client.
        link = template.format(host="127.0.0.1", port=port)
        response = await raw_get(link, follow_redirects=False)
        assert response.code == 302
        assert response.headers["Location"] == f"{jp_base_url}rapids-kf/clusters/reach/dashboard/status"
        page = await raw_get(link)
        assert page.code == 200 and b"bokeh" in page.body.lower()

        for other in (jp_http_port, urlsplit(running["scheduler"]["address"]).port):
            response = await raw_get(template.format(host="127.0.0.1", port=other))
            assert response.code == 404 and json.loads(response.body)["error"]["code"] == "not_found"
        response = await raw_get(f"{jp_base_url}rapids-kf/dashboards/127.0.0.1:{port}/../../api/status")
        assert response.code in (400, 404)


class _Hello(RequestHandler):
    def get(self, *args):
        self.write("hello from another tool")


class TestAdminOpensTheGenericProxy:
    """`c.RapidsKF.configure_proxy_allowlist = False`: other tools' ports work, the server's own does not."""

    @pytest.fixture
    def rapids_kf_config(self):
        return {"backend": "local", "stop_local_clusters_on_exit": True, "configure_proxy_allowlist": False}

    async def test_other_ports_are_reached_but_never_the_server_itself(self, raw_get, jp_base_url, jp_http_port):
        port = free_port()
        server = HTTPServer(Application([(r"/.*", _Hello)]))
        server.listen(port, "127.0.0.1")
        try:
            response = await raw_get(f"{jp_base_url}proxy/{port}/")
            assert response.code == 200 and b"another tool" in response.body
            response = await raw_get(f"{jp_base_url}proxy/absolute/{jp_http_port}/api/status")
            assert refused(response)
        finally:
            server.stop()


async def test_dashboard_writes_need_xsrf_like_the_api(jp_fetch, jp_http_port, jp_base_url, api):
    async with running_cluster(api) as running:
        login = await jp_fetch("rapids-kf", "environment")
        cookie = "; ".join(c.split(";")[0] for c in login.headers.get_list("Set-Cookie"))
        client = AsyncHTTPClient(force_instance=True)
        url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}rapids-kf/clusters/reach/dashboard/api/v1/retire_workers"
        body = json.dumps({"n": 1}).encode()

        read = await client.fetch(
            HTTPRequest(url.replace("api/v1/retire_workers", "status"), headers={"Cookie": cookie}), raise_error=False
        )
        assert read.code == 200, "a logged-in browser can read the dashboard"
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            forged = await client.fetch(
                HTTPRequest(url, method=method, body=None if method == "DELETE" else body, headers={"Cookie": cookie}),
                raise_error=False,
            )
            assert forged.code == 403, (method, forged.code)
            assert json.loads(forged.body)["error"]["code"] == "forbidden"

        xsrf = "2|abcdef12|0123456789abcdef0123456789abcdef|1795968389"
        allowed = await client.fetch(
            HTTPRequest(url, method="POST", body=body, headers={"Cookie": f"{cookie}; _xsrf={xsrf}", "X-XSRFToken": xsrf}),
            raise_error=False,
        )
        # It reached the scheduler's own HTTP server, which serves no /api/v1 routes for a
        # local cluster and answers with tornado's bare 404 page (our proxy's refusal would be
        # a JSON 403, our unknown-route answer a JSON 404).
        assert allowed.code == 404, (allowed.code, allowed.body[:300])
        assert allowed.body == b"<html><title>404: Not Found</title><body>404: Not Found</body></html>"


