"""A GPU DaskCluster for the length of one call, made the way the Jupyter server makes them.

The ClusterService and KubernetesBackend of the server do the work: the admin's
`c.RapidsKF` (read from the image's jupyter_server_config, as the doctor does) gives the
defaults, profiles and guardrails; readiness comes from pods (the service's phase) and then
from the scheduler's own worker list, never from the operator's `status.phase`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any, Callable, TypeVar

from ..clusters.build import PIPELINE_STEP, cluster_service
from ..clusters.service import ClusterService
from ..config import RapidsKF
from ..errors import Failed, NotFound, RapidsKFError, Unavailable
from ..models.cluster import Cluster

log = logging.getLogger(__name__)
T = TypeVar("T")

READY_TIMEOUT = 900.0  # seconds for pods to run and workers to join (GPU nodes may scale up)
DELETE_TIMEOUT = 120.0
POLL = 1.0


def server_config() -> RapidsKF:
    """`c.RapidsKF` as the Jupyter server of this image reads it."""
    from jupyter_core.application import JupyterApp

    class ConfigReader(JupyterApp):
        name = "jupyter-rapids-kf-pipeline"
        config_file_name = "jupyter_server_config"
        classes = [RapidsKF]

    reader = ConfigReader()
    reader.initialize([])
    return RapidsKF(parent=reader)


def cluster_name_for_run(run_id: str) -> str:
    """The cluster of one pipeline run: known to the step and to its exit handler alike."""
    slug = re.sub(r"[^a-z0-9-]", "", run_id.lower()).strip("-")[:40] or "run"
    return f"kfp-{slug}".rstrip("-")


def _service(config: RapidsKF | None) -> ClusterService:
    return cluster_service(config or server_config(), None, use=PIPELINE_STEP)


async def _wait_running(service: ClusterService, name: str, timeout: float) -> Cluster:
    deadline = time.monotonic() + timeout
    cluster = await service.get(name)
    while cluster.phase != "Running":
        if cluster.phase == "Failed":
            raise Failed(f"cluster {name} failed: " + "; ".join(cluster.reasons))
        if time.monotonic() > deadline:
            raise Unavailable(
                f"cluster {name} was not running after {timeout:.0f} s (phase {cluster.phase}): "
                + ("; ".join(cluster.reasons) or "no reason given")
            )
        await asyncio.sleep(POLL)
        cluster = await service.get(name)
    return cluster


async def _delete_and_wait(service: ClusterService, name: str, timeout: float) -> bool:
    """Deletes the cluster; True once it is gone (pods included), False after the timeout."""
    try:
        await service.delete(name)
    except NotFound:
        log.info("rapids-kf: no cluster %s to delete", name)
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            await service.get(name)
        except NotFound:
            log.info("rapids-kf: deleted cluster %s", name)
            return True
        await asyncio.sleep(POLL)
    log.warning("rapids-kf: cluster %s still deleting after %.0f s", name, timeout)
    return False


def _with_client(work: Callable[[Any], T], address: str, workers: int, timeout: float) -> T:
    from distributed import Client

    with Client(address, timeout=f"{timeout}s") as client:
        client.wait_for_workers(workers, timeout=timeout)  # the scheduler's own worker list
        return work(client)


async def run_on_gpu_cluster_async(
    work: Callable[[Any], T],
    request: dict[str, Any] | None = None,
    *,
    name: str | None = None,
    config: RapidsKF | None = None,
    ready_timeout: float = READY_TIMEOUT,
    address: Callable[[Cluster], str] | None = None,
) -> T:
    """Creates a cluster (`request`: ClusterRequest fields), runs `work(client)` in a thread
    once every worker is ready, and deletes the cluster whatever happens.

    `address` maps the cluster to the scheduler address to dial (default: its Service's
    in-cluster address, as the operator gives it to job pods)."""
    service = _service(config)
    body = dict(request or {})
    if name:
        body["name"] = name
    try:
        cluster = await service.create(body)
        name = cluster.name
        log.info("rapids-kf: created cluster %s", name)
        try:
            cluster = await _wait_running(service, name, ready_timeout)
            target = address(cluster) if address else cluster.scheduler.address
            if not target:
                raise Unavailable(f"cluster {name} has no scheduler address")
            return await asyncio.to_thread(_with_client, work, target, cluster.workers.desired, ready_timeout)
        finally:
            await _delete_and_wait(service, name, DELETE_TIMEOUT)
    finally:
        await service.stop()


def run_on_gpu_cluster(work: Callable[[Any], T], request: dict[str, Any] | None = None, **kwargs: Any) -> T:
    """`run_on_gpu_cluster_async` for plain (pipeline step) code."""
    return asyncio.run(run_on_gpu_cluster_async(work, request, **kwargs))


async def delete_cluster_async(name: str, config: RapidsKF | None = None) -> bool:
    """The exit handler's half: deletes the run's cluster if it is still there."""
    service = _service(config)
    try:
        return await _delete_and_wait(service, name, DELETE_TIMEOUT)
    except RapidsKFError as err:
        log.warning("rapids-kf: could not delete cluster %s: %s", name, err.message)
        raise
    finally:
        await service.stop()


def delete_cluster(name: str, config: RapidsKF | None = None) -> bool:
    return asyncio.run(delete_cluster_async(name, config))
