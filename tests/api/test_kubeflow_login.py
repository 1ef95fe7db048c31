"""KubeFlow's login: a Jupyter server started with exactly the flags of KubeFlow's notebook images.

KubeFlow runs `jupyter lab --ServerApp.token='' --ServerApp.password='' --ServerApp.allow_origin='*'
--ServerApp.allow_remote_access=True --ServerApp.base_url=$NB_PREFIX` behind Istio, whose gateway
authenticates the user and adds `kubeflow-userid`. There is no Jupyter login: the browser holds
only the cookies Jupyter sets (its anonymous user and `_xsrf`). What protects the user from
another site is Jupyter's XSRF check on writes and, for websockets, an Origin check that
`allow_origin='*'` turns off in Jupyter. Our routes keep both, on our dashboard route and on
jupyter-server-proxy's generic routes to a dashboard alike.

The server is a process of its own (local backend) on 127.0.0.1; `Origin: http://evil.example`
is only a header, nothing is sent anywhere else.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from benchmarks.benchmark_server import JupyterServer
from jupyter_rapids_kf.app import route_table

from .test_auth import concrete_path, implemented

NB_PREFIX = "/notebook/kubeflow-user-example-com/nb/"
KUBEFLOW_FLAGS = [  # kubeflow/kubeflow example-notebook-servers/jupyter, as facts.md quotes them
    "--ServerApp.token=",
    "--ServerApp.password=",
    "--ServerApp.allow_origin=*",
    "--ServerApp.allow_remote_access=True",
    f"--ServerApp.base_url={NB_PREFIX}",
]
GATEWAY = {"kubeflow-userid": "user@example.com"}  # what Istio's gateway adds to every request
EVIL = "http://evil.example"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def kubeflow():
    workdir = Path(tempfile.mkdtemp(prefix="kubeflow-login-"))
    server = JupyterServer(
        workdir,
        token="",
        extensions=["jupyter_rapids_kf", "jupyter_server_proxy", "jupyterlab"],
        args=[
            *KUBEFLOW_FLAGS,
            "--RapidsKF.backend=local",
            "--RapidsKF.local_warm_cluster=False",
            "--RapidsKF.local_standby=False",
            "--RapidsKF.stop_local_clusters_on_exit=True",
        ],
    )
    try:
        yield server
    finally:
        server.stop()


def url(server: JupyterServer, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{NB_PREFIX}{path}"


def browser(server: JupyterServer) -> requests.Session:
    """A browser that opened JupyterLab: it holds Jupyter's cookies (anonymous user, `_xsrf`)."""
    session = requests.Session()
    session.headers.update(GATEWAY)
    page = session.get(url(server, "lab"))
    assert page.status_code == 200 and "_xsrf" in session.cookies, (page.status_code, session.cookies)
    return session


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())


def same_origin(server: JupyterServer) -> str:
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture(scope="module")
def running(kubeflow):
    """A cluster made with the browser's cookie flow: `_xsrf` cookie + X-XSRFToken header."""
    session = browser(kubeflow)
    xsrf = {"X-XSRFToken": session.cookies["_xsrf"]}
    made = session.post(url(kubeflow, "rapids-kf/clusters"), json={"name": "kf", "workers": 1}, headers=xsrf)
    assert made.status_code == 202, made.text
    deadline = time.monotonic() + 120
    while (cluster := session.get(url(kubeflow, "rapids-kf/clusters/kf")).json())["phase"] != "Running":
        assert time.monotonic() < deadline, cluster
        time.sleep(0.3)
    from distributed import Client

    with Client(cluster["scheduler"]["address"], timeout=30) as client:
        cluster["dashboard_port"] = client.scheduler_info()["services"]["dashboard"]
    try:
        yield cluster
    finally:
        # The cookie flow with `_xsrf` as an argument instead of a header.
        gone = session.delete(url(kubeflow, "rapids-kf/clusters/kf"), params={"_xsrf": session.cookies["_xsrf"]})
        assert gone.status_code == 202, gone.text
        deadline = time.monotonic() + 120
        while session.get(url(kubeflow, "rapids-kf/clusters/kf")).status_code != 404:
            assert time.monotonic() < deadline
            time.sleep(0.3)


def dashboard_paths(cluster: dict) -> list[str]:
    """Every way to the cluster's dashboard: our route and jupyter-server-proxy's generic ones."""
    port = cluster["dashboard_port"]
    return [
        "rapids-kf/clusters/kf/dashboard/",
        f"proxy/{port}/",
        f"proxy/127.0.0.1:{port}/",
        f"proxy/absolute/{port}/",
    ]


def forbidden(response: requests.Response, words: str) -> bool:
    if response.status_code != 403:
        return False
    error = response.json()["error"]
    return error["code"] == "forbidden" and words in error["message"]


def test_a_write_without_the_xsrf_token_is_refused_and_the_cookie_flow_writes(kubeflow):
    anyone = requests.Session()  # no cookie at all, as a page of another site would send it
    anyone.headers.update(GATEWAY)
    session = browser(kubeflow)
    for client in (anyone, session):
        response = client.post(url(kubeflow, "rapids-kf/clusters"), json={"name": "forged", "workers": 0})
        assert forbidden(response, "_xsrf"), (response.status_code, response.text)
    # The same gate as Jupyter's own API on this server.
    assert session.post(url(kubeflow, "api/contents"), json={"type": "notebook"}).status_code == 403
    assert session.get(url(kubeflow, "rapids-kf/clusters")).json() == {"clusters": []}

    xsrf = session.cookies["_xsrf"]
    made = session.post(
        url(kubeflow, "rapids-kf/clusters"), json={"name": "cookie-flow", "workers": 0},
        headers={"X-XSRFToken": xsrf},
    )
    assert made.status_code == 202, made.text
    # A cookie-only DELETE of it is refused too; with `_xsrf` as an argument it goes.
    assert forbidden(session.delete(url(kubeflow, "rapids-kf/clusters/cookie-flow")), "_xsrf")
    assert session.delete(url(kubeflow, "rapids-kf/clusters/cookie-flow"), params={"_xsrf": xsrf}).status_code == 202
    deadline = time.monotonic() + 60
    while session.get(url(kubeflow, "rapids-kf/clusters/cookie-flow")).status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.3)


def test_dashboard_writes_need_xsrf_and_the_same_origin_on_every_route(kubeflow, running):
    session = browser(kubeflow)
    xsrf = session.cookies["_xsrf"]
    for path in dashboard_paths(running):
        target = url(kubeflow, path + "api/v1/retire_workers")
        for method in WRITES:
            body = None if method == "DELETE" else json.dumps({"n": 1})
            response = session.request(method, target, data=body)
            assert forbidden(response, "_xsrf"), (path, method, response.status_code, response.text[:200])
            # A page of another site cannot read the `_xsrf` cookie; even if it had the token,
            # its Origin is not this server (KubeFlow's allow_origin='*' notwithstanding).
            response = session.request(method, target, data=body, headers={"X-XSRFToken": xsrf, "Origin": EVIL})
            assert forbidden(response, "another site"), (path, method, response.status_code, response.text[:200])
        # From JupyterLab's own page the write reaches the dashboard, which answers for itself
        # (the local scheduler serves no /api/v1: its own 404 page, not a refusal of ours).
        response = session.post(target, data=json.dumps({"n": 0}),
                                headers={"X-XSRFToken": xsrf, "Origin": same_origin(kubeflow)})
        assert response.status_code == 404 and response.text.startswith("<html><title>404"), (path, response.text[:200])
        page = session.get(url(kubeflow, path + "status"))
        expected = 404 if path.startswith("proxy/absolute/") else 200  # absolute: the full path goes on
        assert page.status_code == expected, (path, page.status_code)


def bokeh_token(page: str) -> str:
    return re.search(r'"token":\s*"([^"]+)"', page)[1]


async def test_a_cross_site_dashboard_websocket_is_refused_and_the_same_origin_one_streams(kubeflow, running):
    session = browser(kubeflow)
    for path in dashboard_paths(running)[:3]:  # absolute routes pass the server's own path on
        token = bokeh_token(session.get(url(kubeflow, path + "status")).text)
        ws_url = url(kubeflow, path + "status/ws").replace("http://", "ws://")
        cookies = {"Cookie": cookie_header(session), **GATEWAY}
        with pytest.raises(HTTPClientError) as refused:
            await websocket_connect(
                HTTPRequest(ws_url, headers={**cookies, "Origin": EVIL}), subprotocols=["bokeh", token]
            )
        assert refused.value.code == 403, path
        ws = await websocket_connect(
            HTTPRequest(ws_url, headers={**cookies, "Origin": same_origin(kubeflow)}), subprotocols=["bokeh", token]
        )
        try:
            message = await ws.read_message()
            assert message is not None and "ACK" in str(message), (path, message)  # bokeh's greeting
        finally:
            ws.close()


def test_our_routes_add_nothing_to_what_the_token_less_server_already_answers(kubeflow, running):
    """Without any cookie (anyone who reaches the pod): our reads answer as Jupyter's own
    `api/contents` does, and every write of ours is refused for its missing `_xsrf`, as Jupyter's
    own writes are. A kernel, which anyone reaching this server can start, can do all of it."""
    anyone = requests.Session()
    anyone.headers.update(GATEWAY)
    assert anyone.get(url(kubeflow, "api/contents")).status_code == 200  # Jupyter's own read
    for method in WRITES:
        assert anyone.request(method, url(kubeflow, "api/contents/x.ipynb"), data=b"{}").status_code == 403
    checked = 0
    for pattern, handler in route_table():
        path = NB_PREFIX + concrete_path(pattern).replace("some-cluster", "kf")
        for method in implemented(handler):
            if method not in ("GET", *WRITES):
                continue
            response = anyone.request(method, f"http://127.0.0.1:{kubeflow.port}{path}", stream=True,
                                      data=b"{}" if method != "GET" else None, allow_redirects=False)
            if method == "GET":
                response.close()  # the event stream never ends: its status is enough
                assert response.status_code < 500, (method, path, response.status_code)
            else:
                assert forbidden(response, "_xsrf"), (method, path, response.status_code, response.text[:200])
            checked += 1
    assert checked >= 12
