"""Every way into a dashboard (ours and jupyter-server-proxy's generic routes) on a token server.

- A write that carries only the login cookie is refused (403, the Error JSON), one with the XSRF
  token or the user's token goes on to the dashboard; a websocket upgrade from another site with
  the cookie only is refused.
- Any method with or without a body is forwarded as it came, and the dashboard answers it: before,
  a PATCH without a body (or a GET, DELETE, OPTIONS with one) was a 500 "unavailable" on our route
  and a 500 HTML page on the generic one.
"""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from .test_generic_proxy import running_cluster

EVIL = "http://evil.example"


def routes(jp_base_url: str, cluster: dict) -> list[str]:
    port = cluster["dashboard_port"]
    return [
        f"{jp_base_url}rapids-kf/clusters/reach/dashboard/",
        f"{jp_base_url}proxy/{port}/",
        f"{jp_base_url}proxy/127.0.0.1:{port}/",
    ]


async def login_cookie(jp_fetch) -> str:
    login = await jp_fetch("rapids-kf", "environment")
    return "; ".join(c.split(";")[0] for c in login.headers.get_list("Set-Cookie"))


async def test_generic_routes_refuse_cookie_only_writes_and_cross_site_websockets(
    jp_fetch, jp_http_port, jp_base_url, jp_auth_header, api
):
    client = AsyncHTTPClient(force_instance=True)
    async with running_cluster(api) as cluster:
        cookie = await login_cookie(jp_fetch)
        token = dict(jp_auth_header)
        for base in routes(jp_base_url, cluster):
            url = f"http://127.0.0.1:{jp_http_port}{base}api/v1/retire_workers"
            for method in ("POST", "PUT", "PATCH", "DELETE"):
                body = None if method == "DELETE" else b'{"n": 1}'
                forged = await client.fetch(
                    HTTPRequest(url, method=method, body=body, headers={"Cookie": cookie}), raise_error=False
                )
                assert forged.code == 403, (base, method, forged.code, forged.body[:200])
                error = json.loads(forged.body)["error"]
                assert error["code"] == "forbidden" and "_xsrf" in error["message"], (base, method, error)
            xsrf = "2|abcdef12|0123456789abcdef0123456789abcdef|1795968389"
            for headers in ({"Cookie": f"{cookie}; _xsrf={xsrf}", "X-XSRFToken": xsrf}, token):
                allowed = await client.fetch(
                    HTTPRequest(url, method="POST", body=b'{"n": 0}', headers=headers), raise_error=False
                )
                # The local scheduler serves no /api/v1: its own 404 page says the request got there.
                assert allowed.code == 404 and allowed.body.startswith(b"<html><title>404"), (base, allowed.body[:200])

            ws_url = f"ws://127.0.0.1:{jp_http_port}{base}status/ws"
            with pytest.raises(HTTPClientError) as refused:
                await websocket_connect(HTTPRequest(ws_url, headers={"Cookie": cookie, "Origin": EVIL}))
            assert refused.value.code == 403, base
            # A token is no ambient credential: a script may send it from anywhere, as Jupyter allows.
            ws = await websocket_connect(HTTPRequest(ws_url, headers={**token, "Origin": EVIL}))
            ws.close()


# (method, body, what the dashboard itself answers)
CASES = [
    ("PATCH", None, 405),  # it has no PATCH: its own 405
    ("GET", b"x", 200),
    ("DELETE", b"x", 405),
    ("OPTIONS", b"x", 405),
    ("POST", None, 405),
]


async def test_any_method_with_or_without_a_body_is_forwarded_not_a_500(
    jp_fetch, jp_http_port, jp_base_url, jp_auth_header, api
):
    client = AsyncHTTPClient(force_instance=True)
    async with running_cluster(api) as cluster:
        for base in routes(jp_base_url, cluster):
            for method, body, expected in CASES:
                request = HTTPRequest(
                    f"http://127.0.0.1:{jp_http_port}{base}status", method=method, body=body,
                    headers=dict(jp_auth_header), allow_nonstandard_methods=True,
                )
                response = await client.fetch(request, raise_error=False)
                assert response.code == expected, (base, method, response.code, response.body[:300])
