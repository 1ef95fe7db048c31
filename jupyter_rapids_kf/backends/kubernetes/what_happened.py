"""What happened to a cluster's pods lately, in words for the card's "What happened" list.

Reasons explain why a cluster is not ready *now*; once Kubernetes has replaced a deleted
worker or restarted one that ran out of memory, the cluster is Running again and the reasons
are empty, but the user's computation lost pieces (Dask recomputes them) or, for the
scheduler, everything it held. These notes say so for a while (`KEPT_SECONDS`):

- a pod deleted or evicted, then replaced by its Deployment: remembered from the watch (the
  old pod is gone from the API once its replacement runs), told once the new pod appears; a
  pod deleted with no successor (a scale-down, the cluster's own delete) is never told;
- a container that ended and was restarted in its pod (OOMKilled, an error exit): read from
  the pod's `lastState`, so it needs no memory and survives a restart of this server.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from ...models.cluster import Happening, iso_time, parse_iso

KEPT_SECONDS = 15 * 60  # how long a note stays on the card
MAX_NOTES = 5  # per cluster, newest first
COMPONENT_LABEL = "dask.org/component"
WORKER_NAME_ENV = "DASK_WORKER_NAME"
SCHEDULER_LOSS = ("what the cluster held is gone (tasks, results, scattered and published data): a "
                  "Client connected before must reconnect and submit its work again")
TOLD_KEPT = 256  # pods already told as replaced (their own DELETED event comes later)


@dataclass(frozen=True)
class _Gone:
    pod: str
    at: float
    how: str  # "was deleted", "was evicted (...)"


def who(pod: dict[str, Any]) -> tuple[str, str] | None:
    """(component, Dask name) of a scheduler or worker pod: the key its replacement shares."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    component = labels.get(COMPONENT_LABEL)
    if component == "scheduler":
        return "scheduler", "scheduler"
    if component != "worker":
        return None
    for container in (pod.get("spec") or {}).get("containers") or []:
        for env in container.get("env") or []:
            if env.get("name") == WORKER_NAME_ENV and env.get("value"):
                return "worker", env["value"]
    return None


def how_it_went(pod: dict[str, Any]) -> str:
    """Deleted, or evicted (the kubelet, the taint manager, the Eviction API, preemption)."""
    status = pod.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "DisruptionTarget" and cond.get("status") == "True":
            why = cond.get("message") or cond.get("reason") or ""
            return f"was evicted ({why})" if why else "was evicted"
    if status.get("reason") == "Evicted":
        return f"was evicted ({status.get('message')})" if status.get("message") else "was evicted"
    return "was deleted"


def memory_in_words(quantity: str | None) -> str | None:
    """A Kubernetes memory quantity as a person reads it: 768Mi -> 768 MiB, 2G -> 2 GB."""
    if not quantity:
        return None
    m = re.fullmatch(r"([0-9.]+)([KMGT]i|[kMGT])?", str(quantity).strip())
    if not m:
        return str(quantity)
    number, unit = m.groups()
    if unit is None:
        size = float(number)
        for name, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if size >= factor:
                return f"{size / factor:.3g} {name}"
        return f"{size:.0f} bytes"
    return f"{number} {unit}B"  # MiB, GiB; kB, MB, GB


def _limit(pod: dict[str, Any], container: str) -> str | None:
    for c in (pod.get("spec") or {}).get("containers") or []:
        if c.get("name") == container:
            return ((c.get("resources") or {}).get("limits") or {}).get("memory")
    return None


def restarts(pods: list[dict[str, Any]], now: float, kept: float = KEPT_SECONDS) -> list[Happening]:
    """Containers that ended and run again in the same pod, within `kept` seconds."""
    found = []
    for pod in pods:
        key = who(pod)
        if key is None or (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        component, name = key
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            if not (cs.get("state") or {}).get("running") or not cs.get("restartCount"):
                continue  # waiting to restart is a crash loop: the reasons tell that
            last = (cs.get("lastState") or {}).get("terminated") or {}
            ended = parse_iso(last.get("finishedAt"))
            if ended is None or now - ended > kept:
                continue
            reason, code = last.get("reason") or "", last.get("exitCode")
            if reason == "OOMKilled":
                limit = memory_in_words(_limit(pod, cs.get("name", "")))
                over = f"over its memory limit of {limit}" if limit else "over its memory limit"
                what = (f"{component} {name} ran out of memory: it went {over}, the kernel killed "
                        "it (OOMKilled) and Kubernetes restarted it")
            elif code in (0, None) and component == "worker":
                continue  # a worker that left on its own (its scheduler went): nothing lost here
            else:
                how = ", ".join(x for x in (reason, f"exit code {code}" if code is not None else "") if x)
                what = f"{component} {name} stopped ({how}) and Kubernetes restarted it"
            if component == "scheduler":
                what += f"; {SCHEDULER_LOSS}"
            elif reason == "OOMKilled":
                what += "; Dask recomputes what it held. If this repeats, give workers more memory"
            found.append(Happening(at=iso_time(ended) or "", what=what))
    return found


class WhatHappened:
    """Per cluster: pods that went and the notes told once their successors appeared."""

    def __init__(self, kept: float = KEPT_SECONDS, clock=time.time):
        self.kept, self.clock = kept, clock
        self._gone: dict[str, dict[tuple[str, str], _Gone]] = {}
        self._notes: dict[str, list[tuple[float, Happening]]] = {}
        self._told: dict[str, None] = {}  # "<cluster>/<pod>" of replaced pods, oldest first

    def pod_changed(self, cluster: str, old: dict | None, new: dict | None, cluster_deleting: bool) -> bool:
        """Called for each pod change; True when a new note was made."""
        now = self.clock()
        self._expire(cluster, now)
        if cluster_deleting:
            self._gone.pop(cluster, None)
            return False
        pod = new or old or {}
        key = who(pod)
        if key is None:
            return False
        name = (pod.get("metadata") or {}).get("name", "")
        going = new is None or bool((new.get("metadata") or {}).get("deletionTimestamp"))
        gone = self._gone.setdefault(cluster, {})
        if going:
            if f"{cluster}/{name}" in self._told:
                return False
            if key not in gone or gone[key].pod != name:
                since = parse_iso(((new or old or {}).get("metadata") or {}).get("deletionTimestamp"))
                gone[key] = _Gone(name, since or now, how_it_went(pod))
            return False
        was = gone.get(key)
        if old is not None or was is None or was.pod == name:
            return False
        del gone[key]
        self._told[f"{cluster}/{was.pod}"] = None
        while len(self._told) > TOLD_KEPT:
            del self._told[next(iter(self._told))]
        component, dask_name = key
        if component == "scheduler":
            what = (f"the scheduler restarted: its pod {was.pod} {was.how} and Kubernetes started "
                    f"{name}; {SCHEDULER_LOSS}")
        else:
            what = (f"worker {dask_name} was replaced: its pod {was.pod} {was.how} and Kubernetes "
                    f"started {name}; Dask recomputes what it held")
        self._notes.setdefault(cluster, []).append((was.at, Happening(at=iso_time(was.at) or "", what=what)))
        return True

    def of(self, cluster: str, pods: list[dict[str, Any]], now: float | None = None) -> list[Happening]:
        """The notes of a cluster, newest first."""
        now = self.clock() if now is None else now
        self._expire(cluster, now)
        notes = [(at, h) for at, h in self._notes.get(cluster, [])]
        notes += [(parse_iso(h.at) or 0, h) for h in restarts(pods, now, self.kept)]
        notes.sort(key=lambda n: n[0], reverse=True)
        return [h for _, h in notes[:MAX_NOTES]]

    def has_notes(self, cluster: str) -> bool:
        return bool(self._notes.get(cluster))

    def forget(self, cluster: str) -> None:
        self._gone.pop(cluster, None)
        self._notes.pop(cluster, None)

    def _expire(self, cluster: str, now: float) -> None:
        notes = self._notes.get(cluster)
        if notes:
            self._notes[cluster] = [n for n in notes if now - n[0] <= self.kept]
        gone = self._gone.get(cluster)
        if gone:
            for key in [k for k, g in gone.items() if now - g.at > self.kept]:
                del gone[key]
