"""The Kubernetes backend: DaskCluster resources of the dask-kubernetes operator, via kr8s.asyncio.

`detect` answers `backend = "auto"`: Kubernetes when credentials exist and the DaskCluster
CRD is served.
"""

from __future__ import annotations

import asyncio

from ...config import RapidsKF
from ...errors import RapidsKFError
from .client import DASK_GROUP, Kube, credentials, detect_namespace
from .clusters import KubernetesBackend

__all__ = ["KubernetesBackend", "detect"]

DETECT_TIMEOUT = 5.0


async def detect(config: RapidsKF) -> tuple[bool, str]:
    """Whether Kubernetes is usable here and, in plain words, why (or why not)."""
    source = credentials()
    if source is None:
        return False, "no Kubernetes credentials (no service account token, no kubeconfig)"
    namespace, _ = detect_namespace(config.namespace)
    kube = Kube(namespace, timeout=DETECT_TIMEOUT)
    try:
        served = await asyncio.wait_for(kube.discovery(DASK_GROUP), DETECT_TIMEOUT + 1)
    except RapidsKFError as err:
        return False, f"{source} found but the Kubernetes API is not usable: {err.message}"
    except asyncio.TimeoutError:
        return False, f"{source} found but the Kubernetes API did not answer in {DETECT_TIMEOUT:.0f} s"
    if "daskclusters" not in served:
        return False, f"{source} found but the DaskCluster CRD is not served (dask-kubernetes operator not installed)"
    return True, f"{source} found and DaskCluster CRD served"
