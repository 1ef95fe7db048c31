"""Entry point of the real node's operator: dask-kubernetes' controller, unchanged (every
call to a scheduler is real). Only kopf's watch timeouts are set: in full test runs the
operator once stopped receiving one namespace's events for good (no timer, no delete
handled); with these a watch stream is replaced every minute instead of every 30-60."""

from __future__ import annotations

from typing import Any

import kopf

from dask_kubernetes.operator.controller import controller  # noqa: F401  (registers the handlers)


@kopf.on.startup()
def watch_timeouts(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.watching.server_timeout = 60
    settings.watching.client_timeout = 75
