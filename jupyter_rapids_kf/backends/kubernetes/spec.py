"""The DaskCluster body: dask-kubernetes' own `make_cluster_spec`, then what GPU clusters need.

`make_cluster_spec` gives the scheduler and the workers the same resources and environment
(the same dict objects, even). Adjusted here: GPU limits, the GPU toleration and the worker
command on workers only; the scheduler gets its own CPU/memory and the HTTP API routes that
the operator calls for scale-down, adaptive scaling and idleTimeout; our labels mark the
clusters this extension made.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ...models import protocols
from ...models.gpu_workers import GPUWorkerSettings, takes_dask_cuda_flags
from ...models.cluster import ClusterSpec
from . import fast_start
from .mesh import cluster_pods_opt_out

GPU_RESOURCE = "nvidia.com/gpu"
MANAGED_LABEL = "app.kubernetes.io/managed-by"
MANAGED_VALUE = "jupyter-rapids-kf"
PROFILE_ANNOTATION = "rapids-kf.jupyter.org/profile"
ROUTES_ENV = "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES"
# distributed's default scheduler routes plus the HTTP API the operator needs.
SCHEDULER_ROUTES = [
    "distributed.http.scheduler.prometheus",
    "distributed.http.scheduler.info",
    "distributed.http.scheduler.json",
    "distributed.http.health",
    "distributed.http.proxy",
    "distributed.http.statics",
    "distributed.http.scheduler.api",
]
# dask-kubernetes starts schedulers with `dask-scheduler`, a command distributed no longer
# installs (only `dask scheduler`): on a real node the scheduler exited at once and went into
# CrashLoopBackOff. The `dask` CLI has both subcommands in every release we support.
SCHEDULER_COMMAND = ["dask", "scheduler"]
GPU_TOLERATION = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}


def scheduler_routes() -> list[str]:
    """The default routes of the installed distributed, plus the scheduler API."""
    try:
        import dask
        import distributed  # noqa: F401  (registers its config defaults)

        routes = list(dask.config.get("distributed.scheduler.http.routes"))
    except Exception:  # config unreadable: the defaults above are distributed's own
        routes = list(SCHEDULER_ROUTES[:-1])
    if "distributed.http.scheduler.api" not in routes:
        routes.append("distributed.http.scheduler.api")
    return routes


def _container(pod_spec: dict[str, Any], name: str) -> dict[str, Any]:
    containers = pod_spec["containers"]
    return next((c for c in containers if c.get("name") == name), containers[0])


def build_daskcluster(
    spec: ClusterSpec,
    *,
    image: str,
    scheduler_cpu: str,
    scheduler_memory: str,
    tolerations: list[dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
    owner: Any = None,
    gpu_workers: GPUWorkerSettings | None = None,
    mesh_sidecars: bool = False,
    start: tuple[str, ...] = fast_start.DEFAULT,
) -> dict[str, Any]:
    """`owner` (notebook_owner.Owner): the object whose deletion deletes this cluster;
    `gpu_workers`: the GPU worker settings (c.RapidsKF, models/gpu_workers.py), defaults if None;
    `mesh_sidecars` (c.RapidsKF.mesh_sidecars): leave the pods to the mesh (see mesh.py);
    `start`: the fast_start.py settings to apply ("service", "preload", "probe", "fork")."""
    from dask_kubernetes.operator import make_cluster_spec

    body = make_cluster_spec(
        name=spec.name,
        image=image,
        n_workers=spec.workers,
        resources=None,
        env=dict(spec.env),
        worker_command=spec.worker_command,
        idle_timeout=spec.idle_timeout,
    )
    body = copy.deepcopy(body)  # scheduler and worker share env/resources objects

    metadata = body["metadata"]
    metadata["labels"] = {**(labels or {}), MANAGED_LABEL: MANAGED_VALUE}
    if spec.profile:
        metadata["annotations"] = {PROFILE_ANNOTATION: spec.profile}
    if owner is not None:
        metadata["ownerReferences"] = [owner.reference()]

    worker_pod = body["spec"]["worker"]["spec"]
    worker = _container(worker_pod, "worker")
    limits: dict[str, str] = {"cpu": spec.cpu, "memory": spec.memory}
    if spec.gpus_per_worker > 0:
        limits[GPU_RESOURCE] = str(spec.gpus_per_worker)  # quantities are strings in the CRD
        worker_pod["tolerations"] = copy.deepcopy(tolerations if tolerations is not None else [GPU_TOLERATION])
    worker["resources"] = {"requests": {"cpu": spec.cpu, "memory": spec.memory}, "limits": limits}
    args = worker.get("args") or []
    if spec.gpus_per_worker > 0 and takes_dask_cuda_flags(args):
        # RMM pool, spilling, host memory limit and threads as the local backend's workers.
        settings = gpu_workers or GPUWorkerSettings()
        worker["args"] = args + settings.worker_flags(spec.memory, spec.gpus_per_worker, given=args,
                                                      protocol=spec.protocol)
    worker["env"] = worker.get("env") or []

    scheduler = _container(body["spec"]["scheduler"]["spec"], "scheduler")
    args = scheduler.get("args") or []
    if args[:1] == ["dask-scheduler"]:
        args = SCHEDULER_COMMAND + args[1:]
    scheduler["args"] = protocols.scheduler_args(spec.protocol, args)
    if spec.protocol == "ucx":
        ucx_port(body, scheduler)
    scheduler["resources"] = {
        "requests": {"cpu": scheduler_cpu, "memory": scheduler_memory},
        "limits": {"cpu": scheduler_cpu, "memory": scheduler_memory},
    }
    env = [e for e in scheduler.get("env") or [] if e.get("name") != ROUTES_ENV]
    env.append({"name": ROUTES_ENV, "value": json.dumps(scheduler_routes())})
    scheduler["env"] = env
    if "service" in start:
        fast_start.service(body)
    if "preload" in start:
        fast_start.preload(worker)
    if "probe" in start:
        fast_start.probe(scheduler)
    if "fork" in start and spec.gpus_per_worker == 0:
        fast_start.fork(worker)
    if not mesh_sidecars:
        cluster_pods_opt_out(body)
    return body


def ucx_port(body: dict[str, Any], scheduler: dict[str, Any]) -> None:
    """The scheduler's UCX listener, in its container and its Service, beside `tcp-comm`
    (which the operator, this server and TCP clients keep using)."""
    port = {"name": "ucx-comm", "containerPort": protocols.UCX_PORT, "protocol": "TCP"}
    scheduler.setdefault("ports", []).append(port)
    body["spec"]["scheduler"]["service"].setdefault("ports", []).append(
        {"name": "ucx-comm", "protocol": "TCP", "port": protocols.UCX_PORT, "targetPort": "ucx-comm"})


def drop_none(value: Any) -> Any:
    """What the API server stores: null values pruned (jsonschema would reject them)."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value if v is not None]
    return value


def autoscaler_body(name: str, minimum: int, maximum: int, owner: dict[str, Any] | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "labels": {
            MANAGED_LABEL: MANAGED_VALUE,
            "dask.org/cluster-name": name,
            "dask.org/component": "autoscaler",
        },
    }
    if owner and owner.get("metadata", {}).get("uid"):
        # Garbage-collected with its cluster even if the operator never adopts it.
        metadata["ownerReferences"] = [{
            "apiVersion": "kubernetes.dask.org/v1",
            "kind": "DaskCluster",
            "name": name,
            "uid": owner["metadata"]["uid"],
        }]
    return {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskAutoscaler",
        "metadata": metadata,
        "spec": {"cluster": name, "minimum": minimum, "maximum": maximum},
    }
