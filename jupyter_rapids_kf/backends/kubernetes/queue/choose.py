"""Which LocalQueue a new cluster goes to (c.RapidsKF.kueue_queue)."""

from __future__ import annotations

AUTO = "auto"
DEFAULT_QUEUE = "default"  # the name Kueue's own LocalQueue defaulting uses


def choose(option: str, local_queues: list[str]) -> tuple[str | None, str]:
    """(queue or None, why), for the form's line and the doctor."""
    if not option:
        return None, "Kueue is not used (c.RapidsKF.kueue_queue is empty)"
    if option != AUTO:
        return option, f"LocalQueue {option} (c.RapidsKF.kueue_queue)"
    if DEFAULT_QUEUE in local_queues:
        return DEFAULT_QUEUE, "LocalQueue default of the namespace (c.RapidsKF.kueue_queue = auto)"
    if len(local_queues) == 1:
        return local_queues[0], (f"LocalQueue {local_queues[0]}, the namespace's only one "
                                 "(c.RapidsKF.kueue_queue = auto)")
    found = ", ".join(sorted(local_queues)) or "none"
    return None, (f"no LocalQueue to choose (c.RapidsKF.kueue_queue = auto): none is named default "
                  f"and the namespace has {len(local_queues)} ({found})")
