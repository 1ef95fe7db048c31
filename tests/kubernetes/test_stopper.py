"""Stop means stop: what the stopper decides for a stopped notebook's clusters, what it sends in
which order, and what the card says after the notebook starts again. Objects are shaped as the
API server returns them (a DaskCluster built by our spec, worker groups and Deployments as the
operator makes them); no network."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime, timezone

import pytest

from jupyter_rapids_kf.backends.kubernetes.notebook_stop import (
    STOPPED_ANNOTATION,
    Record,
    forget_stop,
    record_of,
)
from jupyter_rapids_kf.backends.kubernetes.spec import build_daskcluster, drop_none
from jupyter_rapids_kf.backends.kubernetes.status import Objects, Timeouts, cluster_status
from jupyter_rapids_kf.models.cluster import ClusterSpec
from jupyter_rapids_kf.stopper.controller import Stopper, StopperError
from jupyter_rapids_kf.stopper.decide import plan, tied_to

NS = "kubeflow-user"
T_STOP = 1_900_000_000.0  # 2030-03-17 17:46:40 UTC
GRACE = 20.0


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def notebook(stopped: float | None = T_STOP, name="nb", uid="nb-uid") -> dict:
    annotations = {"notebooks.kubeflow.org/last-activity": iso(T_STOP - 600)}
    if stopped is not None:
        annotations["kubeflow-resource-stopped"] = iso(stopped)
    return {"apiVersion": "kubeflow.org/v1", "kind": "Notebook",
            "metadata": {"name": name, "namespace": NS, "uid": uid, "annotations": annotations}}


def daskcluster(name="etl", workers=2, owner_uid="nb-uid", managed=True, record: Record | None = None) -> dict:
    spec = ClusterSpec(name=name, workers=workers, gpus_per_worker=1, image="img", worker_command="dask-cuda-worker",
                       cpu="4", memory="16Gi", idle_timeout=3600, env={})
    body = drop_none(build_daskcluster(spec, image="img", scheduler_cpu="1", scheduler_memory="1Gi"))
    meta = body["metadata"]
    meta.update(namespace=NS, uid=f"{name}-uid", creationTimestamp=iso(T_STOP - 3600))
    if owner_uid:
        meta["ownerReferences"] = [{"apiVersion": "kubeflow.org/v1", "kind": "Notebook", "name": "nb",
                                    "uid": owner_uid}]
    if not managed:
        meta["labels"].pop("app.kubernetes.io/managed-by")
    if record is not None:
        meta.setdefault("annotations", {})[STOPPED_ANNOTATION] = record.dump()
    body["status"] = {"phase": "Running"}
    return body


def group(cluster="etl", suffix="default", replicas=2) -> dict:
    return {"apiVersion": "kubernetes.dask.org/v1", "kind": "DaskWorkerGroup",
            "metadata": {"name": f"{cluster}-{suffix}", "namespace": NS,
                         "labels": {"dask.org/cluster-name": cluster}},
            "spec": {"cluster": cluster, "worker": {"replicas": replicas}}}


def autoscaler(cluster="etl", minimum=1, maximum=3) -> dict:
    return {"apiVersion": "kubernetes.dask.org/v1", "kind": "DaskAutoscaler",
            "metadata": {"name": cluster, "namespace": NS},
            "spec": {"cluster": cluster, "minimum": minimum, "maximum": maximum}}


def deployment(cluster="etl", suffix="default", n=0, deleting=False) -> dict:
    meta = {"name": f"{cluster}-{suffix}-worker-{n:010x}", "namespace": NS,
            "labels": {"dask.org/cluster-name": cluster, "dask.org/component": "worker",
                       "dask.org/workergroup-name": f"{cluster}-{suffix}"}}
    if deleting:
        meta["deletionTimestamp"] = iso(T_STOP)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta}


def scaled_record(at=T_STOP + 1, released=None, adapt=None, workers=None) -> Record:
    return Record(notebook="nb", stopped=iso(T_STOP), at=iso(at), workers=workers or {"etl-default": 2},
                  adapt=adapt, scaled=True, released=released)


# --- which clusters ---------------------------------------------------------------------------

def test_only_managed_clusters_owned_by_that_notebook_are_its():
    nb = notebook()
    assert tied_to(daskcluster(), nb)
    assert not tied_to(daskcluster(managed=False), nb)  # kubectl / KubeCluster's own
    assert not tied_to(daskcluster(owner_uid=None), nb)  # "End with notebook" unticked
    assert not tied_to(daskcluster(owner_uid="other-uid"), nb)  # a former notebook of that name
    other_ns = daskcluster()
    other_ns["metadata"]["namespace"] = "someone-else"
    assert not tied_to(other_ns, nb)
    # With a lifetime the chain is Notebook -> Job -> DaskCluster; our annotation names the notebook.
    with_lifetime = daskcluster(owner_uid=None)
    with_lifetime["metadata"]["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "Job",
                                                     "name": "etl-lifetime", "uid": "job-uid"}]
    with_lifetime["metadata"].setdefault("annotations", {})["rapids-kf.jupyter.org/ends-with"] = "Notebook/nb"
    assert tied_to(with_lifetime, nb)


def test_a_running_notebook_or_a_restarted_pod_changes_nothing():
    # A notebook pod deleted and made again by its StatefulSet: the Notebook has no annotation.
    p = plan(notebook(stopped=None), daskcluster(), [group()], [autoscaler()], [deployment(n=1), deployment(n=2)],
             now=T_STOP + 1, grace=GRACE)
    assert p.empty() and p.why == "the notebook is not stopped"


def test_clusters_of_others_in_the_namespace_are_left_alone():
    p = plan(notebook(), daskcluster(managed=False), [group()], [], [deployment(n=1)], now=T_STOP + 1, grace=GRACE)
    assert p.empty()


# --- the stop -----------------------------------------------------------------------------------

def test_a_stop_records_first_then_removes_the_autoscaler_and_scales_every_group_to_zero():
    groups = [group(), group(suffix="highmem", replicas=1), group(cluster="other", replicas=5)]
    p = plan(notebook(), daskcluster(), groups, [autoscaler(), autoscaler("other")],
             [deployment(n=1), deployment(n=2), deployment(suffix="highmem", n=3)], now=T_STOP + 1, grace=GRACE)
    assert p.record is not None and not p.record.scaled
    assert p.record.workers == {"etl-default": 2, "etl-highmem": 1}
    assert p.record.adapt == {"minimum": 1, "maximum": 3}
    assert p.record.stopped == iso(T_STOP) and p.record.notebook == "nb"
    assert p.delete_autoscalers == ["etl"]  # not the other cluster's
    assert p.scale_groups == ["etl-default", "etl-highmem"]
    assert p.scale_cluster and p.finish is not None and p.finish.scaled and not p.finish.released
    assert p.delete_deployments == []  # the operator retires them through the scheduler first


def test_a_cluster_with_no_workers_is_not_touched():
    p = plan(notebook(), daskcluster(workers=0), [group(replicas=0)], [], [], now=T_STOP + 1, grace=GRACE)
    assert p.empty() and p.why == "holds no workers"


def test_an_interrupted_stop_is_finished_with_what_was_recorded():
    rec = Record(notebook="nb", stopped=iso(T_STOP), at=iso(T_STOP + 1), workers={"etl-default": 2},
                 adapt={"minimum": 1, "maximum": 3}, scaled=False)
    # The autoscaler is already gone; the group still at 2.
    p = plan(notebook(), daskcluster(record=rec), [group()], [], [deployment(n=1)], now=T_STOP + 3, grace=GRACE)
    assert p.record is None  # the first write is not repeated (it holds what was before)
    assert p.scale_groups == ["etl-default"] and p.finish.adapt == {"minimum": 1, "maximum": 3}


def test_the_operator_gets_the_grace_period_then_leftover_workers_are_deleted():
    dc = daskcluster(record=scaled_record(at=T_STOP + 1))
    left = [deployment(n=1)]  # a worker the scheduler would not retire (the only copy of some data)
    waiting = plan(notebook(), dc, [group(replicas=0)], [], left, now=T_STOP + 10, grace=GRACE)
    assert waiting.empty() and waiting.wait
    due = plan(notebook(), dc, [group(replicas=0)], [], left, now=T_STOP + 1 + GRACE, grace=GRACE)
    assert due.delete_deployments == [left[0]["metadata"]["name"]]
    going = plan(notebook(), dc, [group(replicas=0)], [], [deployment(n=1, deleting=True)],
                 now=T_STOP + 30, grace=GRACE)
    assert going.empty() and going.wait


def test_workers_that_come_back_before_release_are_scaled_down_again():
    # An autoscaler run that read the group before it was deleted scaled it back to its minimum.
    dc = daskcluster(record=scaled_record())
    p = plan(notebook(), dc, [group(replicas=1)], [], [deployment(n=1)], now=T_STOP + 5, grace=GRACE)
    assert p.scale_groups == ["etl-default"]


def test_once_released_a_later_scale_up_is_left_alone():
    dc = daskcluster(record=scaled_record())
    gone = plan(notebook(), dc, [group(replicas=0)], [], [], now=T_STOP + 25, grace=GRACE)
    assert gone.finish is not None and gone.finish.released == iso(T_STOP + 25)
    released = daskcluster(record=scaled_record(released=iso(T_STOP + 25)))
    later = plan(notebook(), released, [group(replicas=3)], [], [deployment(n=7)], now=T_STOP + 600, grace=GRACE)
    assert later.empty() and later.why == "already released for this stop"


def test_a_second_stop_is_a_new_stop():
    # Started, scaled up through the card (which removes the record), stopped again: or, with
    # the record still there from the first stop, the new stop time is a new stop.
    dc = daskcluster(record=scaled_record(released=iso(T_STOP + 25)))
    p = plan(notebook(stopped=T_STOP + 7200), dc, [group(replicas=2)], [], [deployment(n=1)],
             now=T_STOP + 7201, grace=GRACE)
    assert p.record is not None and p.record.stopped == iso(T_STOP + 7200) and p.scale_groups == ["etl-default"]


# --- the card after the restart ------------------------------------------------------------------

def card(dc, replicas=0, autoscaled=False, now=T_STOP + 600):
    objs = Objects(dc, group(replicas=replicas), autoscaler() if autoscaled else None)
    return cluster_status(objs, NS, Timeouts(), now=now)


def test_the_card_says_what_happened_and_how_to_continue():
    c = card(daskcluster(record=scaled_record(released=iso(T_STOP + 25))))
    assert c.reasons[0] == ("Scaled to 0 workers (from 2 workers) when notebook nb was stopped at 17:46 UTC, "
                            "so that it holds no GPU; scale up to continue")
    assert c.workers.desired == 0
    assert c.to_json()["stopped_with_notebook"] == {"notebook": "nb", "stopped_at": iso(T_STOP), "workers": 2,
                                                    "adapt": None}


def test_the_card_names_the_adaptive_bounds_and_the_day_when_not_today():
    rec = scaled_record(adapt={"minimum": 1, "maximum": 3}, workers={"etl-default": 2, "etl-highmem": 1})
    c = card(daskcluster(record=rec), now=T_STOP + 2 * 86400)
    assert c.reasons[0] == (
        "Scaled to 0 workers (from 2 workers and 1 worker of other groups) and adaptive scaling (1-3) turned "
        "off when notebook nb was stopped at 2030-03-17 17:46 UTC, so that it holds no GPU; scale up or "
        "turn adaptive scaling on to continue")
    assert c.to_json()["stopped_with_notebook"]["adapt"] == {"minimum": 1, "maximum": 3}


def test_after_a_scale_up_the_card_no_longer_says_it():
    dc = daskcluster(record=scaled_record())
    for c in (card(dc, replicas=2), card(dc, autoscaled=True)):
        assert c.stopped_with_notebook is None and not any("stopped" in r for r in c.reasons)
    assert forget_stop(dc) == {"metadata": {"annotations": {STOPPED_ANNOTATION: None}}}
    assert forget_stop(daskcluster()) == {}


def test_an_unreadable_record_is_ignored():
    dc = daskcluster()
    dc["metadata"].setdefault("annotations", {})[STOPPED_ANNOTATION] = "{not json"
    assert record_of(dc) is None and card(dc).stopped_with_notebook is None


# --- what the controller sends -------------------------------------------------------------------

class FakeResponse:
    def __init__(self, status: int, body: dict):
        self.status_code, self._body = status, body
        self.text = json.dumps(body)

    def json(self):
        return self._body


class FakeApi:
    """Answers kr8s' call_api from a dict of lists; records every write in order."""

    def __init__(self, lists: dict[str, list[dict]], refuse: set[str] = frozenset()):
        self.lists, self.refuse = lists, refuse
        self.writes: list[tuple[str, str, dict | None]] = []

    @contextlib.asynccontextmanager
    async def call_api(self, method="GET", version="v1", namespace=None, url="", raise_for_status=True, **kw):
        plural = url.split("/")[0]
        if plural in self.refuse:
            yield FakeResponse(403, {"message": f'{plural} is forbidden: User "system:serviceaccount:kubeflow:'
                                                f'jupyter-rapids-kf-stopper" cannot {method.lower()} {plural}'})
            return
        if method == "GET":
            items = self.lists.get(plural, [])
            selector = (kw.get("params") or {}).get("labelSelector")
            if selector:
                key, value = selector.split("=")
                items = [i for i in items if i["metadata"].get("labels", {}).get(key) == value]
            yield FakeResponse(200, {"items": items, "metadata": {"resourceVersion": "7"}})
            return
        body = json.loads(kw["content"]) if "content" in kw else None
        self.writes.append((method, url, body))
        yield FakeResponse(200, body or {})


def test_the_controller_writes_in_order_and_then_waits_for_the_workers():
    api = FakeApi({"daskclusters": [daskcluster()], "daskworkergroups": [group()],
                   "daskautoscalers": [autoscaler()], "deployments": [deployment(n=1), deployment(n=2)]})
    stopper = Stopper(api, grace=GRACE)
    asyncio.run(stopper.reconcile(notebook()))
    assert [(m, u) for m, u, _ in api.writes] == [
        ("PATCH", "daskclusters/etl"), ("DELETE", "daskautoscalers/etl"),
        ("PATCH", "daskworkergroups/etl-default"), ("PATCH", "daskclusters/etl")]
    first = Record.load(api.writes[0][2]["metadata"]["annotations"][STOPPED_ANNOTATION])
    assert first is not None and not first.scaled and first.workers == {"etl-default": 2}
    assert api.writes[2][2] == {"spec": {"worker": {"replicas": 0}}}
    last = api.writes[3][2]
    assert last["spec"] == {"worker": {"replicas": 0}}
    assert Record.load(last["metadata"]["annotations"][STOPPED_ANNOTATION]).scaled
    # Not released yet: the next pass looks again.
    assert ("kubeflow-user", "nb") not in stopper.handled


def test_a_stopped_notebook_with_nothing_left_is_not_listed_again():
    api = FakeApi({"daskclusters": [daskcluster(record=scaled_record(released=iso(T_STOP + 25)))],
                   "daskworkergroups": [group(replicas=0)]})
    stopper = Stopper(api, grace=GRACE)
    asyncio.run(stopper.reconcile(notebook()))
    assert api.writes == [] and stopper.handled[("kubeflow-user", "nb")] == iso(T_STOP)


def test_a_refused_request_names_the_manifest_that_grants_it():
    api = FakeApi({"daskclusters": [daskcluster()]}, refuse={"daskworkergroups"})
    with pytest.raises(StopperError) as err:
        asyncio.run(Stopper(api).reconcile(notebook()))
    assert "may not list daskworkergroups in namespace kubeflow-user" in str(err.value)
    assert "kubectl apply -k manifests/stopper" in str(err.value)
