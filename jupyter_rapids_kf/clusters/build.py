"""The one way a ClusterService is built: by the Jupyter server (app.py), by `jupyter rapids-kf
doctor` and by the pipeline step (pipelines/cluster.py). A use that fixes some settings says so
here, and gets them on a copy: the admin's configuration object is never written to."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..backends import choose_backend, kubernetes_backend
from ..config import RapidsKF
from .service import ClusterService


@dataclass(frozen=True)
class Use:
    name: str
    settings: dict[str, Any] = field(default_factory=dict)  # c.RapidsKF values this use fixes
    probe: bool = True  # False: the Kubernetes backend at once, without asking the API first


SERVER = Use("server")
# A one-off check has no use for GPU readings, nor for a standby process and its cluster in advance.
DOCTOR = Use("doctor", {"gpu_metrics_interval": 0, "local_standby": False})
# Nobody watches readings in a pipeline step and there is no Jupyter server to configure; the
# step's cluster ends with the step (finally) or the pipeline's exit handler, not with a
# notebook: a pipeline pod has none to be tied to.
PIPELINE_STEP = Use(
    "pipeline step",
    {"backend": "kubernetes", "gpu_metrics_interval": 0, "configure_proxy_allowlist": False,
     "tie_to_notebook": False},
    probe=False,
)


def cluster_service(config: RapidsKF, state_dir: Path | None, *, serverapp: Any = None,
                    use: Use = SERVER) -> ClusterService:
    config = config.with_settings(**use.settings) if use.settings else config

    async def choose():
        if not use.probe:
            return kubernetes_backend(config, serverapp), use.name
        return await choose_backend(config, state_dir, serverapp)

    return ClusterService(config, choose)
