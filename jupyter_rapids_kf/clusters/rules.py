"""The rules of a new cluster: defaults, then the admin's profile, then what the user typed,
checked against the ranges, the hardware and the admin's guardrails (c.RapidsKF). Shared by
clusters, jobs and pipeline steps so that each is refused for the same reasons."""

from __future__ import annotations

import fnmatch
import secrets
from typing import Any

from ..backends.base import BackendFacts
from ..config import RapidsKF
from ..errors import Invalid, Limit
from ..models import protocols
from ..models.gpu_workers import GPUWorkerSettings, takes_dask_cuda_flags
from ..models.cluster import INT_BOUNDS, ClusterRequest, ClusterSpec
from ..models.limits import check_int, check_quantity


def _first(*values: Any) -> Any:
    return next(v for v in values if v is not None)


def limits(config: RapidsKF, facts: BackendFacts) -> dict[str, int | None]:
    # max_workers is the admin's guardrail; max_gpu_workers the hardware's bound on GPU
    # clusters (one worker per GPU on the local backend), None where there is none.
    max_gpu_workers = None
    if facts.max_workers is not None:
        max_gpu_workers = min(config.max_workers, facts.max_workers)
    max_gpus = config.max_gpus_per_worker
    if facts.max_gpus_per_worker is not None:
        max_gpus = min(max_gpus, facts.max_gpus_per_worker)
    return {
        "max_workers": config.max_workers,
        "max_gpu_workers": max_gpu_workers,
        "max_gpus_per_worker": max_gpus,
        "max_clusters": config.max_clusters,
        "max_idle_timeout": config.max_idle_timeout,
        "max_lifetime": config.max_lifetime if facts.can_tie else 0,
    }

def default_memory(config: RapidsKF, facts: BackendFacts, gpus: int) -> str:
    """Memory per worker unless the user or the profile says: GPU workers get host memory
    sized to their GPUs (models/gpu_workers.py), CPU workers the CPU default."""
    if gpus > 0:
        gpu_memory = next((g.memory_total for g in facts.gpus if g.memory_total), None)
        return GPUWorkerSettings.from_config(config).worker_memory(
            gpus, gpu_memory_bytes=gpu_memory, available=facts.default_memory)
    return facts.default_memory or config.default_memory


def defaults(config: RapidsKF, facts: BackendFacts, suggest_name: bool = False) -> dict[str, Any]:
    config = config
    gpus = _first(facts.default_gpus_per_worker, config.default_gpus_per_worker)
    defaults = {
        "workers": config.default_workers,
        "gpus_per_worker": gpus,
        "image": _first(facts.default_image, config.default_image) if facts.accepts_image else None,
        "worker_command": _first(facts.default_worker_command, config.default_worker_command),
        "cpu": facts.default_cpu or config.default_cpu,
        "memory": default_memory(config, facts, gpus),
        "idle_timeout": config.idle_timeout,
        "tie_to_notebook": bool(config.tie_to_notebook and facts.ends_with),
        "lifetime": config.lifetime if facts.can_tie else 0,
        "protocol": protocols.DEFAULT,
    }
    if facts.max_workers is not None:
        defaults["workers"] = min(defaults["workers"], facts.max_workers)
    if suggest_name:
        prefix = config.name_prefix or ("gpu-etl" if gpus > 0 else "dask-etl")
        defaults = {"name": f"{prefix}-{secrets.token_hex(2)}", **defaults}
    return defaults

def offered_protocols(facts: BackendFacts) -> list[str]:
    """The protocols a new GPU cluster may ask for here (the form's choice)."""
    return [p for p in protocols.PROTOCOLS if p != "ucx" or facts.ucx_installed is not False]


def check_protocol(protocol: str, gpus: int, worker_command: str, facts: BackendFacts) -> str:
    """UCX is for GPU clusters, where its transports can run: refused with a reason otherwise."""
    protocols.check_protocol(protocol)
    if protocol != "ucx":
        return protocol
    if gpus == 0:
        raise Invalid("protocol ucx is for GPU clusters (gpus_per_worker 1 or more); CPU workers "
                      "talk tcp", field="protocol")
    if facts.ucx_installed is False:
        raise Invalid(f"protocol ucx needs {' and '.join(protocols.UCX_MODULES)}, which this "
                      f"server's Python cannot import (missing: {', '.join(protocols.ucx_missing())})",
                      field="protocol", fix=f"pip install {protocols.UCX_WHEELS} into the Jupyter "
                      "server's environment and restart it, or use protocol tcp")
    if facts.accepts_image and not takes_dask_cuda_flags(worker_command.split()):
        raise Invalid(f"protocol ucx needs the worker command dask-cuda-worker (or `dask cuda "
                      f"worker`), which takes --protocol; not {worker_command!r}", field="protocol")
    return protocol


def check_workers(config: RapidsKF, field: str, value: int, facts: BackendFacts, gpus_per_worker: int) -> None:
    """Admin guardrails are `limit` (403); what the hardware cannot do is `invalid`.

    The hardware bound (facts.max_workers: one worker per GPU on the local backend) holds
    for GPU clusters only; a CPU cluster (gpus_per_worker 0) on a GPU machine is bounded
    by the admin's limit alone.
    """
    bound = limits(config, facts)["max_gpu_workers"]
    maximum = bound if gpus_per_worker > 0 and bound is not None else config.max_workers
    if value < 0:
        raise Invalid(f"{field} must be between 0 and {maximum}", field=field)
    if value > config.max_workers:
        raise Limit(
            f"{field} must be between 0 and {maximum}",
            field=field,
            fix="ask your administrator to raise c.RapidsKF.max_workers",
        )
    if value > maximum:
        raise Invalid(
            f"{field} must be between 0 and {maximum}: this machine has {maximum} GPU(s) "
            "and a local GPU cluster runs one worker per GPU",
            field=field,
        )

def resolve(config: RapidsKF, request: ClusterRequest, facts: BackendFacts) -> ClusterSpec:
    """Defaults < profile < what the user typed; then ranges and guardrails."""
    values = defaults(config, facts)
    profile = None
    if request.profile is not None:
        profile = next((p for p in config.profiles if p["name"] == request.profile), None)
        if profile is None:
            names = ", ".join(p["name"] for p in config.profiles) or "none are defined"
            raise Invalid(f"unknown profile {request.profile!r} ({names})", field="profile")
        values.update(profile.get("request", {}))
    values.update(request.given())
    name = values.get("name") or defaults(config, facts, suggest_name=True)["name"]
    bounds = limits(config, facts)
    # The request was bounded when parsed; a profile or a default must be too.
    for key, (low, high) in INT_BOUNDS.items():
        values[key] = check_int(key, values[key], low, high)
    if "memory" not in request.given() and "memory" not in (profile or {}).get("request", {}):
        values["memory"] = default_memory(config, facts, values["gpus_per_worker"])
    for key in ("cpu", "memory"):
        check_quantity(key, values[key])

    gpus = values["gpus_per_worker"]
    check_workers(config, "workers", values["workers"], facts, gpus)
    if gpus < 0:
        raise Invalid("gpus_per_worker must not be negative", field="gpus_per_worker")
    if gpus > config.max_gpus_per_worker:
        raise Limit(
            f"gpus_per_worker must be at most {bounds['max_gpus_per_worker']}",
            field="gpus_per_worker",
            fix="ask your administrator to raise c.RapidsKF.max_gpus_per_worker",
        )
    if gpus > bounds["max_gpus_per_worker"]:
        raise Invalid(
            f"gpus_per_worker must be at most {bounds['max_gpus_per_worker']} here"
            + (": no NVIDIA GPU is visible to this server" if not facts.gpus else ""),
            field="gpus_per_worker",
        )
    idle = values["idle_timeout"]
    if idle < 0:
        raise Invalid("idle_timeout must be 0 (never) or a number of seconds", field="idle_timeout")
    if bounds["max_idle_timeout"] and (idle == 0 or idle > bounds["max_idle_timeout"]):
        raise Limit(
            f"idle_timeout must be between 1 and {bounds['max_idle_timeout']} seconds",
            field="idle_timeout",
            fix="ask your administrator to raise c.RapidsKF.max_idle_timeout",
        )
    image = values.get("image")
    if image is not None and not facts.accepts_image:
        raise Invalid(
            "the local backend runs clusters in this server's Python environment; "
            "image applies only to Kubernetes clusters",
            field="image",
        )
    if image is not None and config.allowed_images:
        if not any(fnmatch.fnmatchcase(image, p) for p in config.allowed_images):
            raise Limit(
                f"image {image!r} is not allowed here; allowed: "
                + ", ".join(config.allowed_images),
                field="image",
                fix="pick an allowed image, or ask your administrator to extend "
                "c.RapidsKF.allowed_images",
            )
    protocol = check_protocol(values.get("protocol") or protocols.DEFAULT, gpus, values["worker_command"], facts)
    lifetime = values["lifetime"]
    if lifetime and not facts.can_tie:
        raise Invalid("lifetime applies only to Kubernetes clusters; a local cluster ends when "
                      "deleted or idle", field="lifetime")
    if bounds["max_lifetime"] and (lifetime == 0 or lifetime > bounds["max_lifetime"]):
        raise Limit(
            f"lifetime must be between 1 and {bounds['max_lifetime']} seconds",
            field="lifetime",
            fix="ask your administrator to raise c.RapidsKF.max_lifetime",
        )
    tie = values["tie_to_notebook"]
    if tie and not facts.can_tie:
        raise Invalid("tie_to_notebook applies only to Kubernetes clusters: a local cluster is a "
                      "process of this machine, with no notebook resource to end with",
                      field="tie_to_notebook")
    if tie and not facts.ends_with:
        raise Invalid("tie_to_notebook: no notebook was found to tie this cluster to (the "
                      "`notebook` check of the environment says why)", field="tie_to_notebook")
    return ClusterSpec(
        name=name,
        workers=values["workers"],
        gpus_per_worker=gpus,
        image=image,
        worker_command=values["worker_command"],
        cpu=values["cpu"],
        memory=values["memory"],
        idle_timeout=idle,
        env=dict(values.get("env") or {}),
        profile=request.profile,
        tie_to_notebook=tie,
        lifetime=lifetime,
        protocol=protocol,
    )
