"""The notebook as KubeFlow runs it, on the real node: a `Notebook` CR's StatefulSet pod running
JupyterLab with this checkout's extension (the notebook image) as `default-editor`, under
NB_PREFIX, with the product's default backend (`auto`). Everything goes through that pod,
as a user's browser and kernels would: create a cluster through its REST API, run the
`client` and `kubecluster` snippets in one of its kernels, open the dashboard through its proxy under
NB_PREFIX (and the link a kernel prints). The operator is the unpatched one.

The tests run in order on one cluster.
"""

from __future__ import annotations

import json
import re

import pytest
from websockets.sync.client import connect

from . import node_net as net
from .node import NODE_NAME
from .node_notebook import NotebookPod

# The first test's setup builds the notebook image when our code changed (about a minute)
# and may wait for another session's real node (machine-wide lock).
pytestmark = [pytest.mark.controlplane, pytest.mark.timeout(600)]

NAMESPACE = "real-notebook"
NOTEBOOK = "nb"
CLUSTER = "nbcpu"
# The admin's c.RapidsKF: CPU workers for the 2-CPU node; the backend left at "auto" and
# the image left to the notebook's own.
ADMIN = {"default_worker_command": "dask worker", "default_gpus_per_worker": 0,
         "scheduler_cpu": "1", "scheduler_memory": "1Gi", "gpu_metrics_interval": 0}
SMALL = {"cpu": "500m", "memory": "1Gi"}
RUN_SNIPPET = """
{code}
client.wait_for_workers(2, timeout=60)
import json, os, socket
print(json.dumps({{
    "workers": len(client.scheduler_info()["workers"]),
    "hosts": sorted(set(client.run(socket.gethostname).values())),
    "answer": client.submit(sum, range(101)).result(),
    "dashboard": client.dashboard_link,
    "link_env": os.environ.get("DASK_DISTRIBUTED__DASHBOARD__LINK"),
    "me": socket.gethostname(),
}}))
client.close()
"""


@pytest.fixture(scope="module")
def notebook(real_node, control_plane, dask_rights_switch):
    dask_rights_switch.grant()
    real_node.real_namespace(NAMESPACE)
    nb = NotebookPod(real_node, NAMESPACE, NOTEBOOK, ADMIN).start()
    yield nb
    nb.delete(f"clusters/{CLUSTER}")
    nb.stop()
    control_plane.api.wait_for(lambda: not _pods(control_plane), 120, "every pod of the namespace to go")


@pytest.fixture(scope="module")
def seen() -> dict:
    """What one test saw and a later one checks (the tests run in order)."""
    return {}


def _pods(cp, selector: str = "") -> list[dict]:
    return cp.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods", labelSelector=selector)["items"]


def test_the_notebook_pod_chooses_kubernetes_and_its_own_image(notebook, control_plane, real_node):
    pod = control_plane.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods/{notebook.pod}")
    assert pod["spec"]["nodeName"] == NODE_NAME and pod["spec"]["serviceAccountName"] == "default-editor"
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"
    # JupyterLab itself under the prefix, logged in by cookie.
    lab = notebook.http.get("/lab")
    assert lab.status_code == 200 and "jupyter-rapids-kf" in lab.text
    resp = notebook.get("environment")
    assert resp.status_code == 200, resp.text
    env = resp.json()
    assert env["backend"] == "kubernetes", env
    assert env["namespace"] == NAMESPACE
    assert env["defaults"]["image"] == real_node.notebook_image, env["defaults"]
    assert env["defaults"]["gpus_per_worker"] == 0, env["defaults"]  # the admin's config
    notes = json.dumps(env)
    assert f"the notebook pod {notebook.pod}" in notes


def test_a_cluster_made_through_the_notebook_runs_its_image(notebook, control_plane, real_node):
    body = {"name": CLUSTER, "workers": 2, **SMALL}
    refused = notebook.post("clusters", body, xsrf=False)  # a cross-site form could not do this
    assert refused.status_code == 403, refused.text
    resp = notebook.post("clusters", body)
    assert resp.status_code == 202, resp.text
    created = resp.json()
    assert created["phase"] == "Creating" and created["image"] == real_node.notebook_image
    assert created["gpus_per_worker"] == 0 and created["worker_command"] == "dask worker"
    try:
        running = notebook.wait_for_cluster(
            CLUSTER, lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 2, 240,
            "Running with 2 ready workers")
    except AssertionError as err:
        logs = notebook.get(f"clusters/{CLUSTER}/logs", component="scheduler", tail=30).text
        raise AssertionError(f"{err}\nscheduler logs: {logs}") from None
    assert running["scheduler"]["ready"] is True and running["reasons"] == []
    assert running["workers"] == {"desired": 2, "ready": 2, "pending": 0}
    assert running["ends_with"] == {"kind": "Notebook", "name": NOTEBOOK}
    pods = _pods(control_plane, f"dask.org/cluster-name={CLUSTER}")
    assert len(pods) == 3
    for pod in pods:
        assert pod["spec"]["nodeName"] == NODE_NAME
        assert pod["spec"]["containers"][0]["image"] == real_node.notebook_image
        assert all(c["ready"] for c in pod["status"]["containerStatuses"])


def test_the_client_snippet_computes_in_a_kernel_of_the_notebook(notebook, control_plane, seen):
    resp = notebook.get(f"clusters/{CLUSTER}/snippet", kind="client")
    assert resp.status_code == 200, resp.text
    out = notebook.run(RUN_SNIPPET.format(code=resp.json()["code"]))
    result = json.loads(out.strip().splitlines()[-1])
    assert result["me"] == notebook.pod  # it ran in the notebook pod's kernel
    assert result["workers"] == 2 and result["answer"] == 5050
    workers = _pods(control_plane, f"dask.org/cluster-name={CLUSTER},dask.org/component=worker")
    assert result["hosts"] == sorted(p["metadata"]["name"] for p in workers)
    # The kernel inherited the server's dashboard link template, under NB_PREFIX.
    assert result["link_env"] == f"{notebook.prefix}/rapids-kf/dashboards/{{host}}:{{port}}/status"
    assert result["dashboard"].startswith(f"{notebook.prefix}/rapids-kf/dashboards/")
    seen["dashboard"] = result["dashboard"]


def test_the_kubecluster_snippet_attaches_to_the_cluster_in_a_kernel(notebook, control_plane):
    # KubeCluster.from_name in the notebook pod's kernel: dask-kubernetes finds the DaskCluster
    # with the pod's service account (in-cluster config) and connects to its scheduler Service.
    resp = notebook.get(f"clusters/{CLUSTER}/snippet", kind="kubecluster")
    assert resp.status_code == 200, resp.text
    code = resp.json()["code"]
    assert "KubeCluster.from_name(" in code
    out = notebook.run(code + """
client.wait_for_workers(2, timeout=60)
import json
print(json.dumps({"cluster": cluster.name, "workers": len(client.scheduler_info()["workers"]),
                  "answer": client.submit(sum, range(11)).result()}))
client.close()
cluster.close()
""")
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"cluster": CLUSTER, "workers": 2, "answer": 55}, out
    # shutdown_on_close=False: closing the kernel's handle leaves the cluster running.
    card = notebook.get(f"clusters/{CLUSTER}")
    assert card.status_code == 200 and card.json()["phase"] == "Running", card.text
    assert len(_pods(control_plane, f"dask.org/cluster-name={CLUSTER}")) == 3


def test_the_dashboard_renders_and_streams_through_the_proxy_under_nb_prefix(notebook):
    page = notebook.http.get(f"/rapids-kf/clusters/{CLUSTER}/dashboard/status")
    assert page.status_code == 200, page.text[:500]
    assert "bokeh" in page.text.lower()
    token = re.search(r'"token":\s*"([^"]+)"', page.text).group(1)
    ws_url = notebook.url.replace("http://", "ws://", 1) + f"/rapids-kf/clusters/{CLUSTER}/dashboard/status/ws"
    with connect(ws_url, additional_headers=notebook.token_header(), subprotocols=["bokeh", token],
                 open_timeout=30) as ws:
        assert _bokeh_message(ws)["msgtype"] == "ACK"  # the bokeh session answered
        # Ask for the document as bokeh's browser client does: header, metadata, content.
        for frame in ({"msgid": "1", "msgtype": "PULL-DOC-REQ"}, {}, {}):
            ws.send(json.dumps(frame))
        # The session may already stream PATCH-DOC updates to this connection before it answers
        # the pull (clean-clone run 2 of 2026-12-07 got one first): skip those, as bokeh's client does.
        patches = []
        for _ in range(50):
            reply = _bokeh_message(ws)
            if reply["msgtype"] != "PATCH-DOC":
                break
            patches.append(reply["msgtype"])
        assert reply["msgtype"] == "PULL-DOC-REPLY" and reply.get("reqid") == "1", (reply, patches)


def _bokeh_message(ws) -> dict:
    """The header of the next bokeh message (three frames: header, metadata, content)."""
    header = json.loads(ws.recv(timeout=30))
    ws.recv(timeout=30)
    content = ws.recv(timeout=30)
    for _ in range(2 * header.get("num_buffers", 0)):  # each buffer: its id, then its bytes
        ws.recv(timeout=30)
    return {**header, "content_size": len(content)}


def test_the_dashboard_link_a_kernel_prints_opens_through_the_proxy(notebook, seen):
    link = seen.get("dashboard")
    assert link, "the snippet test did not run first"
    # The link is a path of this server (the browser resolves it against the notebook's URL).
    base = notebook.url.removesuffix(notebook.prefix)
    resp = notebook.http.get(base + link, follow_redirects=True)
    assert resp.status_code == 200, resp.text[:500]
    assert "bokeh" in resp.text.lower()
    assert str(resp.url).endswith(f"{notebook.prefix}/rapids-kf/clusters/{CLUSTER}/dashboard/status")


def test_delete_through_the_notebook_removes_the_cluster(notebook, control_plane, real_node):
    resp = notebook.delete(f"clusters/{CLUSTER}")
    assert resp.status_code == 202, resp.text
    control_plane.api.wait_for(
        lambda: notebook.get(f"clusters/{CLUSTER}").status_code == 404
        and not _pods(control_plane, f"dask.org/cluster-name={CLUSTER}"), 120, "the cluster to go")
    # The notebook pod, its kernels and the proxy kept to the bridge and loopback.
    assert all(n == 0 for n in net.dropped_packets().values()), net.dropped_packets()
    assert real_node.conntrack_outside() == []
