"""Where a cluster stands in a Kueue queue: what the card says while Kueue holds its pods."""

from __future__ import annotations

from dataclasses import dataclass


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


@dataclass
class QueueUse:
    """What the ClusterQueue behind the LocalQueue has handed out of one resource."""

    resource: str  # "GPU" or "CPU", as the card says it
    in_use: float
    quota: float
    workloads: int  # admitted workloads of the whole ClusterQueue


@dataclass
class Queued:
    """A cluster that goes through Kueue (c.RapidsKF.kueue_queue): its pods counted apart."""

    local_queue: str
    cluster_queue: str | None = None  # None: the LocalQueue is not readable or names none
    admitted: int = 0  # workers Kueue admitted
    queued: int = 0  # workers waiting for quota (their pods gated, never bound to a node)
    scheduler_queued: bool = False
    position: int | None = None  # 1 = next in this namespace's LocalQueue; None: not waiting
    waiting_for: float = 0  # of `waiting_unit`, what the waiting pods ask for
    waiting_unit: str = "GPU"
    use: QueueUse | None = None
    preempted: int = 0  # workers whose quota Kueue took back (they wait again)
    inactive: str | None = None  # the LocalQueue or ClusterQueue is not active: Kueue's why

    def lines(self) -> list[str]:
        """The card's lines ([] when nothing waits and nothing was preempted)."""
        lines = []
        if self.inactive:
            lines.append(f"queue {self.local_queue} admits nothing: {self.inactive}")
        if self.queued or self.scheduler_queued:
            what = _amount(self.waiting_for, self.waiting_unit)
            text = f"Queued in {self.local_queue}"
            if self.position is not None:
                text += f": position {self.position}"
            text += f", waiting for {what}" if self.waiting_for else ""
            if self.use is not None:
                text += (f" ({_number(self.use.in_use)} of {_number(self.use.quota)} in use by "
                         f"{_plural(self.use.workloads, 'workload')})")
            parts = []
            if self.admitted or self.queued:
                parts.append(f"{_plural(self.admitted, 'worker')} admitted, {self.queued} queued")
            if self.scheduler_queued:
                parts.append("the scheduler is queued too")
            lines.append(text + ("; " + ", ".join(parts) if parts else ""))
        if self.preempted:
            lines.append(f"{_plural(self.preempted, 'worker')} preempted: Kueue gave "
                         f"{'its' if self.preempted == 1 else 'their'} quota to a workload that "
                         f"came first or has a higher priority; {'it waits' if self.preempted == 1 else 'they wait'} "
                         "in the queue again")
        return lines


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _amount(value: float, unit: str) -> str:
    return f"{_number(value)} {unit}" + ("" if value == 1 else "s")
