"""The idle countdown of a real local cluster: `idle_since` comes from its scheduler's own
idle clock, is cleared while a Client's work runs, and starts again when the work ends."""

from __future__ import annotations

import time
from datetime import datetime


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def test_idle_since_follows_the_schedulers_work(api):
    status, _ = await api.call("POST", "clusters", {"name": "idler", "workers": 1, "idle_timeout": 600})
    assert status == 202
    try:
        cluster = await api.wait_for("idler", lambda c: c["phase"] == "Running" and c["idle_since"], 90,
                                     "Running and idle")
        assert cluster["idle_timeout"] == 600
        assert time.time() - 120 < seconds(cluster["idle_since"]) <= time.time() + 1

        from distributed import Client

        async with Client(cluster["scheduler"]["address"], asynchronous=True) as client:
            future = client.submit(time.sleep, 4, pure=False)
            busy = await api.wait_for("idler", lambda c: c["idle_since"] is None, 30, "busy")
            assert busy["phase"] == "Running"
            await future
            started = time.time()
            idle = await api.wait_for("idler", lambda c: c["idle_since"] is not None, 30, "idle again")
        # The clock starts again when the work ends, not at the first idle time.
        assert seconds(idle["idle_since"]) >= started - 2 > seconds(cluster["idle_since"])
    finally:
        await api.call("DELETE", "clusters/idler")
        await api.wait_gone("idler")
