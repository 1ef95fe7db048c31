"""What Kueue's pod integration reads: the queue-name label on every pod it must admit.

One workload per pod, not a pod group: the operator makes one Deployment per worker and
replaces, adds and removes worker pods itself, while a Kueue pod group has a fixed size (its
extra pods are deleted, a removed member's quota is held until the whole group ends). Dask
clusters are elastic: every admitted worker computes, and a scale-up just adds workloads.
"""

from __future__ import annotations

from typing import Any

from ..client import Resource

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
ADMISSION_GATE = "kueue.x-k8s.io/admission"  # Kueue's scheduling gate until it admits a pod
GROUP = "kueue.x-k8s.io"
VERSION = "v1beta2"
WORKLOADS = Resource("workloads", "Workload", GROUP, VERSION)
LOCALQUEUES = Resource("localqueues", "LocalQueue", GROUP, VERSION)
CLUSTERQUEUES = Resource("clusterqueues", "ClusterQueue", GROUP, VERSION, namespaced=False)


def _label(part: dict[str, Any], queue: str) -> None:
    part.setdefault("metadata", {}).setdefault("labels", {})[QUEUE_LABEL] = queue


def mark_cluster(spec: dict[str, Any], queue: str) -> None:
    """A DaskCluster's spec: the operator copies spec.{scheduler,worker}.metadata to their pods."""
    _label(spec.setdefault("scheduler", {}), queue)
    _label(spec.setdefault("worker", {}), queue)


def mark_job(body: dict[str, Any], queue: str) -> None:
    """A DaskJob: its runner pod and its cluster's pods."""
    _label(body["spec"].setdefault("job", {}), queue)
    mark_cluster(body["spec"].setdefault("cluster", {}).setdefault("spec", {}), queue)


def gated(pod: dict[str, Any]) -> bool:
    """Kueue has not admitted this pod yet: the scheduler will not bind it to any node."""
    return any(g.get("name") == ADMISSION_GATE for g in (pod.get("spec") or {}).get("schedulingGates") or [])


def queue_of(pod: dict[str, Any]) -> str | None:
    return ((pod.get("metadata") or {}).get("labels") or {}).get(QUEUE_LABEL)
