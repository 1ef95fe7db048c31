"""What every route shares: the base handler (auth, JSON bodies, the Error JSON), the event
stream, the dashboard links of kernels' Clients and the 404 of unknown paths under rapids-kf/.

No Kubernetes or Dask code here. Every error a user can cause is a RapidsKFError and becomes
the `Error` object of the API; anything else is reported as `internal` without a traceback.
"""

from __future__ import annotations

import asyncio
import json
from http.client import responses
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.iostream import StreamClosedError

from ..errors import STATUS_CODES, Invalid, NotFound, RapidsKFError, error_json
from ..models.cluster import decode_body

AUTH_RESOURCE = "rapids-kf"
KEEPALIVE_SECONDS = 15.0
NAME = r"(?P<name>[^/]+)"
# Where kernels' Client widgets link their dashboard (DASK_DISTRIBUTED__DASHBOARD__LINK).
DASHBOARD_LINK = "rapids-kf/dashboards/{host}:{port}/status"


class RapidsKFHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def service(self) -> Any:
        """The ClusterService (clusters/service.py) that app.py puts in the settings; typed loosely
        because web/ imports no capability."""
        return self.settings["rapids_kf_service"]

    def json_body(self) -> Any:
        return decode_body(self.request.body or b"")

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(data))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Every 4xx/5xx body is the API's Error object, never a traceback."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, RapidsKFError):
            payload = exc.to_json()
        else:
            message = getattr(exc, "log_message", None) or responses.get(status_code, "error")
            if status_code >= 500:
                message = "internal error in jupyter-rapids-kf; see the Jupyter server log"
            if status_code == 405:
                allowed = self.allowed_methods()
                self.set_header("Allow", ", ".join(allowed))
                message = f"{self.request.method} is not allowed here; allowed: {', '.join(allowed)}"
            payload = error_json(status_code, message)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(payload))

    def allowed_methods(self) -> list[str]:
        return [
            m for m in ("GET", "POST", "PATCH", "DELETE")
            if getattr(type(self), m.lower()) is not web.RequestHandler._unimplemented_method
        ]

    def log_exception(self, typ, value, tb) -> None:  # type: ignore[override]
        if isinstance(value, RapidsKFError):
            self.log.info("rapids-kf: %s %s -> %s %s", self.request.method, self.request.path, value.status, value.message)
            return
        super().log_exception(typ, value, tb)

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, RapidsKFError):
            status_code = exc.status
        super().send_error(status_code, **kwargs)


class EventsHandler(RapidsKFHandler):
    """Server-Sent Events: `clusters` on connect, then `cluster` and `deleted` as they happen."""

    _closed = False

    def on_connection_close(self) -> None:
        self._closed = True

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=UTF-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")  # nginx and ingress must not buffer the stream
        subscription = await self.service.subscribe()
        try:
            self.write("retry: 2000\n\n")
            self.write(subscription.snapshot.encode())
            await self.flush()
            while not self._closed:
                try:
                    event = await subscription.get(KEEPALIVE_SECONDS)
                except asyncio.TimeoutError:
                    self.write(": keepalive\n\n")  # keeps proxies from closing an idle stream
                else:
                    if event is None:
                        break
                    self.write(event.encode())
                await self.flush()
        except StreamClosedError:
            pass
        finally:
            subscription.close()
        if not self._closed:
            self.finish()


class DashboardLinkHandler(RapidsKFHandler):
    """A Client's dashboard link (host:port as the kernel sees it) sent on to its cluster's route.

    Only the dashboards of the user's own clusters are known here; anything else is 404, so the
    link never reaches an arbitrary address."""

    @web.authenticated
    @authorized
    async def get(self, host: str, port: str, path: str | None = None) -> None:
        if path and ".." in path.split("/"):
            raise Invalid("a dashboard path may not contain '..'", field="path")
        await self.service.backend()
        name = self.service.dashboard_owner(host, int(port))
        if name is None:
            raise NotFound(
                f"no cluster of yours has its dashboard at {host}:{port}",
                fix="open the dashboard from the GPU clusters panel, or connect the Client with "
                "the snippet of a cluster listed there",
            )
        where = url_path_join(self.base_url, "rapids-kf/clusters", name, "dashboard", path or "status")
        query = self.request.query
        self.redirect(where + (f"?{query}" if query else ""))


class UnknownPathHandler(RapidsKFHandler):
    """Registered last: any other path under rapids-kf/ is a 404 Error, not Jupyter's HTML page."""

    def _unknown(self) -> None:
        raise NotFound(
            f"no such route: {self.request.path}",
            fix="see the routes in jupyter_rapids_kf/openapi.yaml",
        )

    @web.authenticated
    @authorized
    async def get(self, rest: str | None = None) -> None:
        self._unknown()

    post = put = patch = delete = head = get

    def allowed_methods(self) -> list[str]:
        return []


DASHBOARD_LINKS = r"rapids-kf/dashboards/(?P<host>[^/:@]+):(?P<port>\d{1,5})(?:/(?P<path>.*))?"
# The route of UnknownPathHandler; app.py puts it last in the route table.
UNKNOWN_PATH = r"rapids-kf(?P<rest>/.*)?"
