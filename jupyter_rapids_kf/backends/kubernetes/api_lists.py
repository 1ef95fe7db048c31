"""What the cache saves: every kind listed from the API again on each request.

Used only with `c.RapidsKF.list_from_cache = False` (benchmarks/list_latency.py compares both).
"""

from __future__ import annotations

import asyncio

from ...models.cluster import Cluster
from .client import DASKAUTOSCALERS, DASKCLUSTERS, DASKWORKERGROUPS, PODS, Kube
from .status import CLUSTER_LABEL, Objects, Timeouts, cluster_status


async def list_from_api(kube: Kube, timeouts: Timeouts) -> list[Cluster]:
    lists = await asyncio.gather(
        kube.request("GET", DASKCLUSTERS, verb="list"),
        kube.request("GET", DASKWORKERGROUPS, verb="list"),
        kube.request("GET", DASKAUTOSCALERS, verb="list"),
        kube.request("GET", PODS, verb="list", params={"labelSelector": CLUSTER_LABEL}),
    )
    clusters, groups, scalers, pods = ({o["metadata"]["name"]: o for o in data.get("items") or []} for data in lists)
    by_cluster: dict[str, list[dict]] = {}
    for pod in pods.values():
        by_cluster.setdefault(pod["metadata"].get("labels", {}).get(CLUSTER_LABEL, ""), []).append(pod)
    other_groups: dict[str, list[dict]] = {}
    for group_name, group in groups.items():
        cluster = (group.get("spec") or {}).get("cluster", "")
        if group_name != f"{cluster}-default":
            other_groups.setdefault(cluster, []).append(group)
    return [
        cluster_status(
            Objects(dc, groups.get(f"{name}-default"), scalers.get(name), by_cluster.get(name, []),
                    other_groups=other_groups.get(name, [])),
            kube.namespace, timeouts,
        )
        for name, dc in clusters.items()
    ]
