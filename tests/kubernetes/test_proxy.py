"""Dashboards: only the schedulers of the user's clusters are reachable, and nothing else.

No request goes to a cluster host: refused hosts stop at the allowlist (403), and the one
allowed request is redirected to a dashboard stand-in on 127.0.0.1.
"""

from __future__ import annotations

import json
import socket

import pytest
from jupyter_server_proxy.handlers import ProxyHandler, RemoteProxyHandler
from tornado import httpserver, web

from jupyter_rapids_kf.backends.kubernetes.proxy_allowlist import SchedulerAllowlist

from . import fake_operator

NS = "kubeflow-user"


@pytest.fixture
def jp_server_config(rapids_kf_config):
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_rapids_kf": True, "jupyter_server_proxy": True,
                                    "jupyter_server_terminals": False},
            "allow_unauthenticated_access": False,
        },
        "RapidsKF": rapids_kf_config,
    }


class Dashboard(web.RequestHandler):
    def get(self, path):
        if path == "sitemap.json":  # as distributed's own raises a KeyError there
            raise KeyError("path")
        self.finish(f"dask dashboard stand-in: /{path}")


@pytest.fixture
def dashboard():
    """A stand-in for a scheduler's dashboard on 127.0.0.1."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    server = httpserver.HTTPServer(web.Application([(r"/(.*)", Dashboard)]))
    server.add_sockets([sock])
    yield sock.getsockname()[1]
    server.stop()


def test_allowlist_accepts_every_dns_form_of_our_schedulers_only():
    allow = SchedulerAllowlist(NS, lambda: {"gpu-etl"})
    for host in ("gpu-etl-scheduler", f"gpu-etl-scheduler.{NS}", f"gpu-etl-scheduler.{NS}.svc",
                 f"gpu-etl-scheduler.{NS}.svc.cluster.local", "GPU-ETL-SCHEDULER"):
        assert allow.allows(host, 8787), host
    for host, port in [
        ("gpu-etl-scheduler", 8786),  # the comm port is not a dashboard
        ("gpu-etl-scheduler", 22),
        ("other-scheduler", 8787),  # not a cluster of this user
        ("gpu-etl-scheduler.someone-else", 8787),  # same name, other namespace
        (f"gpu-etl-scheduler.{NS}.svc.evil.example", 8787),
        ("kubernetes.default.svc", 443),
        ("10.0.0.1", 8787),
        ("169.254.169.254", 80),
        ("gpu-etl", 8787),
    ]:
        assert not allow.allows(host, port), (host, port)
    assert allow.allows("localhost", 8888)  # jupyter-server-proxy's own default stays


@pytest.fixture
def proxy_get(http_server_client, jp_base_url, jp_auth_header):
    """GET /proxy/<host>:<port>/<path> unescaped (jp_fetch would escape the colon)."""

    async def get(target: str, path: str = "status"):
        url = f"{jp_base_url.rstrip('/')}/proxy/{target}/{path}"
        return await http_server_client.fetch(url, headers=jp_auth_header, raise_error=False)

    return get


async def test_proxy_route_reaches_our_schedulers_and_refuses_other_hosts(api, k8s, proxy_get, dashboard, monkeypatch):
    await api.call("POST", "clusters", {"name": "gpu-etl", "workers": 1})
    fake_operator.reconcile(k8s, "gpu-etl")
    await api.wait_for("gpu-etl", lambda c: c["phase"] == "Running")
    for target in ("other-scheduler:8787", "gpu-etl-scheduler:8786", "gpu-etl-scheduler.elsewhere:8787",
                   "kubernetes.default.svc:443", "169.254.169.254:80"):
        response = await proxy_get(target)
        assert response.code == 403, target

    seen = []

    def to_loopback(self, protocol, host, port, proxied_path):  # only reached once allowed
        seen.append((host, port))
        return f"{protocol}://127.0.0.1:{dashboard}/{proxied_path.lstrip('/')}"

    monkeypatch.setattr(RemoteProxyHandler, "get_client_uri", to_loopback)
    response = await proxy_get(f"gpu-etl-scheduler.{NS}.svc.cluster.local:8787")
    assert response.code == 200 and b"dask dashboard stand-in: /status" in response.body
    assert seen == [(f"gpu-etl-scheduler.{NS}.svc.cluster.local", "8787")]
    env = await api.get("environment")
    check = next(c for c in env["checks"] if c["name"] == "proxy-allowlist")
    assert check["ok"] and NS in check["message"]


async def test_dashboard_route_proxies_to_the_scheduler_service(api, k8s, jp_fetch, dashboard, monkeypatch):
    await api.call("POST", "clusters", {"name": "gpu-etl", "workers": 1})
    cluster = await api.get("clusters/gpu-etl")
    assert cluster["dashboard_url"] == "rapids-kf/clusters/gpu-etl/dashboard/status"
    targets = []

    def to_loopback(self, protocol, host, port, proxied_path):
        targets.append((host, port))
        return f"{protocol}://127.0.0.1:{dashboard}/{proxied_path.lstrip('/')}"

    monkeypatch.setattr(ProxyHandler, "get_client_uri", to_loopback)
    response = await jp_fetch("rapids-kf", "clusters", "gpu-etl", "dashboard", "individual-gpu-memory")
    assert response.code == 200 and b"/individual-gpu-memory" in response.body
    assert targets == [(f"gpu-etl-scheduler.{NS}", 8787)]
    response = await jp_fetch("rapids-kf", "clusters", "nope", "dashboard", "status", raise_error=False)
    assert response.code == 404 and targets == [(f"gpu-etl-scheduler.{NS}", 8787)]


async def test_a_dashboard_page_that_fails_is_a_502_in_words_on_both_routes(api, k8s, jp_fetch, proxy_get,
                                                                            dashboard, monkeypatch):
    await api.call("POST", "clusters", {"name": "gpu-etl", "workers": 1})
    fake_operator.reconcile(k8s, "gpu-etl")
    await api.wait_for("gpu-etl", lambda c: c["phase"] == "Running")
    original = ProxyHandler.get_client_uri

    def to_loopback(self, protocol, host, port, proxied_path):
        return original(self, protocol, "127.0.0.1", dashboard, proxied_path)

    monkeypatch.setattr(ProxyHandler, "get_client_uri", to_loopback)
    ours = await jp_fetch("rapids-kf", "clusters", "gpu-etl", "dashboard", "sitemap.json", raise_error=False)
    generic = await proxy_get(f"gpu-etl-scheduler.{NS}:8787", "sitemap.json")
    for response in (ours, generic):
        assert response.code == 502 and response.headers["Content-Type"].startswith("application/json")
        error = json.loads(response.body)["error"]
        assert error["code"] == "unavailable", error
        assert error["message"].startswith("the Dask dashboard failed on /sitemap.json (500 Internal Server Error)")
    # Its other pages are unchanged.
    response = await jp_fetch("rapids-kf", "clusters", "gpu-etl", "dashboard", "status")
    assert response.code == 200 and response.body == b"dask dashboard stand-in: /status"


@pytest.mark.parametrize("rapids_kf_extra", [None])
async def test_admin_allowlist_is_left_alone(k8s, jp_configurable_serverapp, rapids_kf_extra):
    from jupyter_rapids_kf.backends.kubernetes import proxy_allowlist
    from traitlets.config import Config

    app = jp_configurable_serverapp(config=Config({"ServerProxy": {"host_allowlist": ["dask.example"]},
                                                   "RapidsKF": {"backend": "kubernetes"}}))
    allow = SchedulerAllowlist(NS, lambda: set())
    assert proxy_allowlist.install(app, allow).startswith("left as the administrator set it")
