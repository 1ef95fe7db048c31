"""A local cluster's start-up in the steps Kubernetes clusters report, for its processes.

There is no node to schedule on and no image to pull: the steps are accepted (the request
written down), the scheduler process started (its own start time) and ready (when it wrote its
address for this server), and each worker registered (the scheduler's own "add-worker" log).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ...errors import Unavailable
from ...models.cluster import parse_iso
from ...models.timeline import Step, Timeline, chain

ASK_TIMEOUT = 5.0


def _mtime(path: Any) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


async def build(backend: Any, runner: Any) -> Timeline:
    name = runner.name
    created = _mtime(backend.state_dir / f"{name}.spec.json") or parse_iso(runner.spec["created"]) or 0.0
    timeline = Timeline(cluster=name, image=None, created=created)
    timeline.steps.append(Step("cluster", "accepted", "done", created, 0.0, "cluster process launched"))
    identity: dict[str, Any] = {}
    log: tuple = ()
    if runner.address is not None:
        try:
            identity = await backend._call(runner, "identity")
            log = await asyncio.wait_for(backend._call(runner, "events", topic="all"), ASK_TIMEOUT)
        except (Unavailable, asyncio.TimeoutError):
            pass
    started = identity.get("started")
    ready = _mtime(backend.state_dir / f"{name}.json") if runner.address else None
    early = "started in advance, before the request (c.RapidsKF.local_warm_cluster)"
    scheduler = [Step("scheduler", "started", "done" if started else "waiting", started, pod="scheduler",
                      detail=early if started and started < created else ""),
                 Step("scheduler", "ready", "done" if ready else "waiting", ready, pod="scheduler")]
    timeline.steps.extend(chain(scheduler, created))
    names = {addr: (info or {}).get("name") for addr, info in (identity.get("workers") or {}).items()}
    registered = sorted((float(at), str(names[msg["worker"]])) for at, msg in log
                        if isinstance(msg, dict) and msg.get("action") == "add-worker"
                        and msg.get("worker") in names)
    for at, worker in registered:
        timeline.steps.extend(chain([Step("worker", "registered", "done", at, detail="in the scheduler's worker list",
                                          pod=f"worker {worker}")], ready or created))
    desired = runner.state.get("desired", runner.spec["workers"])
    if ready is not None and len(registered) >= desired:
        timeline.ready = max([ready] + [at for at, _ in registered[:desired]])
    return timeline
