"""jupyter-server-proxy's generic routes (`/proxy/...`), narrowed to this user's dashboards.

jupyter-server-proxy serves `/proxy/<port>/` and `/proxy/absolute/<port>/` for any loopback port
without asking its host allowlist, and forwards the user's token. So the Jupyter server's own API
answers through it, a scheduler's comm port is reachable, and a request to the server's own port
makes it proxy to itself again and again until it runs out of file descriptors.

A rule placed before every other route of the server refuses each generic-proxy request whose
target is not the dashboard of one of the user's clusters; what it allows goes on to
jupyter-server-proxy unchanged. The server's own port is refused whatever an admin allows, so a
loop cannot start. `c.RapidsKF.configure_proxy_allowlist = False` leaves the rest to
jupyter-server-proxy (for admins who use it for other tools, docs/admin.md).

jupyter-server-proxy's handler also leaves XSRF to the proxied app, and lets a cross-site
websocket through where `allow_origin` is `*` (KubeFlow). A request whose target is the dashboard
of one of the user's clusters is therefore served by jupyter-server-proxy's own handler with the
checks of proxy_guard.py mixed in, exactly as on rapids-kf/clusters/<name>/dashboard/.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
from typing import Any, Callable
from urllib.parse import unquote

from tornado.routing import Matcher, Router, Rule
from tornado.web import RequestHandler

from .proxy_guard import DashboardGuard

log = logging.getLogger(__name__)

# The targets of jupyter-server-proxy's four generic routes, after `<base_url>proxy/`.
_TARGET = re.compile(r"(?:absolute/)?(?:(?P<host>[^/:@]+):)?(?P<port>\d+)(?:/|$)")

Allows = Callable[[str, int], bool]


def is_loopback(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host in ("localhost", "0.0.0.0") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def admin_allowlist(serverapp: Any) -> bool:
    """Whether the admin configured ServerProxy.host_allowlist (or the old host_whitelist)."""
    section = serverapp.config.get("ServerProxy", {}) if serverapp is not None else {}
    return "host_allowlist" in section or "host_whitelist" in section


def target(path: str, prefix: str) -> tuple[str, int] | None:
    """(host, port) a generic-proxy path asks for, or None for any other path."""
    if not path.startswith(prefix):
        return None
    match = _TARGET.match(path[len(prefix) :])
    if match is None:
        return None
    # tornado unquotes path arguments before jupyter-server-proxy sees them: do the same.
    return unquote(match["host"] or "localhost"), int(match["port"])


class Policy:
    """Which generic-proxy targets may be reached."""

    def __init__(
        self,
        serverapp: Any,
        dashboard_owner: Callable[[str, int], str | None],
        restrict: bool,
        admin_hosts: bool,
    ):
        self._serverapp = serverapp
        self._dashboard_owner = dashboard_owner
        self.restrict = restrict
        self.admin_hosts = admin_hosts  # the admin set ServerProxy.host_allowlist for other hosts

    def _is_this_server(self, host: str, port: int) -> bool:
        if port != getattr(self._serverapp, "port", None):
            return False
        own = {str(getattr(self._serverapp, "ip", "") or "").lower(), socket.gethostname().lower()}
        return is_loopback(host) or host.lower().rstrip(".") in own

    def dashboard_of(self, host: str, port: int) -> str | None:
        """The name of the user's cluster whose dashboard this is, else None."""
        return self._dashboard_owner(host, port)

    def why_refused(self, host: str, port: int) -> str | None:
        if self._is_this_server(host, port):
            return f"{host}:{port} is this Jupyter server itself"
        if not self.restrict:
            return None
        if not is_loopback(host) and self.admin_hosts:
            return None  # jupyter-server-proxy applies the admin's own allowlist
        if self._dashboard_owner(host, port) is not None:
            return None
        return f"{host}:{port} is not the dashboard of one of your clusters"


class RefusedProxyHandler(RequestHandler):
    """Answers a refused generic-proxy request, for every method and websocket upgrades alike."""

    def initialize(self, policy: Policy) -> None:
        self.policy = policy

    def check_xsrf_cookie(self) -> None:
        """Nothing is forwarded, so a refusal needs no XSRF token."""

    def prepare(self) -> None:
        host, port = self.path_kwargs["host"], int(self.path_kwargs["port"])
        reason = self.policy.why_refused(host, port) or "refused"
        log.info("rapids-kf: generic proxy to %s:%s refused: %s", host, port, reason)
        self.set_status(403)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(
            json.dumps(
                {
                    "error": {
                        "code": "forbidden",
                        "message": f"the proxy does not reach {host}:{port}: {reason}",
                        "fix": "open a cluster's dashboard from the GPU clusters panel "
                        "(rapids-kf/clusters/<name>/dashboard/status); an administrator can open "
                        "the generic proxy with c.RapidsKF.configure_proxy_allowlist = False",
                    }
                }
            )
        )


class _GenericRoute(Matcher):
    """A generic-proxy path (`target`) that `policy` decides about; subclasses say which."""

    def __init__(self, prefix: str, policy: Policy):
        self.prefix = prefix
        self.policy = policy


class _Refused(_GenericRoute):
    def match(self, request: Any) -> dict[str, Any] | None:
        asked = target(request.path, self.prefix)
        if asked is None or self.policy.why_refused(*asked) is None:
            return None  # not a generic-proxy path, or allowed: the next rules decide
        host, port = asked
        return {"path_args": [], "path_kwargs": {"host": host, "port": str(port)}}


class _Dashboard(_GenericRoute):
    """A generic-proxy request to the dashboard of one of the user's clusters."""

    def match(self, request: Any) -> dict[str, Any] | None:
        asked = target(request.path, self.prefix)
        if asked is None or self.policy.why_refused(*asked) is not None:
            return None
        return {} if self.policy.dashboard_of(*asked) is not None else None


_guarded: dict[type, type] = {}


def guarded(handler: type) -> type:
    """`handler` (one of jupyter-server-proxy's) with the dashboard checks in front."""
    if handler not in _guarded:
        _guarded[handler] = type(f"Dashboard{handler.__name__}", (DashboardGuard, handler), {})
    return _guarded[handler]


class _ProxyWithChecks(Router):
    """Finds the jupyter-server-proxy route the request would take, and serves it guarded."""

    def __init__(self, web_app: Any):
        self.web_app = web_app

    def _proxy_rules(self, rules: list[Rule]):
        from jupyter_server_proxy.handlers import LocalProxyHandler, RemoteProxyHandler

        for rule in rules:
            inner = getattr(rule.target, "rules", None)
            if inner is not None:
                yield from self._proxy_rules(inner)
            elif rule.target in (LocalProxyHandler, RemoteProxyHandler):
                yield rule

    def find_handler(self, request: Any, **kwargs: Any) -> Any:
        for rule in self._proxy_rules(self.web_app.default_router.rules):
            match = rule.matcher.match(request)
            if match is not None:
                return self.web_app.get_handler_delegate(
                    request, guarded(rule.target), rule.target_kwargs,
                    match.get("path_args"), match.get("path_kwargs"),
                )
        return None  # not one of its generic routes after all: the next rules decide


def install(web_app: Any, base_url: str, policy: Policy) -> None:
    """Put the refusal, then the dashboards' checks, in front of every route of the server."""
    prefix = base_url.rstrip("/") + "/proxy/"
    rule = Rule(_Refused(prefix, policy), RefusedProxyHandler, {"policy": policy})
    web_app.default_router.rules.insert(0, rule)
    web_app.default_router.rules.insert(1, Rule(_Dashboard(prefix, policy), _ProxyWithChecks(web_app)))
