"""Since when each running cluster's scheduler has been idle, for the card's countdown.

The operator stops a cluster with `spec.idleTimeout` once `time() > idle_since + idleTimeout`,
where `idle_since` is what the scheduler's own `check_idle` answers (through its HTTP API,
`/api/v1/check_idle`). The backend asks the same function over Dask's comm (the address the
client snippet uses), so "stops in 12 min if still idle" is the operator's own arithmetic.
Asking has the same effect as the operator's asking every 5 s: it only starts the idle clock.
"""

from __future__ import annotations

from .poller import PerCluster, ask_scheduler

ASK_TIMEOUT = 5.0


class IdleReadings(PerCluster):
    """Cluster name -> idle since (epoch seconds), for running clusters with an idle timeout."""

    what = "idle times"

    async def read(self, address: str) -> float | None:
        since = await ask_scheduler(address, "check_idle", ASK_TIMEOUT, "idle time")
        return float(since) if since else None
