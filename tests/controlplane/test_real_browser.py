"""The panel in a browser, on real pods: a KubeFlow user's first cluster, clicked through in
Chromium (ui-tests/tests/real-node/kubeflow.spec.ts), against JupyterLab served by a KubeFlow
notebook pod on the real node.

The notebook pod starts as docs/notebook-image/Dockerfile says (no Jupyter token, any
origin, under NB_PREFIX, as `jovyan`); the browser reaches it through gateway.py on a
loopback port, which adds `kubeflow-userid` to every request as Istio's gateway does. The
one thing added for the test is galata's in-page helper extension (from the image's own
JupyterLab), which Playwright's JupyterLab helpers drive; it changes no server setting.

The spec clicks New GPU cluster (a CPU cluster: the admin's defaults on this 2-CPU node),
waits for 2/2 on the card, opens the dashboard and the Task stream pane, inserts the client
snippet into a new notebook and runs it in a kernel of the notebook pod, drags the slider
to 3 and deletes the cluster. Meanwhile this side watches the namespace's pods on the API
server; afterwards every pod of the cluster must be gone from it.

Screenshots go to $SCREENSHOT_DIR (docs/screenshots for the docs, see docs/kubernetes.md).
"""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from . import node_net as net
from .browser import GALATA_SERVER_CONFIG, UI_TESTS, Gateway, run_spec
from .conftest import DASK_API, delete_all_daskclusters
from .node import NODE_NAME
from .node_notebook import NotebookPod

# The setup may build the notebook image (when our code changed) and wait for another
# session's real node (machine-wide lock).
pytestmark = [pytest.mark.controlplane, pytest.mark.timeout(1200)]

NAMESPACE = "real-browser"
NOTEBOOK = "nb"
# The admin's c.RapidsKF: "New GPU cluster" makes 2 CPU workers that fit the node with a third.
ADMIN = {"default_worker_command": "dask worker", "default_gpus_per_worker": 0,
         "default_cpu": "300m", "default_memory": "768Mi",
         "scheduler_cpu": "500m", "scheduler_memory": "1Gi", "gpu_metrics_interval": 0}
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR", str(UI_TESTS / "test-results" / "screenshots"))


class PodWatch:
    """Every pod of the namespace seen on the API server, polled twice a second."""

    def __init__(self, api):
        self.api, self.seen = api, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(0.5):
            try:
                items = self.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods")["items"]
            except Exception:  # noqa: BLE001 - a missed sample only
                continue
            for pod in items:
                labels = pod["metadata"].get("labels") or {}
                seen = self.seen.setdefault(pod["metadata"]["name"], {"phases": set()})
                seen.update(node=pod["spec"].get("nodeName"), image=pod["spec"]["containers"][0]["image"],
                            cluster=labels.get("dask.org/cluster-name"),
                            component=labels.get("dask.org/component"))
                seen["phases"].add(pod["status"].get("phase"))

    def __enter__(self) -> PodWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _pods(api, selector: str = "") -> list[str]:
    items = api.get(f"/api/v1/namespaces/{NAMESPACE}/pods", labelSelector=selector)["items"]
    return sorted(p["metadata"]["name"] for p in items)


def test_a_kubeflow_user_makes_uses_scales_and_deletes_a_cluster_in_the_browser(
        real_node, control_plane, dask_rights_switch, tmp_path):
    api = control_plane.api
    dask_rights_switch.grant()
    real_node.real_namespace(NAMESPACE)
    nb = NotebookPod(real_node, NAMESPACE, NOTEBOOK, ADMIN, kubeflow_login=True,
                     server_config=GALATA_SERVER_CONFIG).start()
    result_file = tmp_path / "seen.json"
    try:
        # The server itself: no token, and a write without _xsrf is refused as on KubeFlow.
        assert nb.http.get("/api/status").status_code == 200
        assert nb.post("clusters", {"name": "x", "workers": 1}, xsrf=False).status_code == 403
        t0 = time.monotonic()
        with PodWatch(api) as watch, Gateway(real_node, nb.pod_ip()) as url:
            out = run_spec(url + nb.prefix, {
                "RAPIDS_KF_NAMESPACE": NAMESPACE, "RAPIDS_KF_BACKEND": "Kubernetes",
                "RAPIDS_KF_RESULT": str(result_file), "SCREENSHOT_DIR": SCREENSHOTS})
            spec_s = time.monotonic() - t0
            seen = json.loads(result_file.read_text())
            cluster = seen["cluster"]
            # Every pod of the cluster gone from the API server, not only its card.
            t1 = time.monotonic()
            api.wait_for(lambda: not _pods(api, f"dask.org/cluster-name={cluster}"), 90,
                         f"every pod of {cluster} to be gone from the API server")
            gone_s = time.monotonic() - t1
        print(out)
        print(f"spec {spec_s:.0f} s; the cluster's last pod gone from the API server {gone_s:.1f} s "
              f"after the card; seen by the spec: {json.dumps(seen)}")

        assert not api.get(f"{DASK_API}/namespaces/{NAMESPACE}/daskclusters")["items"]
        assert _pods(api) == [nb.pod]  # the notebook alone is left
        ours = {name: pod for name, pod in watch.seen.items() if pod["cluster"] == cluster}
        workers = sorted(n for n, p in ours.items() if p["component"] == "worker")
        assert sorted(p["component"] for p in ours.values() if p["component"] != "worker") == ["scheduler"]
        assert len(workers) == 3, ours  # 2, then the slider's third
        for name, pod in ours.items():
            assert pod["node"] == NODE_NAME and "Running" in pod["phases"], (name, pod)
            assert pod["image"] == real_node.notebook_image, (name, pod)
        # The snippet ran in the notebook pod's kernel, its tasks on two of the worker pods.
        assert seen["kernel"]["kernel"] == nb.pod
        assert set(seen["kernel"]["workers"]) <= set(workers) and len(seen["kernel"]["workers"]) == 2
        # The browser kept to loopback (the spec checks), the pods to the bridge.
        assert all(n == 0 for n in net.dropped_packets().values()), net.dropped_packets()
        assert real_node.conntrack_outside() == []
    finally:
        delete_all_daskclusters(control_plane, NAMESPACE)
        nb.stop()
