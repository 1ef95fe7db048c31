"""Where a cluster's start-up time went: the steps every backend reports, and an ETA.

A backend builds a `Timeline` of `Step`s (accepted; per scheduler and worker: scheduled,
image, started, ready/registered) from what it can observe; this module adds what is common:
the ETA from recent starts of the same image, and the JSON of the timeline route.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .cluster import iso_time

State = Literal["done", "waiting", "failed", "unknown"]
RECENT_STARTS = 5  # starts of one image the ETA is the median of


@dataclass
class Step:
    component: str  # "cluster", "scheduler" or "worker"
    step: str  # accepted | scheduled | image | started | ready | registered
    state: State
    at: float | None = None  # epoch seconds when it finished
    seconds: float | None = None  # how long it took, from the end of the step before it
    detail: str = ""
    pod: str | None = None  # the pod (or process) it belongs to

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = iso_time(self.at) if self.at is not None else None
        if self.seconds is not None:
            data["seconds"] = round(self.seconds, 3)
        return data


@dataclass
class Timeline:
    cluster: str
    image: str | None
    created: float  # epoch seconds the cluster was accepted
    ready: float | None = None  # when the scheduler and every desired worker were ready
    steps: list[Step] = field(default_factory=list)
    eta_seconds: float | None = None  # still to wait, estimated; None when ready or unknown
    eta_basis: str = ""

    @property
    def seconds(self) -> float | None:
        return None if self.ready is None else max(0.0, self.ready - self.created)

    def to_json(self, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        return {
            "cluster": self.cluster,
            "image": self.image,
            "created": iso_time(self.created),
            "ready": iso_time(self.ready) if self.ready is not None else None,
            "seconds": round(self.seconds, 3) if self.seconds is not None else None,
            "elapsed": round(max(0.0, (self.ready or now) - self.created), 3),
            "eta_seconds": round(self.eta_seconds, 1) if self.eta_seconds is not None else None,
            "eta_basis": self.eta_basis,
            "steps": [s.to_json() for s in self.steps],
        }


def chain(steps: list[Step], start: float | None) -> list[Step]:
    """Durations of one pod's (or process') steps, each from the end of the one before."""
    last = start
    for step in steps:
        if step.at is not None and last is not None and step.seconds is None:
            step.seconds = max(0.0, step.at - last)
        if step.at is not None:
            last = step.at
    return steps


class StartHistory:
    """Recent start-up durations per image, for the ETA of the next start of that image."""

    def __init__(self) -> None:
        self._starts: dict[str, deque[tuple[str, float]]] = {}

    def record(self, timeline: Timeline) -> None:
        if timeline.seconds is None:
            return
        starts = self._starts.setdefault(timeline.image or "", deque(maxlen=RECENT_STARTS))
        key = f"{timeline.cluster}@{timeline.created}"
        if all(k != key for k, _ in starts):
            starts.append((key, timeline.seconds))

    def known(self, cluster: str, created: float) -> bool:
        key = f"{cluster}@{created}"
        return any(k == key for starts in self._starts.values() for k, _ in starts)

    def estimate(self, timeline: Timeline, now: float | None = None) -> Timeline:
        """Sets the ETA of a timeline still starting: the median of recent starts of its image
        minus the time already spent (never below zero)."""
        now = time.time() if now is None else now
        starts = [s for _, s in self._starts.get(timeline.image or "", ())]
        if timeline.ready is not None or not starts:
            return timeline
        typical = statistics.median(starts)
        timeline.eta_seconds = max(0.0, typical - (now - timeline.created))
        what = timeline.image or "local clusters"
        timeline.eta_basis = f"median of {len(starts)} recent start(s) of {what}: {typical:.0f} s"
        return timeline
