"""Entry point for ``kopf run``: the real dask-kubernetes operator, with its calls to
Dask schedulers answered on loopback.

The pods in the test cluster are fake (kwok), so no Dask scheduler exists. Unpatched,
every scale-down, autoscaler tick and idle check resolves the scheduler Service name
(10 s), then starts a port-forward and busy-waits 200 s for it inside the event loop,
then fails and is retried: the operator stalls for minutes at a time.

All of those calls find the scheduler through one function, ``get_scheduler_address``
imported into the controller module. We replace that name (and only that) so that:

* the HTTP API address is a stub on 127.0.0.1 that answers 503, as a scheduler that
  does not serve ``/api/v1`` would;
* the Dask RPC address lookup raises ``ConnectionError`` at once.

The operator then takes its own fallbacks: scale-down retires workers last-in-first-out,
the autoscaler logs that it cannot get a target, and idle checks are skipped. No
traffic leaves 127.0.0.1.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import kopf
from aiohttp import web

controller = importlib.import_module("dask_kubernetes.operator.controller.controller")
log = logging.getLogger("rapids-kf")
_stub: dict[str, Any] = {}


async def _no_scheduler_api(request: web.Request) -> web.Response:
    log.info("rapids-kf: scheduler API call %s %s answered 503", request.method, request.path)
    return web.json_response(
        {"message": "no Dask scheduler runs in the kwok test cluster"}, status=503
    )


async def get_scheduler_address(service_name: str, namespace: str,
                                port_name: str = "tcp-comm", **_: Any) -> str:
    if port_name == "http-dashboard":
        return f"http://127.0.0.1:{_stub['port']}/{namespace}/{service_name}"
    raise ConnectionError(f"no Dask scheduler to reach for {namespace}/{service_name}")


@kopf.on.startup()
async def start_scheduler_stub(**_: Any) -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _no_scheduler_api)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    _stub.update(runner=runner, port=runner.addresses[0][1])
    controller.get_scheduler_address = get_scheduler_address
    # cluster.py waits for this line; print it whatever kopf's log level is.
    print(f"rapids-kf: operator ready (scheduler stub on 127.0.0.1:{_stub['port']})", flush=True)


@kopf.on.cleanup()
async def stop_scheduler_stub(**_: Any) -> None:
    runner = _stub.pop("runner", None)
    if runner is not None:
        await runner.cleanup()
