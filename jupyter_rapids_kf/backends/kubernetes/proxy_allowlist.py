"""jupyter-server-proxy's `/proxy/<host>:<port>/...`, opened to exactly this user's dashboards.

The old recipe `c.ServerProxy.host_allowlist = lambda handler, host: True` turns the notebook
into an open proxy into the cluster network. Here the allowlist is a callable that allows the
scheduler Services of the clusters in the user's namespace, on the dashboard port only (loopback
ports are narrowed by generic_proxy.py). An admin's own `ServerProxy.host_allowlist`
is left alone.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

from ...web.generic_proxy import admin_allowlist

log = logging.getLogger(__name__)

DASHBOARD_PORT = 8787
LOCAL_HOSTS = ("localhost", "127.0.0.1")  # jupyter-server-proxy's default allowlist


class SchedulerAllowlist:
    """`host_allowlist(handler, host)`: is `host` the scheduler of one of our clusters?"""

    def __init__(self, namespace: str, cluster_names: Callable[[], Iterable[str]]):
        self.namespace = namespace
        self._cluster_names = cluster_names

    def cluster_of(self, host: str) -> str | None:
        """The cluster whose scheduler Service `host` names, in any of its DNS forms."""
        host = host.lower().rstrip(".")
        for suffix in (f".{self.namespace}.svc.cluster.local", f".{self.namespace}.svc", f".{self.namespace}", ""):
            if suffix and not host.endswith(suffix):
                continue
            service = host[: len(host) - len(suffix)] if suffix else host
            if "." in service or not service.endswith("-scheduler"):
                continue
            name = service[: -len("-scheduler")]
            if name and name in set(self._cluster_names()):
                return name
            return None
        return None

    def allows(self, host: str, port: int | str | None) -> bool:
        if host in LOCAL_HOSTS:
            return True
        if port is not None and str(port) != str(DASHBOARD_PORT):
            return False
        return self.cluster_of(host) is not None

    def __call__(self, handler: Any, host: str) -> bool:
        # jupyter-server-proxy passes only the host; the port is the route's second group.
        args = getattr(handler, "path_args", None) or []
        port = args[1] if len(args) > 1 else None
        allowed = self.allows(host, port)
        if not allowed:
            log.info("rapids-kf: proxy to %s:%s refused (not a dashboard of this namespace)", host, port)
        return allowed


def _proxy_rules(router: Any, seen: set[int] | None = None) -> Iterable[Any]:
    seen = seen if seen is not None else set()
    if id(router) in seen:
        return
    seen.add(id(router))
    for rule in getattr(router, "rules", []) or []:
        target = getattr(rule, "target", None)
        if isinstance(target, type):
            if target.__name__ == "RemoteProxyHandler":
                yield rule
        elif target is not None:
            yield from _proxy_rules(target, seen)


def install(serverapp: Any, allowlist: SchedulerAllowlist) -> str:
    """Point jupyter-server-proxy's remote routes at `allowlist`; says what was done."""
    if serverapp is None:
        return "not configured (no Jupyter server)"
    if admin_allowlist(serverapp):
        return "left as the administrator set it (ServerProxy.host_allowlist)"
    web_app = getattr(serverapp, "web_app", None)
    rules = list(_proxy_rules(getattr(web_app, "default_router", None))) if web_app is not None else []
    if not rules:
        return "jupyter-server-proxy is not loaded: /proxy/<host>:<port> is not served"
    for rule in rules:
        rule.target_kwargs["host_allowlist"] = allowlist
    log.info("rapids-kf: jupyter-server-proxy may reach the dashboards of namespace %s only", allowlist.namespace)
    return f"/proxy/<host>:{DASHBOARD_PORT} reaches only the schedulers of clusters in namespace {allowlist.namespace}"
