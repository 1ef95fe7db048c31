"""A Kubernetes cluster's start-up, step by step, from its pods, their events and its scheduler.

Per pod: scheduled (the PodScheduled condition; the scheduler's refusal while it waits, such as
"Insufficient nvidia.com/gpu"), image (the kubelet's Pulling/Pulled events: how long, and the
size where it reports one; "already present"), started (the container's startedAt), and ready:
for the scheduler its Ready condition, for a worker its registration in the scheduler's own
event log ("add-worker"), not the pod's Ready nor the operator's phase. Events expire (an hour
by default): a step whose event is gone is "unknown", never guessed.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import RapidsKFError
from ...models.cluster import parse_iso
from ...models.timeline import Step, Timeline, chain
from .client import DASKCLUSTERS, EVENTS
from .status import COMPONENT_LABEL, event_cluster
from .view import BackendView

PULLED = re.compile(r'Successfully pulled image "?([^"\s]+)"? in ([0-9.]+)(ms|s|m)'
                    r'(?:.*?Image size: ([0-9]+) bytes)?')
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0}
PULL_FAILED = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName"}


def _event_time(event: dict[str, Any]) -> float | None:
    return parse_iso(event.get("lastTimestamp") or event.get("eventTime")
                      or (event.get("metadata") or {}).get("creationTimestamp"))


def _condition(pod: dict[str, Any], kind: str) -> dict[str, Any]:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return {}


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""


def image_step(pod: dict[str, Any], events: list[dict[str, Any]]) -> Step:
    name = pod["metadata"]["name"]
    component = (pod["metadata"].get("labels") or {}).get(COMPONENT_LABEL, "")
    mine = sorted((e for e in events if (e.get("involvedObject") or {}).get("name") == name),
                  key=lambda e: _event_time(e) or 0)
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in PULL_FAILED:
            return Step(component, "image", "failed", detail=f"{waiting['reason']}: {waiting.get('message', '')}".strip(": "),
                        pod=name)
    for event in reversed(mine):
        message = event.get("message") or ""
        if event.get("reason") == "Pulled":
            if "already present" in message:
                return Step(component, "image", "done", _event_time(event), detail="already on the node", pod=name)
            match = PULLED.search(message)
            if match:
                seconds = float(match.group(2)) * UNITS[match.group(3)]
                detail = f"pulled in {seconds:.1f} s"
                if match.group(4):
                    detail += f", {_size(int(match.group(4)))}"
                # The step lasts from scheduling to the pull's end (so steps add up); the
                # kubelet's own pull time is in the words.
                return Step(component, "image", "done", _event_time(event), detail=detail, pod=name)
            return Step(component, "image", "done", _event_time(event), detail=message, pod=name)
        if event.get("reason") == "Pulling":
            return Step(component, "image", "waiting", detail=f"pulling since {event.get('lastTimestamp') or ''}".strip(),
                        pod=name)
    if _started(pod) is not None:
        return Step(component, "image", "unknown", detail="no pull event (expired, or not reported here)", pod=name)
    return Step(component, "image", "waiting", pod=name)


def _started(pod: dict[str, Any]) -> float | None:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        state = status.get("state") or {}
        started = (state.get("running") or state.get("terminated") or {}).get("startedAt")
        if started:
            return parse_iso(started)
    return None


def pod_steps(pod: dict[str, Any], events: list[dict[str, Any]], registered: dict[str, float] | None) -> list[Step]:
    meta = pod["metadata"]
    name = meta["name"]
    component = (meta.get("labels") or {}).get(COMPONENT_LABEL, "")
    steps: list[Step] = []

    scheduled = _condition(pod, "PodScheduled")
    node = (pod.get("spec") or {}).get("nodeName")
    if scheduled.get("status") == "True":
        steps.append(Step(component, "scheduled", "done", parse_iso(scheduled.get("lastTransitionTime")),
                          detail=f"on node {node}" if node else "", pod=name))
    else:
        detail = scheduled.get("message") or "waiting for the Kubernetes scheduler"
        steps.append(Step(component, "scheduled", "waiting", detail=detail, pod=name))
        return chain(steps, parse_iso(meta.get("creationTimestamp")))

    image = image_step(pod, events)
    steps.append(image)
    started = _started(pod)
    if image.state == "done" and image.at is not None and started is not None:
        image.at = min(image.at, started)
    steps.append(Step(component, "started", "done" if started else "waiting", started, pod=name))

    if component == "scheduler":
        ready = _condition(pod, "Ready")
        ok = ready.get("status") == "True"
        steps.append(Step(component, "ready", "done" if ok else "waiting",
                          parse_iso(ready.get("lastTransitionTime")) if ok else None, pod=name))
    else:
        at = _registration(name, registered)
        if at is not None:
            steps.append(Step(component, "registered", "done", at, detail="in the scheduler's worker list", pod=name))
        elif registered is None:
            steps.append(Step(component, "registered", "unknown", detail="the scheduler could not be asked", pod=name))
        else:
            steps.append(Step(component, "registered", "waiting", pod=name))
    return chain(steps, parse_iso(meta.get("creationTimestamp")))


def _registration(pod_name: str, registered: dict[str, float] | None) -> float | None:
    """A worker's Dask name is its Deployment's name, the prefix of its pod's name."""
    for worker, at in (registered or {}).items():
        if worker and (pod_name == worker or pod_name.startswith(worker + "-")):
            return at
    return None


def build(dc: dict[str, Any], pods: list[dict[str, Any]], events: list[dict[str, Any]],
          registered: dict[str, float] | None, desired: int, image: str | None) -> Timeline:
    meta = dc.get("metadata") or {}
    created = parse_iso(meta.get("creationTimestamp")) or 0.0
    timeline = Timeline(cluster=meta.get("name", ""), image=image, created=created)
    timeline.steps.append(Step("cluster", "accepted", "done", created, 0.0, "DaskCluster created"))
    order = {"scheduler": 0, "worker": 1}
    pods = sorted(pods, key=lambda p: (order.get((p["metadata"].get("labels") or {}).get(COMPONENT_LABEL), 2),
                                       p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"]))
    finals: list[float] = []
    workers_done = 0
    scheduler_done = False
    for pod in pods:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        steps = pod_steps(pod, events, registered)
        timeline.steps.extend(steps)
        last = steps[-1]
        if last.state == "done" and last.at is not None:
            finals.append(last.at)
            if last.component == "scheduler":
                scheduler_done = True
            else:
                workers_done += 1
        elif last.state == "unknown" and steps[-2].state == "done":
            workers_done += 1  # started; registration not known: counted, not timed
    if scheduler_done and workers_done >= desired and finals:
        timeline.ready = max(finals)
    return timeline


async def registrations(address: str | None, timeout: float = 5.0) -> dict[str, float] | None:
    """Worker name -> when it registered, from the scheduler's own log; None if not reachable."""
    if not address:
        return None
    import asyncio

    from distributed.core import rpc

    try:
        async with rpc(address, timeout=timeout) as scheduler:
            identity = await asyncio.wait_for(scheduler.identity(), timeout)
            log = await asyncio.wait_for(scheduler.events(topic="all"), timeout)
    except Exception:  # anything the network or the remote side raises: not known
        return None
    names = {addr: (info or {}).get("name") for addr, info in (identity.get("workers") or {}).items()}
    found: dict[str, float] = {}
    for at, msg in log:
        if isinstance(msg, dict) and msg.get("action") == "add-worker" and msg.get("worker") in names:
            found[str(names[msg["worker"]])] = float(at)
    return found


async def for_cluster(backend: BackendView, cluster: Any) -> Timeline:
    """The timeline of one cluster of a KubernetesBackend: pods from its cache, every event of
    the namespace listed once (the cache keeps only warnings), the scheduler asked only where
    the backend may dial schedulers (gpu_metrics_interval > 0)."""
    name = cluster.name
    names = set(backend.watched[DASKCLUSTERS].objects)
    try:
        events = (await backend.kube.request("GET", EVENTS, verb="list")).get("items") or []
    except RapidsKFError:
        events = list(backend.watched[EVENTS].objects.values())
    events = [e for e in events if event_cluster(e, names) == name]
    registered = None
    if backend.config.gpu_metrics_interval and cluster.scheduler.ready:
        registered = await registrations(backend.scheduler_address(cluster))
    pods = backend.cluster_pods(name)
    dc = backend.watched[DASKCLUSTERS].objects.get(name) or {"metadata": {"name": name}}
    return build(dc, pods, events, registered, cluster.workers.desired, cluster.image)
