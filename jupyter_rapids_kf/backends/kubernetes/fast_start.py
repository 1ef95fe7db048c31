"""What the DaskCluster body does so that its workers join the scheduler the moment it listens.

Measured on the real node (benchmarks/k8s_start_ideas.py): worker containers run 0.5 s after the
request and their `dask worker` is ready to connect long before the scheduler has imported
distributed and its dashboard. Until then every connection attempt fails, and distributed's
connect() retries with a full-jitter exponential backoff (0.01 s * 2**attempt, 30 s budget), so by
the time the scheduler listens a worker sleeps for up to several seconds before it tries again.
And the scheduler's Service lists the pod only once its readiness probe passed, which kube-proxy
then has to program.

- SERVICE: the scheduler Service publishes the pod's address before it is Ready
  (`publishNotReadyAddresses`, in the CRD's ServiceSpec): kube-proxy routes to it from the start,
  and a connection fails with a refusal from the pod itself until the port listens.
- PRELOAD: a worker preload (`distributed.worker.preload` through the environment, the text of a
  module, run before the worker registers) that waits for the scheduler's port with a short TCP
  probe every 50 ms, so the registration's first attempt finds the scheduler listening. The
  probe closes at once (the scheduler logs nothing above debug); it gives up after 120 s and
  lets distributed's own retries go on. A worker command that passes its own preloads
  (dask-cuda-worker adds dask_cuda.initialize) does not read this setting: it just runs as
  before (GPU workers take longer to start than the scheduler anyway).
- PROBE: the scheduler's readiness is the comm port itself (a TCP probe of `tcp-comm`, every
  second from the start), the port clients and workers need, instead of the dashboard's /health.
"""

from __future__ import annotations

from typing import Any

PRELOAD_ENV = "DASK_DISTRIBUTED__WORKER__PRELOAD"
METHOD_ENV = "DASK_DISTRIBUTED__WORKER__MULTIPROCESSING_METHOD"
PROBE_EVERY = 0.05  # seconds between the preload's TCP probes of the scheduler port
PROBE_FOR = 120.0  # seconds before the preload leaves the waiting to distributed

# The preload's text: distributed runs a preload name with a space in it as module source.
WAIT_FOR_SCHEDULER = f'''"""rapids-kf: wait until the scheduler port listens, so the worker registers at once."""
import asyncio
import time


async def dask_setup(worker):
    address = str(worker.scheduler.address)
    scheme, _, location = address.partition("://")
    if scheme not in ("tcp", "tls") or ":" not in location:
        return
    host, _, port = location.rpartition(":")
    deadline = time.monotonic() + {PROBE_FOR}
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host.strip("[]"), int(port)), 1.0)
        except (OSError, asyncio.TimeoutError):
            await asyncio.sleep({PROBE_EVERY})
            continue
        writer.close()
        return
'''


def service(body: dict[str, Any]) -> None:
    body["spec"]["scheduler"]["service"]["publishNotReadyAddresses"] = True


def preload(worker_container: dict[str, Any]) -> None:
    env = worker_container.setdefault("env", [])
    if any(e.get("name") == PRELOAD_ENV for e in env):
        return  # the user's own preloads win
    env.append({"name": PRELOAD_ENV, "value": repr([WAIT_FOR_SCHEDULER])})


def fork(worker_container: dict[str, Any]) -> None:
    env = worker_container.setdefault("env", [])
    if any(e.get("name") == METHOD_ENV for e in env):
        return
    env.append({"name": METHOD_ENV, "value": "fork"})


def probe(scheduler_container: dict[str, Any]) -> None:
    scheduler_container["readinessProbe"] = {
        "tcpSocket": {"port": "tcp-comm"},
        "initialDelaySeconds": 0,
        "periodSeconds": 1,
        "timeoutSeconds": 1,
    }


IDEAS = {"service": service, "preload": preload, "probe": probe, "fork": fork}
# What every new DaskCluster gets (measured: docs/results/k8s_start_ideas_2026-12-07.txt).
DEFAULT: tuple[str, ...] = ("service", "preload", "fork")
