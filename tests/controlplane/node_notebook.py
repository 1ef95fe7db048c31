"""A KubeFlow notebook on the real node, run the way KubeFlow runs it: a `Notebook` CR owning a
StatefulSet `<name>` whose pod `<name>-0` runs the notebook image (JupyterLab and this
checkout's jupyter-rapids-kf) as `default-editor` of a profile namespace, under
`NB_PREFIX=/notebook/<ns>/<name>`, behind a Service `<name>` on port 80. The admin's
`c.RapidsKF` comes from a ConfigMap mounted as `/etc/jupyter` (its
`jupyter_server_config.json`; the `.d` directories only enable extensions);
the backend is left at its default (`auto`), so the server finds Kubernetes by itself.

Tests talk to it as a browser would: the token once in the URL, then the login cookie and
`_xsrf` (``NotebookPod.get/post/...``), and run code in its kernels through the kernels
REST API and websocket (``NotebookPod.run``). Every address is the Service's ClusterIP,
which the machine routes onto the node's bridge.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from typing import Any

import httpx
from websockets.sync.client import connect

from .kubeflow_notebook import NOTEBOOKS, create_notebook, install_crd

ADMIN_CONFIG = "rapids-kf-admin"


class NotebookPod:
    def __init__(self, node, namespace: str, name: str = "nb", admin: dict[str, Any] | None = None):
        self.node, self.api = node, node.cp.api
        self.namespace, self.name = namespace, name
        self.admin = admin or {}
        self.prefix = f"/notebook/{namespace}/{name}"
        self.pod = f"{name}-0"
        self.token = secrets.token_hex(16)
        self.http: httpx.Client | None = None
        self.url = ""

    # --- lifecycle -------------------------------------------------------------------
    def start(self, timeout: float = 240) -> NotebookPod:
        api, ns = self.api, self.namespace
        install_crd(api)
        image = self.node.notebook_image
        api.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": ADMIN_CONFIG, "namespace": ns},
                   "data": {"jupyter_server_config.json": json.dumps({"RapidsKF": self.admin})}})
        api.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{self.name}-token", "namespace": ns},
                   "stringData": {"token": self.token}})
        create_notebook(api, ns, self.name, image, timeout=timeout, container={
            "env": [{"name": "JUPYTER_TOKEN", "valueFrom": {"secretKeyRef": {
                "name": f"{self.name}-token", "key": "token"}}}],
            "ports": [{"name": "notebook-port", "containerPort": 8888, "protocol": "TCP"}],
            "volumeMounts": [{"name": ADMIN_CONFIG, "mountPath": "/etc/jupyter"}],
        }, pod={"volumes": [{"name": ADMIN_CONFIG, "configMap": {"name": ADMIN_CONFIG}}]})
        # The Service KubeFlow's notebook controller makes (the Istio VirtualService sends
        # /notebook/<ns>/<name>/ to it).
        service = api.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": self.name, "namespace": ns},
                             "spec": {"selector": {"statefulset": self.name}, "ports": [
                                 {"name": f"http-{self.name}", "port": 80, "targetPort": 8888, "protocol": "TCP"}]}})
        self.url = f"http://{service['spec']['clusterIP']}{self.prefix}"
        return self.login(timeout)

    def login(self, timeout: float = 240) -> NotebookPod:
        """Waits for JupyterLab to serve, then logs in as a browser does (again after the pod
        was made anew: a new server has a new cookie secret)."""
        if self.http is not None:
            self.http.close()
        self.http = httpx.Client(base_url=self.url, timeout=30, trust_env=False)
        deadline = time.monotonic() + timeout
        while True:  # the pod runs before JupyterLab serves (and the Service's rule appears)
            try:
                if self.http.get("/api/status", headers=self.token_header()).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the notebook never served {self.url}; log:\n{self.log()[-3000:]}")
            time.sleep(1)
        # Log in as a browser does: the token once, then the cookie (and _xsrf for writes).
        self.http.get(f"/lab?token={self.token}", follow_redirects=True).raise_for_status()
        return self

    def stop(self) -> None:
        """Deletes the Notebook; the garbage collector removes its StatefulSet and pod."""
        if self.http is not None:
            self.http.close()
            self.http = None
        self.api.http.delete(f"{NOTEBOOKS.format(ns=self.namespace)}/{self.name}",
                             params={"propagationPolicy": "Foreground"})
        pods = f"/api/v1/namespaces/{self.namespace}/pods"
        self.api.wait_for(lambda: not self.api.exists(f"{pods}/{self.pod}"), 120,
                          f"notebook pod {self.pod} to go")

    def log(self) -> str:
        resp = self.api.http.get(f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}/log")
        return resp.text

    def token_header(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    # --- as a browser: cookie, and _xsrf on writes ---------------------------------------
    def _xsrf(self) -> dict[str, str]:
        return {"X-XSRFToken": self.http.cookies.get("_xsrf", "")}

    def get(self, path: str, **params) -> httpx.Response:
        return self.http.get(f"/rapids-kf/{path}", params=params)

    def post(self, path: str, body: dict, xsrf: bool = True) -> httpx.Response:
        return self.http.post(f"/rapids-kf/{path}", json=body, headers=self._xsrf() if xsrf else {})

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete(f"/rapids-kf/{path}", headers=self._xsrf())

    def wait_for_cluster(self, name: str, check, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            resp = self.get(f"clusters/{name}")
            last = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else resp.text
            if resp.status_code == 200 and check(last):
                return last
            time.sleep(1)
        raise AssertionError(f"{name}: not {what} after {timeout:.0f}s; last answer: {last}")

    # --- a kernel of the notebook ---------------------------------------------------------
    def run(self, code: str, timeout: float = 180) -> str:
        """Runs ``code`` in a new python3 kernel of the notebook (kernels REST API, then the
        kernel's websocket, as JupyterLab does); its stdout. A raised error fails here."""
        resp = self.http.post("/api/kernels", json={"name": "python3"}, headers=self._xsrf())
        assert resp.status_code == 201, resp.text
        kernel = resp.json()["id"]
        try:
            ws_url = self.url.replace("http://", "ws://", 1) + f"/api/kernels/{kernel}/channels"
            with connect(f"{ws_url}?session_id={uuid.uuid4().hex}", additional_headers=self.token_header(),
                         open_timeout=60) as ws:
                return _execute(ws, code, timeout)
        finally:
            self.http.delete(f"/api/kernels/{kernel}", headers=self._xsrf())


def _execute(ws, code: str, timeout: float) -> str:
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                   "session": uuid.uuid4().hex, "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True},
    }))
    out, error, replied, idle = [], None, False, False
    deadline = time.monotonic() + timeout
    while not (replied and idle):
        msg = json.loads(ws.recv(timeout=max(1.0, deadline - time.monotonic())))
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif kind == "error":
            error = "\n".join(content["traceback"])
        elif kind == "execute_reply":
            replied = True
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
    if error:
        raise AssertionError(f"the kernel raised:\n{error}\nstdout: {''.join(out)}")
    return "".join(out)
