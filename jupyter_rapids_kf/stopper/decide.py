"""What the stopper does to one cluster of one notebook: pure decisions on the objects as read.

A cluster is the stopper's only when it carries our managed label and is tied to the Notebook:
the Notebook is its ownerReference (by uid), or the lifetime Job that owns it is owned by the
Notebook (our `ends-with` annotation says which). Clusters of DaskJobs, clusters made with
kubectl or KubeCluster, and clusters made with "End with notebook" unticked are never touched.

For a notebook stopped at time S (its `kubeflow-resource-stopped` annotation):
1. first: write the Record (workers of each group, the autoscaler's bounds) with scaled=False;
2. delete the DaskAutoscaler (it would scale the workers back up to its minimum), scale every
   worker group to 0 (the operator retires the workers through the scheduler, as for any
   scale-down) and keep the DaskCluster's field in step; then mark the Record scaled;
3. until no worker Deployment of those groups is left: a group the operator left above 0 is
   scaled to 0 again, and `grace` seconds after step 2, Deployments the operator did not delete
   (a worker the scheduler would not retire because it held the only copy of some data) are
   deleted: stop means the GPUs are released;
4. then mark the Record released and do nothing more for S: a scale-up while the notebook is
   still stopped (kubectl, a DaskJob's user) is left alone.
A notebook pod that restarts without the annotation, and a notebook started again, change
nothing; the Record stays for the card until the user scales up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..backends.kubernetes.lifetime import ENDS_WITH_ANNOTATION
from ..backends.kubernetes.notebook_stop import KUBEFLOW_STOPPED, Record, record_of
from ..backends.kubernetes.spec import MANAGED_LABEL, MANAGED_VALUE
from ..models.cluster import iso_time, parse_iso

GROUP_LABEL = "dask.org/workergroup-name"


@dataclass
class Plan:
    """Requests for one cluster, in this order; an empty plan does nothing."""

    cluster: str
    why: str
    record: Record | None = None  # write first (scaled=False)
    delete_autoscalers: list[str] = field(default_factory=list)
    scale_groups: list[str] = field(default_factory=list)  # worker groups to patch to 0
    scale_cluster: bool = False  # the DaskCluster's spec.worker.replicas to 0 (with `finish`)
    delete_deployments: list[str] = field(default_factory=list)
    finish: Record | None = None  # write last
    wait: bool = False  # nothing to do now, but look again (workers still going)

    def empty(self) -> bool:
        return not (self.record or self.delete_autoscalers or self.scale_groups or self.scale_cluster
                    or self.delete_deployments or self.finish)


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def stopped_at(notebook: dict[str, Any]) -> str | None:
    """When KubeFlow stopped the notebook, or None while it is not stopped."""
    return (_meta(notebook).get("annotations") or {}).get(KUBEFLOW_STOPPED) or None


def tied_to(cluster: dict[str, Any], notebook: dict[str, Any]) -> bool:
    meta, nb = _meta(cluster), _meta(notebook)
    if (meta.get("labels") or {}).get(MANAGED_LABEL) != MANAGED_VALUE:
        return False
    if meta.get("namespace") != nb.get("namespace"):
        return False
    refs = meta.get("ownerReferences") or []
    if any(r.get("kind") == "Notebook" and r.get("uid") == nb.get("uid") for r in refs):
        return True
    ends_with = (meta.get("annotations") or {}).get(ENDS_WITH_ANNOTATION)
    return ends_with == f"Notebook/{nb.get('name')}" and any(r.get("kind") == "Job" for r in refs)


def _replicas(group: dict[str, Any]) -> int:
    try:
        return int(((group.get("spec") or {}).get("worker") or {}).get("replicas") or 0)
    except (TypeError, ValueError):
        return 0


def _of_cluster(objs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [o for o in objs if (o.get("spec") or {}).get("cluster") == name
            and not _meta(o).get("deletionTimestamp")]


def plan(notebook: dict[str, Any], cluster: dict[str, Any], groups: list[dict[str, Any]],
         autoscalers: list[dict[str, Any]], deployments: list[dict[str, Any]],
         now: float, grace: float) -> Plan:
    """``groups``, ``autoscalers``: the namespace's DaskWorkerGroups and DaskAutoscalers;
    ``deployments``: the worker Deployments of this cluster (any group)."""
    name = _meta(cluster).get("name", "")
    stop = stopped_at(notebook)
    if stop is None:
        return Plan(name, "the notebook is not stopped")
    if not tied_to(cluster, notebook):
        return Plan(name, "not a cluster of this notebook made by jupyter-rapids-kf")
    if _meta(cluster).get("deletionTimestamp"):
        return Plan(name, "being deleted")
    mine = _of_cluster(groups, name)
    scalers = _of_cluster(autoscalers, name)
    record = record_of(cluster)
    current = record is not None and record.notebook == _meta(notebook).get("name") and record.stopped == stop

    if not current:
        before = {_meta(g).get("name", ""): _replicas(g) for g in mine}
        adapt = None
        if scalers:
            spec = scalers[0].get("spec") or {}
            adapt = {"minimum": int(spec.get("minimum") or 0), "maximum": int(spec.get("maximum") or 0)}
        if not any(before.values()) and adapt is None and not deployments:
            return Plan(name, "holds no workers")
        record = Record(notebook=_meta(notebook).get("name", ""), stopped=stop, at=iso_time(now),
                        workers=before, adapt=adapt)
        return _scale(name, record, mine, scalers, write_first=True, why="the notebook was stopped")

    assert record is not None
    if not record.scaled:  # a stopper that died between its writes: do the rest
        return _scale(name, record, mine, scalers, write_first=False, why="finishing an interrupted stop")
    if record.released:
        return Plan(name, "already released for this stop")
    ours = [g for g in mine if _meta(g).get("name") in record.workers]
    up = [_meta(g)["name"] for g in ours if _replicas(g) > 0]
    if up or scalers:  # the operator (or an autoscaler's last run) raced the scale-down
        return Plan(name, "workers came back before they were released",
                    delete_autoscalers=[_meta(a)["name"] for a in scalers], scale_groups=up)
    left = [_meta(d).get("name", "") for d in deployments
            if (_meta(d).get("labels") or {}).get(GROUP_LABEL) in record.workers
            and not _meta(d).get("deletionTimestamp")]
    if left:
        acted = parse_iso(record.at) or now
        if now - acted < grace:
            return Plan(name, f"waiting for the operator to retire {len(left)} worker(s)", wait=True)
        return Plan(name, f"the operator left {len(left)} worker(s) {grace:.0f} s after the scale-down",
                    delete_deployments=left)
    if any(_meta(d).get("deletionTimestamp") for d in deployments
           if (_meta(d).get("labels") or {}).get(GROUP_LABEL) in record.workers):
        return Plan(name, "worker Deployments are being deleted", wait=True)
    record.released = iso_time(now)
    return Plan(name, "every worker is gone", finish=record)


def _scale(name: str, record: Record, groups: list[dict[str, Any]], scalers: list[dict[str, Any]],
           write_first: bool, why: str) -> Plan:
    finish = Record(**{**record.__dict__, "scaled": True})
    return Plan(
        name, why,
        record=record if write_first else None,
        delete_autoscalers=[_meta(a)["name"] for a in scalers],
        scale_groups=[_meta(g)["name"] for g in groups if _replicas(g) > 0],
        scale_cluster=True,
        finish=finish,
    )
