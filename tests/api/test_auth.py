"""Every route of the extension requires Jupyter authentication; writes need XSRF."""

from __future__ import annotations

import json
import re

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from jupyter_server.base.handlers import APIHandler
from tornado.web import RequestHandler

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS")


def extension_routes(web_app) -> list[tuple[str, type]]:
    """(pattern, handler) for every route this extension registered."""
    routes = []
    for rule in web_app.default_router.rules + web_app.wildcard_router.rules:
        for inner in getattr(rule.target, "rules", [rule]):
            handler = inner.target
            if not hasattr(inner.matcher, "regex"):
                continue  # the generic-proxy guard refuses and never serves (test_generic_proxy.py)
            if isinstance(handler, type) and handler.__module__.startswith("jupyter_rapids_kf"):
                routes.append((inner.matcher.regex.pattern, handler))
    return routes


def concrete_path(pattern: str) -> str:
    path = pattern.rstrip("$")
    path = re.sub(r"\(\?P<name>[^)]*\)", "some-cluster", path)
    path = re.sub(r"\(\?:/\(\?P<proxied_path>[^)]*\)\)\?", "/status", path)
    path = re.sub(r"\(\?P<host>[^)]*\):\(\?P<port>[^)]*\)", "127.0.0.1:8787", path)
    path = re.sub(r"\(\?:/\(\?P<path>[^)]*\)\)\?", "/status", path)
    path = re.sub(r"\(\?P<rest>[^)]*\)\?", "/no-such-route", path)
    return path.replace("\\", "")


def implemented(handler: type) -> list[str]:
    return [m for m in METHODS if getattr(handler, m.lower()) is not RequestHandler._unimplemented_method]


def test_every_route_is_found_and_declares_authentication(jp_serverapp):
    routes = extension_routes(jp_serverapp.web_app)
    names = {h.__name__ for _, h in routes}
    assert {"EnvironmentHandler", "ClustersHandler", "ClusterHandler", "SnippetHandler",
            "LogsHandler", "EventsHandler", "DashboardProxyHandler", "DashboardLinkHandler",
            "UnknownPathHandler"} <= names
    # The same check Jupyter Server runs at start-up (it only warns); here it fails the build.
    missing = []
    for pattern, handler in routes:
        missing += jp_serverapp.web_app._check_handler_auth(pattern, handler)
    assert missing == []


async def test_unauthenticated_requests_are_refused_on_every_route(jp_serverapp, jp_fetch, jp_http_port, jp_base_url):
    client = AsyncHTTPClient(force_instance=True)
    checked = 0
    for pattern, handler in extension_routes(jp_serverapp.web_app):
        for method in implemented(handler):
            url = f"http://127.0.0.1:{jp_http_port}{concrete_path(pattern)}"
            body = b"{}" if method in ("POST", "PATCH", "PUT") else None
            response = await client.fetch(
                HTTPRequest(url, method=method, body=body, follow_redirects=False, request_timeout=10),
                raise_error=False,
            )
            if method == "OPTIONS" and handler.options is APIHandler.options:
                # Jupyter's CORS preflight answers anyone, with no data.
                assert not response.body
                continue
            assert response.code in (403, 302), f"{method} {url} answered {response.code} without a token"
            if response.code == 302:  # a page (the dashboard): the browser is sent to log in, nothing else
                assert response.headers["Location"].startswith(f"{jp_base_url}login?next="), response.headers
                assert response.body == b""
            elif method == "HEAD":
                assert response.body == b""
            else:  # an API route: the Error object, and no data of any cluster
                error = json.loads(response.body)["error"]
                assert json.loads(response.body) == {"error": error} and error["code"] == "forbidden", response.body
                assert set(error) == {"code", "message"}
                if method in ("POST", "PATCH", "PUT", "DELETE"):
                    assert "_xsrf" in error["message"], error  # a write without XSRF is named so
            checked += 1
    assert checked >= 12


async def test_writes_with_a_login_cookie_need_the_xsrf_token(jp_fetch, jp_http_port, jp_base_url, api):
    # A token request logs the browser in: the answer sets the user's cookie.
    login = await jp_fetch("rapids-kf", "environment")
    cookies = [c.split(";")[0] for c in login.headers.get_list("Set-Cookie")]
    assert cookies, "the server did not set a login cookie"
    cookie = "; ".join(cookies)
    client = AsyncHTTPClient(force_instance=True)
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}rapids-kf/clusters"

    read = await client.fetch(HTTPRequest(url, headers={"Cookie": cookie}), raise_error=False)
    assert read.code == 200, "a logged-in browser can read"

    forged = await client.fetch(
        HTTPRequest(url, method="POST", body=b'{"name": "xsrf"}', headers={"Cookie": cookie}), raise_error=False
    )
    assert forged.code == 403, "a cross-site POST with only the cookie must be refused"
    assert (await api.get("clusters"))["clusters"] == []

    xsrf = "2|abcdef12|0123456789abcdef0123456789abcdef|1795968389"
    allowed = await client.fetch(
        HTTPRequest(
            url, method="POST", body=b'{"name": "xsrf", "workers": 0}',
            headers={"Cookie": f"{cookie}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
        ),
        raise_error=False,
    )
    assert allowed.code == 202, allowed.body
    await api.call("DELETE", "clusters/xsrf")
    await api.wait_gone("xsrf")
