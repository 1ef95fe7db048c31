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

``kubeflow_login=True`` starts it as KubeFlow's images do instead: the command of
docs/notebook-image/Dockerfile (no token, no password, any origin), as KubeFlow's `jovyan`
(uid 1000, fsGroup 100) with a workspace volume at /home/jovyan; every request then carries
`kubeflow-userid` as Istio's gateway adds it (gateway.py does the same for a browser).
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from .kubeflow_notebook import NOTEBOOKS, create_notebook, install_crd

ADMIN_CONFIG = "rapids-kf-admin"
DOCKERFILE = Path(__file__).resolve().parents[2] / "docs" / "notebook-image" / "Dockerfile"
KUBEFLOW_USER = "user@example.com"  # the identity Istio's gateway passes on
GATEWAY_HEADERS = {"kubeflow-userid": KUBEFLOW_USER}


def documented_command() -> list[str]:
    """The CMD of docs/notebook-image/Dockerfile: how the image we tell users to build starts."""
    cmd = [line for line in DOCKERFILE.read_text().splitlines() if line.startswith("CMD [")]
    assert len(cmd) == 1, f"{DOCKERFILE} must have one CMD in exec form"
    return json.loads(cmd[0].removeprefix("CMD"))


class NotebookPod:
    def __init__(self, node, namespace: str, name: str = "nb", admin: dict[str, Any] | None = None,
                 kubeflow_login: bool = False, server_config: dict[str, Any] | None = None):
        self.node, self.api = node, node.cp.api
        self.namespace, self.name = namespace, name
        self.admin = admin or {}
        self.server_config = server_config or {}  # more of /etc/jupyter's config than c.RapidsKF
        self.prefix = f"/notebook/{namespace}/{name}"
        self.pod = f"{name}-0"
        self.kubeflow_login = kubeflow_login
        self.token = "" if kubeflow_login else secrets.token_hex(16)
        self.http: httpx.Client | None = None
        self.url = ""

    # --- lifecycle -------------------------------------------------------------------
    def start(self, timeout: float = 240) -> NotebookPod:
        api, ns = self.api, self.namespace
        install_crd(api)
        image = self.node.notebook_image
        api.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": ADMIN_CONFIG, "namespace": ns},
                   "data": {"jupyter_server_config.json": json.dumps(
                       {**self.server_config, "RapidsKF": self.admin})}})
        container = {"ports": [{"name": "notebook-port", "containerPort": 8888, "protocol": "TCP"}],
                     "volumeMounts": [{"name": ADMIN_CONFIG, "mountPath": "/etc/jupyter"}]}
        pod = {"volumes": [{"name": ADMIN_CONFIG, "configMap": {"name": ADMIN_CONFIG}}]}
        if self.kubeflow_login:
            container["command"] = documented_command()
            container["volumeMounts"].append({"name": "workspace", "mountPath": "/home/jovyan"})
            pod["volumes"].append({"name": "workspace", "emptyDir": {}})
            pod["securityContext"] = {"runAsUser": 1000, "runAsGroup": 100, "fsGroup": 100}
        else:
            api.apply({"apiVersion": "v1", "kind": "Secret",
                       "metadata": {"name": f"{self.name}-token", "namespace": ns},
                       "stringData": {"token": self.token}})
            container["env"] = [{"name": "JUPYTER_TOKEN", "valueFrom": {"secretKeyRef": {
                "name": f"{self.name}-token", "key": "token"}}}]
        create_notebook(api, ns, self.name, image, timeout=timeout, container=container, pod=pod)
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
        self.http = httpx.Client(base_url=self.url, timeout=30, trust_env=False,
                                 headers=GATEWAY_HEADERS if self.kubeflow_login else None)
        deadline = time.monotonic() + timeout
        while True:  # the pod runs before JupyterLab serves (and the Service's rule appears)
            try:
                if self.http.get("/api/status", headers=self.token_header() if self.token else None).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the notebook never served {self.url}; log:\n{self.log()[-3000:]}")
            time.sleep(1)
        # Log in as a browser does: the token once (none on KubeFlow), then the cookie (and
        # _xsrf for writes).
        self.http.get(f"/lab?token={self.token}" if self.token else "/lab",
                      follow_redirects=True).raise_for_status()
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

    def pod_ip(self) -> str:
        return self.api.get(f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}")["status"]["podIP"]

    def log(self) -> str:
        resp = self.api.http.get(f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}/log")
        return resp.text

    def token_header(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def _ws_headers(self) -> dict[str, str]:
        """A websocket's login: the token, or on KubeFlow the gateway's header and the cookies."""
        if not self.kubeflow_login:
            return self.token_header()
        return {**GATEWAY_HEADERS, "Cookie": "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())}

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
            with connect(f"{ws_url}?session_id={uuid.uuid4().hex}", additional_headers=self._ws_headers(),
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
