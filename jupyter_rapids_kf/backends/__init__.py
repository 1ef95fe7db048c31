"""Backends behind one protocol, and the choice between them (`c.RapidsKF.backend`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import RapidsKF
from ..models.gpu_workers import GPUWorkerSettings
from .base import Backend, BackendFacts, Check, PodLogs
from .local import LocalBackend

__all__ = ["Backend", "BackendFacts", "Check", "LocalBackend", "PodLogs", "choose_backend", "kubernetes_backend"]


def kubernetes_backend(config: RapidsKF, serverapp: Any = None) -> Backend:
    """The Kubernetes backend without asking the API first (the pipeline step, where nothing
    else could run its cluster)."""
    from .kubernetes import KubernetesBackend

    return KubernetesBackend(config, serverapp=serverapp)


async def choose_backend(config: RapidsKF, state_dir: Path, serverapp: Any = None) -> tuple[Backend, str]:
    """The backend to use and, in plain words, why (shown in the UI).

    `serverapp` (absent in the doctor command) lets the Kubernetes backend open
    jupyter-server-proxy to its dashboards.
    """

    def local(reason: str) -> tuple[Backend, str]:
        backend = LocalBackend(
            state_dir,
            stop_on_exit=config.stop_local_clusters_on_exit,
            standby=config.local_standby,
            warm_workers=config.default_workers if config.local_standby and config.local_warm_cluster else 0,
            gpu_workers=GPUWorkerSettings.from_config(config),
        )
        return backend, reason

    if config.backend == "local":
        return local("c.RapidsKF.backend is 'local'")
    from .kubernetes import KubernetesBackend, detect

    usable, why = await detect(config)
    if config.backend == "kubernetes":
        # Chosen by the admin: use it even when the probe failed, so errors name the fix.
        return KubernetesBackend(config, serverapp=serverapp), f"c.RapidsKF.backend is 'kubernetes' ({why})"
    if usable:
        return KubernetesBackend(config, serverapp=serverapp), why
    return local(f"{why}; using local processes")
