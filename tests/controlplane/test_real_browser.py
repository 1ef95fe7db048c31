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
import time

import pytest

from . import node_net as net
from .api_timeline import ApiTimeline, held, operator_lines
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


def _pods(api, selector: str = "") -> list[str]:
    items = api.get(f"/api/v1/namespaces/{NAMESPACE}/pods", labelSelector=selector)["items"]
    return sorted(p["metadata"]["name"] for p in items)


def _why_still_there(api, nb, real_node, watch, wait: float = 240) -> str:
    """After a failed spec: for each cluster of the namespace, what the API server held over
    time and holds now, what our server answers, and the operator's lines about it; then
    waits (up to ``wait``) for it to go, to tell a slow deletion from a stuck one."""
    report = []
    for cluster in sorted({name for _, name, _ in watch.changes}):
        resp = nb.get(f"clusters/{cluster}")
        ours = resp.json() if resp.status_code == 200 else resp.text[:300]
        if isinstance(ours, dict):
            ours = {k: ours.get(k) for k in ("phase", "reasons", "workers", "ready_workers")}
        listed = [c.get("name") for c in (nb.get("clusters").json() or {}).get("clusters", [])]
        report += [f"--- {cluster} at the spec's failure ({time.monotonic() - watch.t0:.1f} s)",
                   held(api, NAMESPACE, cluster),
                   f"our server: GET clusters/{cluster} -> {resp.status_code} {ours}; list: {listed}"]
        deadline = time.monotonic() + wait
        while watch.gone_at(cluster) is None and time.monotonic() < deadline:
            time.sleep(1)
        marked, gone = watch.marked_at(cluster), watch.gone_at(cluster)
        report.append(f"marked for deletion at {marked} s, gone from the API server at {gone} s"
                      + (f" ({gone - marked:.1f} s after)" if marked is not None and gone is not None else
                         f" (still there {wait:.0f} s after the failure)"))
        resp = nb.get(f"clusters/{cluster}")
        report.append(f"our server then: GET clusters/{cluster} -> {resp.status_code}")
        report += ["the API server over time:", *watch.lines(cluster),
                   "the operator's lines about it:",
                   *operator_lines(real_node.logs / "operator-real-node.log", NAMESPACE, cluster)]
    server_log = [line for line in nb.log().splitlines() if "rapids-kf" in line or "Traceback" in line]
    report += ["our server's log (rapids-kf lines, last 30):", *server_log[-30:]]
    return "\n".join(report)


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
        with ApiTimeline(api, NAMESPACE) as watch, Gateway(real_node, nb.pod_ip()) as url:
            try:
                out = run_spec(url + nb.prefix, {
                    "RAPIDS_KF_NAMESPACE": NAMESPACE, "RAPIDS_KF_BACKEND": "Kubernetes",
                    "RAPIDS_KF_RESULT": str(result_file), "SCREENSHOT_DIR": SCREENSHOTS})
            except AssertionError as failed:
                raise AssertionError(f"{failed}\n{_why_still_there(api, nb, real_node, watch)}") from None
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
        print("the DaskCluster on the API server (s from the spec's start):\n" + "\n".join(watch.lines(cluster)))
        answer = seen.get("delete_answer")
        if answer is None:
            print("the DELETE's answer was not seen by the spec")
        else:
            print(f"after the click: the DELETE's answer ({answer['status']} {answer['phase']}, "
                  f"{answer['desired']} workers desired) at {answer['ms']} ms, the card gone at "
                  f"{seen['card_gone_ms']} ms; "
                  + ("our server had seen the DaskCluster gone before it answered (the stream's "
                     "`deleted` went out first)" if answer["desired"] == 0 else
                     "our server answered while the DaskCluster was still there"))

        assert not api.get(f"{DASK_API}/namespaces/{NAMESPACE}/daskclusters")["items"]
        assert nb.get(f"clusters/{cluster}").status_code == 404  # our server follows it too
        assert _pods(api) == [nb.pod]  # the notebook alone is left
        ours = {name: pod for name, pod in watch.pods.items() if pod["cluster"] == cluster}
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
