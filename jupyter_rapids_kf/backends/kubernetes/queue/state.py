"""Where a cluster stands in its Kueue queue, from pods, Workloads and the queues' status (pure).

Kueue makes one Workload per pod (labels.py), owned by the pod. A gated pod waits for quota;
an ungated one was admitted. The position counts clusters, not pods: the waiting workloads of
the LocalQueue in Kueue's order (priority, then age), each cluster at the place of its first.
Other namespaces' workloads are not readable by a profile's service account, so the position
is in this namespace's LocalQueue; the ClusterQueue's status adds how much of the quota is in
use and by how many workloads (the admin grants reading it, docs/kueue.md).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ....models.cluster import parse_iso
from ....models.queue import Queued, QueueUse
from .labels import gated, queue_of

GPU = "nvidia.com/gpu"
COMPONENT = "dask.org/component"


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def is_true(obj: dict[str, Any], kind: str) -> bool:
    cond = condition(obj, kind)
    return cond is not None and cond.get("status") == "True"


def owner_pod(workload: dict[str, Any]) -> str | None:
    for ref in (workload.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == "Pod":
            return ref.get("name")
    return None


def waiting(workload: dict[str, Any]) -> bool:
    return not is_true(workload, "QuotaReserved") and not is_true(workload, "Finished") \
        and not (workload.get("metadata") or {}).get("deletionTimestamp")


def preempted(workload: dict[str, Any]) -> bool:
    if is_true(workload, "Preempted"):
        return True
    evicted = condition(workload, "Evicted")
    return evicted is not None and evicted.get("status") == "True" and evicted.get("reason") == "Preempted"


def quantity(text: Any) -> float:
    """A Kubernetes quantity as a number (CPUs: "500m" is 0.5); 0 when unreadable."""
    text = str(text or "0")
    units = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
             "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    for suffix in sorted(units, key=len, reverse=True):
        if text.endswith(suffix):
            try:
                return float(text[: -len(suffix)]) * units[suffix]
            except ValueError:
                return 0.0
    try:
        return float(text)
    except ValueError:
        return 0.0


def _asks(pod: dict[str, Any], resource: str) -> float:
    total = 0.0
    for container in (pod.get("spec") or {}).get("containers") or []:
        res = container.get("resources") or {}
        total += quantity((res.get("requests") or {}).get(resource) or (res.get("limits") or {}).get(resource))
    return total


def position(workloads: Iterable[dict[str, Any]], queue: str, cluster: str,
             cluster_of: Callable[[str | None], str | None]) -> int | None:
    """1-based place of `cluster` among what waits in LocalQueue `queue`; None: nothing waits."""
    order = sorted(
        (w for w in workloads if (w.get("spec") or {}).get("queueName") == queue and waiting(w)),
        key=lambda w: (-int((w.get("spec") or {}).get("priority") or 0),
                       parse_iso((w.get("metadata") or {}).get("creationTimestamp")) or 0.0,
                       (w.get("metadata") or {}).get("name", "")))
    seen: list[str] = []
    for w in order:
        owner = cluster_of(owner_pod(w)) or f"workload/{w['metadata'].get('name')}"
        if owner not in seen:
            seen.append(owner)
    return seen.index(cluster) + 1 if cluster in seen else None


def use(cluster_queue: dict[str, Any] | None, resource: str) -> QueueUse | None:
    if not cluster_queue:
        return None
    quota = in_use = 0.0
    for group in (cluster_queue.get("spec") or {}).get("resourceGroups") or []:
        for flavor in group.get("flavors") or []:
            for res in flavor.get("resources") or []:
                if res.get("name") == resource:
                    quota += quantity(res.get("nominalQuota"))
    status = cluster_queue.get("status") or {}
    for flavor in status.get("flavorsUsage") or []:
        for res in flavor.get("resources") or []:
            if res.get("name") == resource:
                in_use += quantity(res.get("total"))
    return QueueUse(resource="GPU" if resource == GPU else "CPU", in_use=in_use, quota=quota,
                    workloads=int(status.get("admittedWorkloads") or 0))


def _inactive(obj: dict[str, Any] | None, what: str) -> str | None:
    cond = condition(obj or {}, "Active")
    if cond is not None and cond.get("status") == "False":
        return f"{what} is not active ({cond.get('reason')}: {cond.get('message')})"
    return None


def queued(cluster: str, pods: list[dict[str, Any]], workloads: dict[str, dict[str, Any]],
           cluster_of: Callable[[str | None], str | None], local_queue: dict[str, Any] | None,
           cluster_queue: dict[str, Any] | None, local_queues_read: bool) -> Queued | None:
    """None when none of the cluster's pods goes through Kueue."""
    marked = [p for p in pods if queue_of(p) and not (p.get("metadata") or {}).get("deletionTimestamp")]
    if not marked:
        return None
    name = queue_of(marked[0]) or ""
    workers = [p for p in marked if ((p["metadata"].get("labels") or {}).get(COMPONENT)) == "worker"]
    waiting_pods = [p for p in marked if gated(p)]
    gpus = sum(_asks(p, GPU) for p in waiting_pods)
    resource = GPU if gpus or any(_asks(p, GPU) for p in marked) else "cpu"
    amount = gpus if resource == GPU else sum(_asks(p, "cpu") for p in waiting_pods)
    mine = {p["metadata"]["name"] for p in marked}
    state = Queued(
        local_queue=name,
        cluster_queue=(local_queue or {}).get("spec", {}).get("clusterQueue"),
        admitted=sum(1 for p in workers if not gated(p)),
        queued=sum(1 for p in workers if gated(p)),
        scheduler_queued=any(gated(p) for p in marked if p not in workers),
        position=position(workloads.values(), name, cluster, cluster_of) if waiting_pods else None,
        waiting_for=amount,
        waiting_unit="GPU" if resource == GPU else "CPU",
        use=use(cluster_queue, resource),
        preempted=sum(1 for w in workloads.values() if owner_pod(w) in mine and preempted(w)),
    )
    if local_queues_read and local_queue is None:
        state.inactive = (f"LocalQueue {name} does not exist in this namespace: ask your administrator "
                          "to create it (docs/kueue.md) or set c.RapidsKF.kueue_queue to one that does")
    else:
        state.inactive = _inactive(local_queue, f"LocalQueue {name}") or \
            _inactive(cluster_queue, f"ClusterQueue {state.cluster_queue}")
    return state
