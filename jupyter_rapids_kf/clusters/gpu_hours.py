"""GPU-hours of each cluster: how long its workers held GPUs, and how busy those GPUs were.

The ClusterService shows this book every cluster the backend announces or lists. It integrates
two step functions over time: the GPUs held (`gpus.in_use`: worker pods or processes holding
theirs) and the last utilisation reading (`gpus.utilization`, the mean over the cluster's GPUs
that the server reads every few seconds). Both backends announce every change of either, so
between two changes both are constant. Time without a reading (the scheduler does not answer,
not read yet, readings turned off) counts as held but not read: the busy share covers the read
hours only, and is unknown (None), never 0, when none was read.

A cluster first seen with GPUs already held (after a server restart) is counted from when its
workers took them, where the backend knows (`Cluster.gpus_held_since`), else from first sight;
`counted_since` says which. Busy time before first sight is not known.

No clock and no tornado here: every call passes `now`, so tests replay recorded readings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..models.cluster import Cluster, GpuHours, iso_time

IDLE_BELOW = 5.0  # percent busy under which GPUs count as idle
IDLE_AFTER = 600  # seconds idle before the user is warned


@dataclass
class _Account:
    """One cluster's running totals (GPU-seconds) up to `since`, and its state since then."""

    created: str
    since: float
    counted_since: float | None = None
    held: float = 0.0
    read: float = 0.0
    busy: float = 0.0
    gpus: int = 0
    utilization: float | None = None
    idle_since: float | None = None
    seen: str | None = None  # the JSON of the last cluster shown, and what was answered for it
    answer: Cluster | None = None

    def advance(self, now: float) -> None:
        seconds = max(0.0, now - self.since)
        self.held += self.gpus * seconds
        if self.utilization is not None:
            self.read += self.gpus * seconds
            self.busy += self.gpus * seconds * self.utilization / 100
        self.since = max(self.since, now)


class GpuHoursBook:
    """Accounts per cluster (by namespace, name and creation time: a new cluster of the same
    name starts at 0), kept across lists until the cluster is deleted."""

    def __init__(self, price_per_gpu_hour: float = 0.0, currency: str = "USD"):
        self.price = price_per_gpu_hour or None
        self.currency = currency if self.price else None
        self._accounts: dict[tuple[str, str], _Account] = {}

    def count(self, cluster: Cluster, now: float) -> Cluster:
        """`cluster` with its `gpu_hours`, after counting the time since the last change."""
        key = (cluster.namespace, cluster.name)
        account = self._accounts.get(key)
        if account is None or account.created != cluster.created:
            account = self._accounts[key] = _open(cluster, now)
        gpus = max(0, cluster.gpus.in_use)
        utilization = cluster.gpus.utilization if gpus else None
        if (gpus, utilization) != (account.gpus, account.utilization):
            account.advance(now)
            if gpus and account.counted_since is None:
                account.counted_since = now
            account.gpus, account.utilization = gpus, utilization
            idle = gpus > 0 and utilization is not None and utilization < IDLE_BELOW
            # A gap in the readings ends an idle stretch: a warning needs readings all along.
            account.idle_since = (account.idle_since or now) if idle else None
            account.seen = None
        # The same cluster again (a list served from the backend's cache): the same answer, whose
        # encoded JSON a backend may keep (KubeCluster does), so lists stay cheap.
        seen = cluster.to_json_text()
        if account.seen != seen or account.answer is None:
            account.seen, account.answer = seen, replace(cluster, gpu_hours=self._view(account))
        return account.answer

    def forget(self, namespace: str, name: str) -> None:
        self._accounts.pop((namespace, name), None)

    def _view(self, account: _Account) -> GpuHours:
        held = account.held / 3600
        read = account.read / 3600
        busy = account.busy / 3600 if account.read else None
        return GpuHours(
            as_of=iso_time(account.since) or "",
            held=round(held, 6),
            read=round(read, 6),
            busy=None if busy is None else round(busy, 6),
            busy_share=None if busy is None else round(busy / read, 3),
            gpus_held=account.gpus,
            utilization=account.utilization,
            counted_since=iso_time(account.counted_since),
            idle_since=iso_time(account.idle_since),
            idle_below=IDLE_BELOW,
            idle_after=IDLE_AFTER,
            price_per_gpu_hour=self.price,
            currency=self.currency,
            cost=None if self.price is None else round(held * self.price, 2),
        )


def _open(cluster: Cluster, now: float) -> _Account:
    """A new account; GPUs already held are counted from when each worker took them, if known."""
    account = _Account(created=cluster.created, since=now)
    taken = [(t, g) for t, g in cluster.gpus_held_since if g > 0 and t <= now]
    if taken and cluster.gpus.in_use > 0:
        account.held = sum((now - t) * g for t, g in taken)
        account.counted_since = min(t for t, _ in taken)
    return account
