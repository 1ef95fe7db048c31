"""The doctor's `kueue` check: Kueue is there, this namespace may read and use its queue."""

from __future__ import annotations

from typing import Any

from ....errors import RapidsKFError
from ...base import Check
from ..client.access import can_i
from .labels import GROUP, VERSION, queue_of
from .state import condition

FIX_INSTALL = ("ask your administrator to install Kueue (kubectl apply --server-side -f "
               "https://github.com/kubernetes-sigs/kueue/releases/download/<version>/manifests.yaml) "
               "and create a ClusterQueue and a LocalQueue for this namespace (docs/kueue.md)")
FIX_RIGHTS = ("ask your administrator to grant the notebooks the Kueue reader role of docs/kueue.md "
              "(get, list, watch on workloads and localqueues here, clusterqueues cluster-wide)")
FIX_MANAGED = ("ask your administrator to add this namespace to Kueue's managedJobsNamespaceSelector "
               "and enable the `pod` integration (docs/kueue.md), or these pods are never queued")
MANAGED = ("kueue.x-k8s.io/managed", "true")  # the pod webhook's mark on pods it gates


async def kueue_check(backend: Any) -> Check | None:
    """None when the admin did not turn Kueue on (c.RapidsKF.kueue_queue empty)."""
    queue = backend.queue
    if queue is None:
        return None
    try:
        served = await backend.kube.discovery(GROUP, VERSION)
    except RapidsKFError as err:
        return Check("kueue", False, f"cannot ask the API whether Kueue is installed: {err.message}", err.fix)
    if not {"workloads", "localqueues"} <= served:
        return Check("kueue", False, f"c.RapidsKF.kueue_queue is set but Kueue is not installed "
                     f"({GROUP}/{VERSION} is not served)", FIX_INSTALL)
    ns = backend.namespace
    rights = [("list", "workloads", ns), ("watch", "workloads", ns), ("list", "localqueues", ns),
              ("watch", "localqueues", ns), ("list", "clusterqueues", None)]
    missing = []
    for verb, resource, where in rights:
        try:
            allowed = await can_i(backend.kube, verb, GROUP, resource, namespace=where)
        except RapidsKFError as err:
            return Check("kueue", False, f"cannot ask the API what is allowed: {err.message}", err.fix)
        if not allowed:
            missing.append(f"{verb} {resource}.{GROUP}")
    if missing:
        return Check("kueue", False, f"this notebook may not read Kueue's queue: missing {', '.join(missing)}",
                     FIX_RIGHTS)
    name, why = queue.choice()
    if name is None:
        return Check("kueue", False, why, "ask your administrator to create a LocalQueue in namespace "
                     f"{ns} or to name one in c.RapidsKF.kueue_queue (docs/kueue.md)")
    local = queue.local_queue(name)
    if local is None:
        return Check("kueue", False, f"LocalQueue {name} does not exist in namespace {ns}",
                     f"ask your administrator to create it (docs/kueue.md), pointing at a ClusterQueue "
                     f"whose namespaceSelector admits {ns}")
    active = condition(local, "Active")
    if active is not None and active.get("status") == "False":
        return Check("kueue", False, f"LocalQueue {name} admits nothing: {active.get('message')}",
                     "ask your administrator to create its ClusterQueue or make it active (docs/kueue.md)")
    unmanaged = [p["metadata"]["name"] for p in backend.cached_pods()
                 if queue_of(p) and ((p["metadata"].get("labels") or {}).get(MANAGED[0])) != MANAGED[1]]
    if unmanaged:
        return Check("kueue", False, f"Kueue does not manage namespace {ns}: pods "
                     f"{', '.join(sorted(unmanaged)[:3])} carry the queue name but were never gated",
                     FIX_MANAGED)
    cq = (local.get("spec") or {}).get("clusterQueue")
    return Check("kueue", True, f"new clusters and jobs wait for quota in {why}, ClusterQueue {cq}")
