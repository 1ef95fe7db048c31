"""The extension's Jupyter server for tests on the real node: a separate process whose
names resolve through CoreDNS only (``RealNode.in_cluster_dns``), as in a notebook pod,
so that the dashboard proxy and the scheduler-version check reach real schedulers by
their Service names. It acts as the profile's ``default-editor`` (a TokenRequest token).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .node import RealNode
from .procs import Process
from ..ports import free_port

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def start_server(real_node: RealNode, control_plane, namespace: str, work_dir: Path,
                 **options: Any) -> NodeJupyterServer:
    """Our server for a profile namespace of the real node (made here), acting as its
    ``default-editor``; new clusters default to the node's Dask image."""
    real_node.real_namespace(namespace)
    kubeconfig = control_plane.kubeconfig_for_service_account(namespace, "default-editor")
    return NodeJupyterServer(real_node, namespace, kubeconfig, work_dir, {
        "default_image": real_node.dask_image, "use_notebook_image": False,
        "default_worker_command": "dask worker", "default_gpus_per_worker": 0,
        "scheduler_cpu": "1", "scheduler_memory": "1Gi", "gpu_metrics_interval": 0, **options,
    }).start()


def server_fixture(namespace: str, **options: Any):
    """A test module's ``server`` fixture (module scope): ``start_server`` for ``namespace``
    (with ``options`` of c.RapidsKF) with Dask rights granted, stopped after the module.
    Use: ``server = server_fixture(NS)``."""

    @pytest.fixture(scope="module")
    def server(real_node, control_plane, dask_rights_switch, tmp_path_factory):
        dask_rights_switch.grant()
        srv = start_server(real_node, control_plane, namespace, tmp_path_factory.mktemp("jupyter"),
                           **options)
        yield srv
        srv.stop()

    return server


def wait_cluster_pods_gone(control_plane, namespace: str, timeout: float = 90,
                           selector: str = "dask.org/cluster-name") -> None:
    """After deletes: the garbage collector removes a cluster's pods in steps (DaskCluster ->
    Deployments -> ReplicaSets -> Pods, then each pod's grace period), so wait for them to
    go; fail, naming what is left, if they are still there after ``timeout`` (the next test
    also needs the node's 2 CPUs back)."""
    deadline = time.monotonic() + timeout
    path = f"/api/v1/namespaces/{namespace}/pods"
    while pods := control_plane.api.get(path, labelSelector=selector)["items"]:
        if time.monotonic() > deadline:
            left = [(p["metadata"]["name"], p["status"].get("phase"),
                     bool(p["metadata"].get("deletionTimestamp"))) for p in pods]
            raise AssertionError(f"pods of {selector} in {namespace} still there after "
                                 f"{timeout:.0f}s (name, phase, deleting): {left}")
        time.sleep(1)


class NodeJupyterServer:
    def __init__(self, node: RealNode, namespace: str, kubeconfig: Path, work_dir: Path,
                 options: dict[str, Any] | None = None):
        self.node, self.namespace, self.kubeconfig = node, namespace, kubeconfig
        self.dir = Path(work_dir)
        self.options = options or {}
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: Process | None = None
        self.http: httpx.Client | None = None

    def start(self, timeout: float = 60) -> NodeJupyterServer:
        self.dir.mkdir(parents=True, exist_ok=True)
        config = self.dir / "jupyter_server_config.json"
        config.write_text(json.dumps({
            "ServerApp": {"ip": "127.0.0.1", "port": self.port, "open_browser": False,
                          "allow_root": True, "root_dir": str(self.dir)},
            "IdentityProvider": {"token": self.token},
            "RapidsKF": {"backend": "kubernetes", "namespace": self.namespace, **self.options},
        }))
        env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
        env.update(KUBECONFIG=str(self.kubeconfig), JUPYTER_CONFIG_DIR=str(self.dir / "config"),
                   JUPYTER_RUNTIME_DIR=str(self.dir / "runtime"))
        self.proc = Process("jupyter-server", self.node.in_cluster_dns(
            [sys.executable, "-m", "jupyter_server", f"--config={config}"]),
            self.node.logs / f"jupyter-{self.namespace}.log", env).start()
        self.http = httpx.Client(base_url=self.url, timeout=30,
                                 headers={"Authorization": f"token {self.token}"})
        self.proc.wait_until(lambda: self.http.get("/api/status").status_code == 200, timeout,
                             "serving")
        return self

    def stop(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    # --- the REST API ------------------------------------------------------------------
    def get(self, path: str, **params) -> httpx.Response:
        return self.http.get(f"/rapids-kf/{path}", params=params)

    def post(self, path: str, body: dict) -> httpx.Response:
        return self.http.post(f"/rapids-kf/{path}", json=body)

    def patch(self, path: str, body: dict) -> httpx.Response:
        return self.http.patch(f"/rapids-kf/{path}", json=body)

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete(f"/rapids-kf/{path}")

    def wait_for_cluster(self, name: str, check, timeout: float, what: str) -> dict:
        """Polls GET clusters/<name> until ``check(cluster)``; the last answer on failure."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            resp = self.get(f"clusters/{name}")
            last = resp.json() if resp.headers.get("content-type", "").startswith("application/json") \
                else resp.text
            if resp.status_code == 200 and check(last):
                return last
            time.sleep(1)
        raise AssertionError(f"{name}: not {what} after {timeout:.0f}s; last answer: {last}")
