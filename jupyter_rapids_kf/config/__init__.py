"""Everything an admin can set, as one traitlets configurable: `c.RapidsKF.<option>`.

Set in `jupyter_server_config.py` (or `.json`) of the notebook image; the Environment route
reports the effective values so users see the same limits the server enforces.

The options are written by concern, one class a file: server.py (backend, proxy), defaults.py
(a new cluster's defaults and profiles), guardrails.py, kubernetes.py, local.py, gpu_workers.py
(GPU workers of both backends), gpu_hours.py (the price of a GPU-hour). RapidsKF is all
of them at once, so every option keeps its one admin-facing name, `c.RapidsKF.<option>`. The
sections are plain HasTraits, not Configurables: there is no second `c.<Section>` name to set.
"""

from __future__ import annotations

from typing import Any

from traitlets.config import LoggingConfigurable

from .defaults import ClusterDefaults
from .gpu_hours import GPUHourPrice
from .gpu_workers import GPUWorkerOptions
from .guardrails import Guardrails
from .kubernetes import KubernetesSettings
from .local import LocalSettings
from .server import ServerSettings

__all__ = ["ClusterDefaults", "GPUHourPrice", "GPUWorkerOptions", "Guardrails", "KubernetesSettings", "LocalSettings", "RapidsKF", "ServerSettings"]


class RapidsKF(ServerSettings, ClusterDefaults, Guardrails, KubernetesSettings, LocalSettings, GPUWorkerOptions,
               GPUHourPrice, LoggingConfigurable):
    """GPU Dask clusters for JupyterLab: backend choice, defaults, guardrails and profiles."""

    @classmethod
    def class_own_traits(cls, **metadata: Any) -> dict[str, Any]:
        # The sections are parts of this class, not classes of their own: `--help-all` and
        # `--generate-config` show every option under RapidsKF, as before the split.
        return cls.class_traits(**metadata)

    def with_settings(self, **settings: Any) -> "RapidsKF":
        """A copy with `settings` in place of these values, for a use that fixes a few (the doctor,
        the pipeline step: clusters/build.py); this object is left as it was."""
        values = {name: getattr(self, name) for name in self.trait_names(config=True)}
        return type(self)(log=self.log, **{**values, **settings})
