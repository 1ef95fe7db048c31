"""Stop means stop, on the real node: the stopper runs as the admin runs it (manifests/stopper:
its ServiceAccount, ClusterRole and Deployment, the image set to the notebook image, in
`kubeflow`), a cluster is made through the notebook pod (`node_notebook.py`) with adaptive
scaling on, and then:

- a notebook pod deleted and made again by its StatefulSet (a restart: no annotation) changes
  nothing: the same worker pods keep running, the autoscaler stays;
- the notebook is stopped as KubeFlow's notebook controller stops it (`kubeflow-resource-stopped:
  <RFC 3339>` on the Notebook, the StatefulSet at 0 replicas): within a minute the workers' pods
  and containers are gone from the node, the scheduler pod is the same one, still running, and
  the DaskAutoscaler is gone (it would scale the workers back up);
- the notebook is started again (annotation removed, 1 replica): its card says what happened,
  and a scale-up through the card brings a worker back and the words go.

Without the stopper the stop check fails: nothing of ours runs while the notebook is stopped,
and the workers keep running (until the operator's idle timeout, an hour by default).
"""

from __future__ import annotations

import re
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from . import node_objects as objs
from .node_inspect import state_of
from .node_notebook import NotebookPod

pytestmark = [pytest.mark.controlplane, pytest.mark.timeout(900)]

NAMESPACE = "real-stop"
CLUSTER = "held"
SMALL = {"cpu": "300m", "memory": "768Mi"}
ADMIN = {"default_worker_command": "dask worker", "default_gpus_per_worker": 0,
         "scheduler_cpu": "500m", "scheduler_memory": "1Gi", "gpu_metrics_interval": 0}
RELEASED_WITHIN = 60  # seconds from the stop to no worker pod or container left on the node
UNCHANGED_FOR = 15  # seconds a restart is watched for changes (the stopper resyncs every 10 s)
MANIFESTS = Path(__file__).resolve().parents[2] / "manifests" / "stopper"
STOPPER_NS = "kubeflow"
MERGE = {"Content-Type": "application/merge-patch+json"}
DASK = f"/apis/kubernetes.dask.org/v1/namespaces/{NAMESPACE}"


def _pods(cp, ns: str, selector: str) -> list[dict]:
    return [p for p in cp.api.get(f"/api/v1/namespaces/{ns}/pods", labelSelector=selector)["items"]
            if not p["metadata"].get("deletionTimestamp")]


def _all_pods(cp, ns: str, selector: str) -> list[dict]:
    return cp.api.get(f"/api/v1/namespaces/{ns}/pods", labelSelector=selector)["items"]


def _workers(cp) -> list[dict]:
    return _all_pods(cp, NAMESPACE, f"dask.org/cluster-name={CLUSTER},dask.org/component=worker")


def _scheduler(cp) -> list[dict]:
    return _pods(cp, NAMESPACE, f"dask.org/cluster-name={CLUSTER},dask.org/component=scheduler")


def _patch(cp, path: str, body: dict) -> dict:
    resp = cp.api.http.patch(path, json=body, headers=MERGE)
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.fixture(scope="module")
def stopper(real_node, control_plane, tmp_path_factory):
    """manifests/stopper as the admin applies it: the image set in deployment.yaml, then
    `kubectl apply -k`. Its namespace is pinned to the real node (a test-only annotation)."""
    control_plane.api.apply(objs.pin_namespace_to_node(STOPPER_NS))
    kit = tmp_path_factory.mktemp("kit") / "stopper"
    shutil.copytree(MANIFESTS, kit)
    deployment = kit / "deployment.yaml"
    text, n = re.subn(r"image: \S+", f"image: {real_node.notebook_image}", deployment.read_text())
    assert n == 1
    deployment.write_text(text)
    control_plane.apply_manifests(kit)
    selector = "app.kubernetes.io/name=jupyter-rapids-kf-stopper"

    def log() -> str:
        pods = _pods(control_plane, STOPPER_NS, selector)
        if not pods:
            return "(no stopper pod)"
        return control_plane.api.http.get(
            f"/api/v1/namespaces/{STOPPER_NS}/pods/{pods[0]['metadata']['name']}/log").text

    control_plane.api.wait_for(lambda: "watching KubeFlow notebooks in every namespace" in log(), 180,
                               "the stopper to start watching")
    yield log
    control_plane.delete_manifests(kit)
    control_plane.api.http.delete(f"/api/v1/namespaces/{STOPPER_NS}")


def _rfc3339_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_stopped_notebook_releases_its_workers_and_says_so_after_the_restart(
        real_node, control_plane, dask_rights_switch, stopper):
    cp, api = control_plane, control_plane.api
    dask_rights_switch.grant()
    real_node.real_namespace(NAMESPACE)
    nb = NotebookPod(real_node, NAMESPACE, "nb", ADMIN).start()
    notebook_path = f"/apis/kubeflow.org/v1/namespaces/{NAMESPACE}/notebooks/nb"
    sts_path = f"/apis/apps/v1/namespaces/{NAMESPACE}/statefulsets/nb"
    try:
        resp = nb.post("clusters", {"name": CLUSTER, "workers": 2, **SMALL})
        assert resp.status_code == 202, resp.text
        nb.wait_for_cluster(CLUSTER, lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 2, 240,
                            "Running 2/2")
        resp = nb.http.patch(f"/rapids-kf/clusters/{CLUSTER}", json={"adapt": {"minimum": 2, "maximum": 2}},
                             headers=nb._xsrf())
        assert resp.status_code == 202, resp.text
        api.wait_for(lambda: api.exists(f"{DASK}/daskautoscalers/{CLUSTER}"), 30, "the DaskAutoscaler")
        workers = {p["metadata"]["uid"]: p["metadata"]["name"] for p in _workers(cp)}
        scheduler_uid = _scheduler(cp)[0]["metadata"]["uid"]
        assert len(workers) == 2

        # --- a restart is not a stop: the pod made anew by its StatefulSet, the Notebook's
        # status written as KubeFlow's controller writes it, no annotation.
        old_pod = api.get(f"/api/v1/namespaces/{NAMESPACE}/pods/{nb.pod}")["metadata"]["uid"]
        api.http.delete(f"/api/v1/namespaces/{NAMESPACE}/pods/{nb.pod}")
        _patch(cp, notebook_path, {"status": {"readyReplicas": 0, "containerState": {
            "waiting": {"reason": "ContainerCreating"}}}})

        def new_pod_runs() -> bool:
            resp = api.http.get(f"/api/v1/namespaces/{NAMESPACE}/pods/{nb.pod}")
            pod = resp.json() if resp.status_code == 200 else {}
            return (pod.get("metadata", {}).get("uid") not in (None, old_pod)
                    and pod.get("status", {}).get("phase") == "Running")

        api.wait_for(new_pod_runs, 120, "the StatefulSet to make the notebook pod anew")
        _patch(cp, notebook_path, {"status": {"readyReplicas": 1, "containerState": {
            "running": {"startedAt": _rfc3339_now()}}}})
        nb.login()
        watched_until = time.monotonic() + UNCHANGED_FOR
        while time.monotonic() < watched_until:
            now = {p["metadata"]["uid"]: p["metadata"]["name"] for p in _pods(
                cp, NAMESPACE, f"dask.org/cluster-name={CLUSTER},dask.org/component=worker")}
            assert now == workers, f"a restart changed the workers: {now} (was {workers})\n{stopper()}"
            time.sleep(1)
        assert api.exists(f"{DASK}/daskautoscalers/{CLUSTER}")
        dc = api.get(f"{DASK}/daskclusters/{CLUSTER}")
        assert "rapids-kf.jupyter.org/stopped-with-notebook" not in (dc["metadata"].get("annotations") or {})
        card = nb.get(f"clusters/{CLUSTER}").json()
        assert card["workers"]["desired"] == 2 and card["stopped_with_notebook"] is None, card

        # --- the stop, exactly as KubeFlow's notebook controller does it.
        stopped = _rfc3339_now()
        began = time.monotonic()
        _patch(cp, notebook_path, {"metadata": {"annotations": {"kubeflow-resource-stopped": stopped}}})
        _patch(cp, sts_path, {"spec": {"replicas": 0}})
        nb.http.close()
        nb.http = None

        def released() -> bool:
            on_node = state_of(real_node, NAMESPACE, list(workers))
            return not _workers(cp) and not (set(on_node.containers.values()) & set(workers.values())) \
                and not on_node.cgroups

        deadline = began + RELEASED_WITHIN
        while not released() and time.monotonic() < deadline:
            time.sleep(1)
        gone_in = time.monotonic() - began
        assert released(), (f"{RELEASED_WITHIN} s after the stop the workers are still there: "
                            f"{[p['metadata']['name'] for p in _workers(cp)]}\nstopper log:\n{stopper()}")
        # The scheduler is the same pod, still running; the autoscaler is gone, the groups at 0.
        assert [p["metadata"]["uid"] for p in _scheduler(cp)] == [scheduler_uid]
        assert _scheduler(cp)[0]["status"]["phase"] == "Running"
        assert not api.exists(f"{DASK}/daskautoscalers/{CLUSTER}")
        group = api.get(f"{DASK}/daskworkergroups/{CLUSTER}-default")
        assert group["spec"]["worker"]["replicas"] == 0
        log = stopper()
        assert f"namespace {NAMESPACE}, cluster {CLUSTER}: the notebook was stopped" in log, log
        assert "deleting DaskAutoscaler held" in log, log
        print(f"\n[stop] worker pods and containers gone from the node {gone_in:.1f} s after the stop; "
              f"the scheduler kept; operator retired them: "
              f"{'no, the stopper deleted leftovers' if 'did not retire' in log else 'yes'}")

        # --- started again: annotation removed, one replica, as KubeFlow does.
        _patch(cp, notebook_path, {"metadata": {"annotations": {"kubeflow-resource-stopped": None}}})
        _patch(cp, sts_path, {"spec": {"replicas": 1}})
        api.wait_for(lambda: api.get(f"/api/v1/namespaces/{NAMESPACE}/pods/{nb.pod}")
                     .get("status", {}).get("phase") == "Running" if api.exists(
                         f"/api/v1/namespaces/{NAMESPACE}/pods/{nb.pod}") else False,
                     120, "the notebook pod to run again")
        nb.login()
        card = nb.wait_for_cluster(CLUSTER, lambda c: c["scheduler"]["ready"], 60, "listed with its scheduler")
        hhmm = datetime.strptime(stopped, "%Y-%m-%dT%H:%M:%SZ").strftime("%H:%M")
        assert card["reasons"][0] == (
            f"Scaled to 0 workers (from 2 workers) and adaptive scaling (2-2) turned off when notebook nb "
            f"was stopped at {hhmm} UTC, so that it holds no GPU; scale up or turn adaptive scaling on to "
            f"continue"), card
        assert card["stopped_with_notebook"] == {"notebook": "nb", "stopped_at": stopped, "workers": 2,
                                                 "adapt": {"minimum": 2, "maximum": 2}}, card
        assert (card["phase"], card["workers"]["desired"], card["adapt"]) == ("Running", 0, None), card

        # Scale up to continue: a worker comes back and the card no longer says it.
        resp = nb.http.patch(f"/rapids-kf/clusters/{CLUSTER}", json={"workers": 1}, headers=nb._xsrf())
        assert resp.status_code == 202, resp.text
        card = nb.wait_for_cluster(CLUSTER, lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 1,
                                   120, "Running 1/1 again")
        assert card["stopped_with_notebook"] is None and not any("stopped" in r for r in card["reasons"]), card
        dc = api.get(f"{DASK}/daskclusters/{CLUSTER}")
        assert "rapids-kf.jupyter.org/stopped-with-notebook" not in (dc["metadata"].get("annotations") or {})
    finally:
        nb.stop()
        api.wait_for(lambda: not _all_pods(cp, NAMESPACE, ""), 120, "every pod of the namespace to go")
