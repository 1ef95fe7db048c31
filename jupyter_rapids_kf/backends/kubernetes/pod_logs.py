"""Recent log lines of a cluster's scheduler or worker pods, from the kubelet (pods/log)."""

from __future__ import annotations

import asyncio

from ...errors import Invalid, NotFound
from ..base import PodLogs
from .client import PODS, Kube
from .status import COMPONENT_LABEL


async def read(kube: Kube, pods: list[dict], component: str, tail: int) -> list[PodLogs]:
    chosen = sorted((p for p in pods if (p["metadata"].get("labels") or {}).get(COMPONENT_LABEL) == component),
                    key=lambda p: p["metadata"]["name"])
    limit = asyncio.Semaphore(8)

    async def one(pod: dict) -> PodLogs:
        pod_name = pod["metadata"]["name"]
        containers = (pod.get("spec") or {}).get("containers") or [{}]
        params = {"tailLines": tail}
        if containers[0].get("name"):
            params["container"] = containers[0]["name"]
        async with limit:
            try:
                text = await kube.request("GET", PODS, pod_name, sub="log", verb="get logs of",
                                          params=params, text=True)
            except (Invalid, NotFound) as err:  # not started yet, or gone meanwhile
                return PodLogs(pod=pod_name, component=component, lines=[f"(no logs: {err.message})"])
        return PodLogs(pod=pod_name, component=component, lines=text.splitlines()[-tail:])

    return list(await asyncio.gather(*(one(p) for p in chosen)))
