"""The last words of crashed Dask containers, quoted in the card's reasons.

A worker whose command exits goes into CrashLoopBackOff, and the kubelet's message
("back-off 40s restarting failed container ...") does not say why. The last line the crashed
container printed usually does (`Error: No such option: --foo`, `ModuleNotFoundError: ...`).

Each crashed run is read once, from `pods/log` with `previous=true` while the container waits
to restart: the key is the pod, the container and the crashed run's container ID (or the
restart count), so watch events and status polls of the same crash never read the log again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Callable

from ...errors import RapidsKFError
from .client import PODS, Kube

log = logging.getLogger(__name__)

TAIL_LINES = 5  # the last line is what is quoted; a few more in case the very last are blank
LIMIT_BYTES = 16_384
MAX_LINE = 300  # characters quoted on the card
MAX_REMEMBERED = 500  # crashed runs remembered (pods of a busy namespace come and go)


@dataclass(frozen=True)
class Crash:
    """One run of a container that ended with an error."""

    pod: str
    container: str
    run: str  # the crashed run's container ID, or its restart count
    previous: bool  # the container waits to restart: its log is the previous container's
    exit_code: int | None
    reason: str  # CrashLoopBackOff, or the terminated state's reason (Error, OOMKilled, ...)
    terminated_reason: str  # Error, OOMKilled, ... of the crashed run


def crashes(pod: dict[str, Any]) -> list[Crash]:
    """The containers of a pod whose last run ended with an error and that are not running now."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    found = []
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        waiting, terminated = state.get("waiting") or {}, state.get("terminated")
        if waiting.get("reason") == "CrashLoopBackOff":
            last = (cs.get("lastState") or {}).get("terminated") or {}
            previous = True
        elif terminated and terminated.get("exitCode") not in (0, None) and not meta.get("deletionTimestamp"):
            last, previous = terminated, False
        else:
            continue
        run = last.get("containerID") or f"restart-{cs.get('restartCount', 0)}"
        found.append(Crash(
            pod=meta.get("name", ""), container=cs.get("name", ""), run=run, previous=previous,
            exit_code=last.get("exitCode"),
            reason="CrashLoopBackOff" if previous else (last.get("reason") or "Error"),
            terminated_reason=last.get("reason") or "",
        ))
    return found


def last_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line:
            return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"
    return ""


class CrashLogs:
    """Reads each crashed run's last log line once; `on_change(cluster)` when one is known."""

    def __init__(self, kube: Kube, on_change: Callable[[str], None]):
        self.kube = kube
        self.on_change = on_change
        self._lines: dict[Crash, str | None] = {}  # None: the log could not be read
        self._tasks: set[asyncio.Task] = set()
        self._limit = asyncio.Semaphore(4)
        self.reads = 0  # log requests made (each crashed run at most once)

    def line(self, crash: Crash) -> str | None:
        """The crashed run's last non-empty line ('' if it printed nothing); None while unknown."""
        return self._lines.get(crash)

    def notice(self, cluster: str, pod: dict[str, Any]) -> None:
        """Starts reading the log of every new crash of this pod (called on each pod change)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # objects put into the cache outside the server's loop
            return
        for crash in crashes(pod):
            if crash not in self._lines:
                self._lines[crash] = None
                self._trim()
                task = loop.create_task(self._read(cluster, crash))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def forget(self, pod_name: str) -> None:
        for crash in [c for c in self._lines if c.pod == pod_name]:
            del self._lines[crash]

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def _trim(self) -> None:
        while len(self._lines) > MAX_REMEMBERED:
            del self._lines[next(iter(self._lines))]

    async def _read(self, cluster: str, crash: Crash) -> None:
        params: dict[str, Any] = {"tailLines": TAIL_LINES, "limitBytes": LIMIT_BYTES}
        if crash.container:
            params["container"] = crash.container
        if crash.previous:
            params["previous"] = "true"
        async with self._limit:
            self.reads += 1
            try:
                text = await self.kube.request("GET", PODS, crash.pod, sub="log", verb="get logs of",
                                               params=params, text=True)
            except RapidsKFError as err:  # no pods/log right, the pod gone, the log rotated away
                log.debug("rapids-kf: no log of crashed %s/%s: %s", crash.pod, crash.container, err.message)
                return
        if crash in self._lines:  # not forgotten meanwhile (pod deleted)
            self._lines[crash] = last_line(text if isinstance(text, str) else "")
            self.on_change(cluster)
