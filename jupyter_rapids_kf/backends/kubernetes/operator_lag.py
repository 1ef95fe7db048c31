"""A scale the dask-kubernetes operator has not finished: since when, so that the card can say
the operator is not acting once `c.RapidsKF.operator_timeout` has passed.

kopf writes its last-handled annotation on the worker group once the operator's handlers for
a change have run (cache.py keeps its replica count). While the group asks for more or fewer
replicas than that, the operator has not done the scale; with the operator stopped (redeployed,
crashed) the card would otherwise say "1 of 3 workers not started yet" for good. The first time
a server sees the difference is remembered, per cluster and asked count.
"""

from __future__ import annotations

import time
from typing import Any

from .cache import HANDLED, handled_replicas


def asked_and_handled(group: dict[str, Any] | None) -> tuple[int, int] | None:
    """(replicas asked, replicas the operator last handled) of a worker group, when both are known."""
    if not group:
        return None
    handled = handled_replicas(((group.get("metadata") or {}).get("annotations") or {}).get(HANDLED))
    asked = ((group.get("spec") or {}).get("worker") or {}).get("replicas")
    if handled is None or not isinstance(asked, int):
        return None
    return asked, handled


class ScaleWaits:
    def __init__(self, clock=time.time):
        self.clock = clock
        self._since: dict[str, tuple[int, float]] = {}  # cluster -> (replicas asked, first seen)

    def since(self, cluster: str, group: dict[str, Any] | None) -> float | None:
        """Since when the operator has left the group's scale undone; None when it is done."""
        both = asked_and_handled(group)
        if both is None or both[0] == both[1]:
            self._since.pop(cluster, None)
            return None
        seen = self._since.get(cluster)
        if seen is None or seen[0] != both[0]:
            seen = self._since[cluster] = (both[0], self.clock())
        return seen[1]

    def waiting(self, cluster: str) -> bool:
        return cluster in self._since

    def forget(self, cluster: str) -> None:
        self._since.pop(cluster, None)
