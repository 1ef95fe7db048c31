"""Kueue's objects of the namespace, kept current by the same list + watch as the clusters.

Workloads and LocalQueues are the namespace's; ClusterQueues are cluster-wide and need the
admin's grant to read (docs/kueue.md): without it the card leaves out the quota in use.
"""

from __future__ import annotations

from typing import Any, Callable

from ....models.queue import Queued
from ..cache import Watched
from ..client import Kube, Resource
from .choose import choose
from .labels import CLUSTERQUEUES, LOCALQUEUES, WORKLOADS
from .state import queued


class KueueWatch:
    def __init__(self, kube: Kube, option: str, on_change: Callable[[], None]):
        self.option = option
        self._on_change = on_change

        def watched(resource: Resource) -> Watched:
            return Watched(kube, resource, lambda *_: self._on_change())

        self.watched = {r: watched(r) for r in (WORKLOADS, LOCALQUEUES, CLUSTERQUEUES)}

    def start(self) -> None:
        for w in self.watched.values():
            w.start()

    async def stop(self) -> None:
        for w in self.watched.values():
            await w.stop()

    def _objects(self, resource: Resource) -> dict[str, dict[str, Any]]:
        return self.watched[resource].objects

    def choice(self) -> tuple[str | None, str]:
        """The LocalQueue a new cluster goes to, and why (the form and the doctor say it)."""
        return choose(self.option, sorted(self._objects(LOCALQUEUES)))

    def local_queue(self, name: str) -> dict[str, Any] | None:
        return self._objects(LOCALQUEUES).get(name)

    def cluster_queue(self, name: str | None) -> dict[str, Any] | None:
        return self._objects(CLUSTERQUEUES).get(name) if name else None

    def state(self, cluster: str, pods: list[dict[str, Any]],
              cluster_of: Callable[[str | None], str | None]) -> Queued | None:
        local = None
        for pod in pods:
            name = ((pod.get("metadata") or {}).get("labels") or {}).get("kueue.x-k8s.io/queue-name")
            if name:
                local = self.local_queue(name)
                break
        cq_name = ((local or {}).get("spec") or {}).get("clusterQueue")
        return queued(cluster, pods, self._objects(WORKLOADS), cluster_of, local,
                      self.cluster_queue(cq_name), self.watched[LOCALQUEUES].synced.is_set())
