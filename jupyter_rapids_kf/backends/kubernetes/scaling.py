"""The writes behind the scale slider and adaptive scaling: the worker group's replicas and
the DaskAutoscaler. Each answer goes into the cache at once, so the next read shows it."""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from ...errors import Exists, NotFound, RapidsKFError
from .cache import Watched
from .client import DASKAUTOSCALERS, DASKCLUSTERS, DASKWORKERGROUPS, Kube, Resource
from .notebook_stop import forget_stop
from .spec import autoscaler_body

log = logging.getLogger(__name__)


async def restore(undo: Callable[[], Awaitable[Any]]) -> None:
    """Undo the first half of a change whose second half failed, saying so if it cannot."""
    try:
        await undo()
    except RapidsKFError as err:
        log.warning("rapids-kf: could not undo a partial change: %s", err.message)


async def set_replicas(kube: Kube, watched: dict[Resource, Watched], name: str, workers: int) -> None:
    """The worker group is what the operator scales; the DaskCluster field is kept in step so
    that a later scale to the same number is not ignored as "no change"."""
    patch = {"spec": {"worker": {"replicas": workers}}}
    group_name = f"{name}-default"
    cached = watched[DASKWORKERGROUPS].objects.get(group_name) or {}
    dc = watched[DASKCLUSTERS].objects.get(name) or {}
    before = (((cached or dc).get("spec") or {}).get("worker") or {}).get("replicas")
    try:
        updated = await kube.request("PATCH", DASKWORKERGROUPS, group_name, verb="patch", body=patch, patch=True)
        watched[DASKWORKERGROUPS].put(updated)
        patched_group = True
    except NotFound:  # the operator has not made it yet: it will from the DaskCluster field
        patched_group = False
    if workers > 0:
        patch = {**patch, **forget_stop(dc)}
    try:
        updated = await kube.request("PATCH", DASKCLUSTERS, name, verb="patch", body=patch, patch=True)
    except RapidsKFError:
        if patched_group and before is not None:
            back = {"spec": {"worker": {"replicas": before}}}
            await restore(lambda: kube.request("PATCH", DASKWORKERGROUPS, group_name, verb="patch",
                                               body=back, patch=True))
        raise
    watched[DASKCLUSTERS].put(updated)


async def create_autoscaler(kube: Kube, watched: dict[Resource, Watched], name: str,
                            minimum: int, maximum: int) -> None:
    owner = watched[DASKCLUSTERS].objects.get(name)
    body = autoscaler_body(name, minimum, maximum, owner)
    try:
        created = await kube.request("POST", DASKAUTOSCALERS, verb="create", body=body)
    except Exists:  # made meanwhile (a notebook's cluster.adapt()): take it over
        created = await kube.request("PATCH", DASKAUTOSCALERS, name, verb="patch",
                                     body={"spec": body["spec"]}, patch=True)
    watched[DASKAUTOSCALERS].put(created)
    if forget_stop(owner):  # adaptive again: what the stopper did is history
        try:
            updated = await kube.request("PATCH", DASKCLUSTERS, name, verb="patch", body=forget_stop(owner), patch=True)
            watched[DASKCLUSTERS].put(updated)
        except RapidsKFError as err:
            log.warning("rapids-kf: could not clear the stopper's note on %s: %s", name, err.message)


async def patch_autoscaler(kube: Kube, watched: dict[Resource, Watched], name: str,
                           minimum: int, maximum: int) -> None:
    patch = {"spec": {"minimum": minimum, "maximum": maximum}}
    updated = await kube.request("PATCH", DASKAUTOSCALERS, name, verb="patch", body=patch, patch=True)
    watched[DASKAUTOSCALERS].put(updated)


async def delete_autoscaler(kube: Kube, watched: dict[Resource, Watched], name: str) -> None:
    try:
        await kube.request("DELETE", DASKAUTOSCALERS, name, verb="delete")
    except NotFound:
        pass
    old = watched[DASKAUTOSCALERS].objects.get(name)
    if old is not None:
        watched[DASKAUTOSCALERS]._apply("DELETED", old)
