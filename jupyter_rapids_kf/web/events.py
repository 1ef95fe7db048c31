"""Server-Sent Events of the cluster list: what one event is, and one subscriber's stream.

The service fans each change out to every subscription; the events handler writes them.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

# A subscriber that falls this far behind is dropped; its client reconnects and gets a full list.
SUBSCRIBER_QUEUE = 1000


@dataclass
class Event:
    """One Server-Sent Event: `clusters` (full list), `cluster` (upsert) or `deleted`."""

    event: str
    data: dict[str, Any]
    text: str | None = None  # `data` already encoded (one line of JSON), when it was

    def encode(self) -> str:
        if self.text is None:  # once, however many subscribers write it
            self.text = json.dumps(self.data, separators=(",", ":"))
        return f"event: {self.event}\ndata: {self.text}\n\n"


class Subscription:
    def __init__(self, snapshot: Event, queue: asyncio.Queue[Event | None], registry: set):
        self.snapshot = snapshot
        self._queue = queue
        self._registry = registry

    async def get(self, timeout: float) -> Event | None:
        """The next change; None when the stream ends. Raises asyncio.TimeoutError."""
        return await asyncio.wait_for(self._queue.get(), timeout)

    def close(self) -> None:
        self._registry.discard(self._queue)
