"""What every route that reaches a Dask dashboard adds to jupyter-server-proxy's ProxyHandler.

Both ways into a dashboard use it: this extension's `rapids-kf/clusters/<name>/dashboard/...`
(dashboard_proxy.py) and jupyter-server-proxy's generic `proxy/...` routes when their target is the
dashboard of one of the user's clusters (generic_proxy.py).

- Writes need Jupyter's XSRF token or a token login, as the REST API does: jupyter-server-proxy
  turns the XSRF check off (it leaves it to the proxied app; the Dask dashboard has none, and its
  HTTP API retires workers).
- A request that the browser sends on its own from another site, carrying only the user's
  cookies, is refused: its Origin must be this server's own Host, for writes and for websocket
  upgrades, whatever `ServerApp.allow_origin` says. KubeFlow starts Jupyter with
  `allow_origin='*'`, which turns Jupyter's own check off. Requests that the identity provider
  says need no origin check (a token login: a token is no ambient credential) are let through,
  as Jupyter does.
- A request is forwarded with the body it came with: jupyter-server-proxy's HTTP client
  refuses a PATCH without a body or a GET, DELETE or OPTIONS with one (a 500 before).
- Errors are the API's Error object, with the code that belongs to the status. A 5xx of the
  dashboard itself (distributed 2026.11.0's `/sitemap.json` raises a KeyError) becomes a 502
  `unavailable` that says so, instead of tornado's bare HTML page.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from jupyter_server.base.handlers import JupyterHandler
from tornado import web
from tornado.httputil import HTTPHeaders

from ..errors import error_json


def dashboard_failure(response: Any, path: str) -> None:
    """A rewrite_response function of jupyter-server-proxy: the dashboard's own 5xx, in words."""
    if response.code < 500:
        return
    message = (
        f"the Dask dashboard failed on /{path.lstrip('/')} ({response.code} {response.reason}): an "
        "error of the dashboard itself, not of this proxy; other dashboard pages still work"
    )
    response.code, response.reason = 502, "Bad Gateway"
    response.headers = HTTPHeaders({"Content-Type": "application/json; charset=UTF-8"})
    body = error_json(502, message)
    body["error"]["fix"] = "see the scheduler's log (Logs in the GPU clusters panel)"
    response.body = json.dumps(body).encode()


class DashboardGuard:
    """Mixed in before jupyter-server-proxy's ProxyHandler (or a subclass of it)."""

    request: Any
    log: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        rewrites = self.rewrite_response  # type: ignore[has-type]
        rewrites = list(rewrites) if isinstance(rewrites, (list, tuple)) else [rewrites]
        self.rewrite_response = [*rewrites, dashboard_failure]

    def cross_site_origin(self) -> str | None:
        """The Origin of a request from another site that relies on cookies, else None."""
        if self.skip_check_origin():  # type: ignore[attr-defined]
            return None
        origin = self.request.headers.get("Origin")
        if origin is None:
            # Not sent by a browser on its own from another site: browsers send Origin with every
            # websocket upgrade and every cross-site write (and XSRF still guards writes).
            return None
        host = self.request.headers.get("Host", "")
        if host and urlsplit(origin.strip().lower()).netloc == host.strip().lower():
            return None
        return origin

    def check_origin(self, origin: str | None = None) -> bool:
        """Websocket upgrades (tornado answers 403 when this is False)."""
        foreign = self.cross_site_origin()
        if foreign is not None:
            self.log.warning(
                "rapids-kf: cross-site websocket to %s refused (Origin %s, Host %s)",
                self.request.path, foreign, self.request.headers.get("Host"),
            )
        return foreign is None

    def check_xsrf_cookie(self) -> None:
        """HTTP writes: called by Jupyter's prepare for every method but GET, HEAD and OPTIONS."""
        if not hasattr(self, "_jupyter_current_user"):
            return None  # too early; Jupyter's prepare calls it again once the user is known
        foreign = self.cross_site_origin()
        if foreign is not None:
            raise web.HTTPError(
                403, f"a request from another site ({foreign}) may not change a Dask dashboard"
            )
        return JupyterHandler.check_xsrf_cookie(self)  # type: ignore[arg-type]

    def proxy_request_options(self) -> dict[str, Any]:
        options = super().proxy_request_options()  # type: ignore[misc]
        # Forward the method with the body it came with (or without one), as it came.
        return dict(options, allow_nonstandard_methods=True)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "log_message", None)
        if status_code >= 500 and status_code != 503 or not message:
            message = (
                "internal error in the dashboard proxy; see the Jupyter server log"
                if status_code >= 500 else "the dashboard proxy refused the request"
            )
        self.set_header("Content-Type", "application/json; charset=UTF-8")  # type: ignore[attr-defined]
        self.finish(json.dumps(error_json(status_code, message)))  # type: ignore[attr-defined]
