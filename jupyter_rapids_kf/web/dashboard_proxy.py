"""The Dask dashboard of one cluster, proxied at rapids-kf/clusters/{name}/dashboard/{path}.

The target comes only from the backend's own record of the cluster, so this route can reach
the user's clusters and nothing else: it is never an open proxy. HTTP and websockets (bokeh
streams over a websocket) both go through jupyter-server-proxy's ProxyHandler, with the XSRF,
origin and body handling of proxy_guard.py in front.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from jupyter_server.utils import url_path_join
from jupyter_server_proxy.handlers import ProxyHandler
from tornado import web
from tornado.httpclient import HTTPClientError

from ..errors import RapidsKFError, Unavailable
from .proxy_guard import DashboardGuard

# What jupyter-server-proxy's buffered HTTP path raises when the dashboard does not answer: the
# connection refused or reset (OSError), a timeout (599), or any other transport error (500).
_NOT_ANSWERING = (500, 599)


class DashboardProxyHandler(DashboardGuard, ProxyHandler):
    """Resolves the cluster name to its dashboard, then proxies like /proxy/<host>:<port>."""

    async def _target(self, name: str) -> tuple[str, int]:
        service = self.settings["rapids_kf_service"]
        url = urlsplit(await service.dashboard_target(name))
        host, port = url.hostname or "", url.port or 80
        # Exactly this host: ProxyHandler refuses any other.
        self.host_allowlist = [host]
        self.proxy_base = url_path_join("rapids-kf/clusters", name, "dashboard")
        return host, port

    async def _forward(self, name: str, proxied_path: str | None):
        if self.request.method == "GET" and not (proxied_path or "").strip("/"):
            # The dashboard's root redirects to an absolute /status; go there within the proxy.
            return self.redirect(url_path_join(self.request.path, "status"))
        try:
            host, port = await self._target(name)
        except RapidsKFError as err:
            return self._refuse(err)
        try:
            return await self.proxy(host, port, proxied_path or "")
        except (OSError, HTTPClientError) as err:
            return self._refuse(self._not_answering(name, err))
        except web.HTTPError as err:
            if err.status_code not in _NOT_ANSWERING or self._headers_written:
                raise
            return self._refuse(self._not_answering(name, err))

    def _not_answering(self, name: str, err: Exception) -> Unavailable:
        self.log.info("rapids-kf: dashboard of %s not reachable: %s", name, err)
        return Unavailable(
            f"the dashboard of {name!r} is not answering ({err.__class__.__name__}): its scheduler "
            "has stopped, is restarting or is being deleted",
            fix="look at the cluster's phase and scheduler logs in the GPU clusters panel; "
            "if it failed, delete it and create it again",
        )

    def _refuse(self, err: RapidsKFError) -> None:
        self.set_status(err.status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(err.to_json()))

    @web.authenticated
    async def http_get(self, name: str, proxied_path: str | None = None):
        return await self._forward(name, proxied_path)

    @web.authenticated
    async def post(self, name: str, proxied_path: str | None = None):
        return await self._forward(name, proxied_path)

    @web.authenticated
    async def put(self, name: str, proxied_path: str | None = None):
        return await self._forward(name, proxied_path)

    @web.authenticated
    async def delete(self, name: str, proxied_path: str | None = None):
        return await self._forward(name, proxied_path)

    @web.authenticated
    async def head(self, name: str, proxied_path: str | None = None):
        return await self._forward(name, proxied_path)

    @web.authenticated
    async def patch(self, name: str, proxied_path: str | None = None):
        return await self._forward(name, proxied_path)

    @web.authenticated
    async def options(self, name: str, proxied_path: str | None = None):
        return await self._forward(name, proxied_path)

    async def open(self, name: str, proxied_path: str | None = None):
        # Authentication of websocket upgrades is enforced in ProxyHandler.prepare (403).
        try:
            host, port = await self._target(name)
        except RapidsKFError:
            self.close(code=1008, reason="no such dashboard")
            return
        try:
            return await self.proxy_open(host, port, proxied_path or "")
        except (OSError, HTTPClientError) as err:
            # The scheduler went away (cluster deleted or restarting): a clean close lets
            # bokeh retry quietly instead of logging a traceback here.
            self.log.info("rapids-kf: dashboard of %s not reachable: %s", name, err)
            self.close(code=1011, reason="the dashboard is not reachable")

    # ProxyHandler routes GET through WebSocketHandlerMixin.get; keep its auth marker visible.
    get = web.authenticated(ProxyHandler.get)
