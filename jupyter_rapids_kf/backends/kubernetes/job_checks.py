"""Preflight of batch runs: the DaskJob CRD and the rights jobs need; the kfp SDK for pipelines."""

from __future__ import annotations

import asyncio

from ...errors import RapidsKFError
from ..base import Check
from .client import DASK_GROUP, OPERATOR_FIX, PERMISSION_FIX
from .client.access import can_i
from .view import BackendView


# What "Run as GPU job" does in the namespace (manifests/clusterrole-edit.yaml grants it).
JOB_PERMISSIONS: list[tuple[str, str, str, str]] = [
    *[(verb, DASK_GROUP, "daskjobs", "") for verb in ("get", "list", "watch", "create", "patch", "delete")],
    *[(verb, "", "configmaps", "") for verb in ("create", "get", "delete")],
]
PIPELINES_FIX = "pip install 'jupyter-rapids-kf[pipelines]' in the notebook image (the kfp SDK)"


async def jobs_check(backend: BackendView) -> Check:
    try:
        served = await backend.kube.discovery(DASK_GROUP)
        allowed = await asyncio.gather(*(can_i(backend.kube, v, g, r, s, backend.namespace) for v, g, r, s in JOB_PERMISSIONS))
    except RapidsKFError as err:
        return Check.unknown("jobs", f"cannot tell whether jobs can run: {err.message}", err.fix)
    if "daskjobs" not in served:
        return Check("jobs", False, "the DaskJob resource (kubernetes.dask.org/v1) is not served", OPERATOR_FIX)
    missing = [f"{v} {r}{'.' + g if g else ''}" for (v, g, r, _), ok in zip(JOB_PERMISSIONS, allowed) if not ok]
    if missing:
        return Check("jobs", False, f"jobs cannot run: the notebook's service account may not "
                                    f"{', '.join(missing)} in namespace {backend.namespace}", PERMISSION_FIX)
    return Check("jobs", True, f"DaskJobs served and all {len(JOB_PERMISSIONS)} job permissions granted")


def pipelines_check() -> Check:
    """Export needs kfp here; the step runs as the profile's default-editor (KubeFlow's multi-user
    pipelines), which holds the same rights as this notebook, or as pipeline-runner where
    manifests/pipelines binds them."""
    try:
        from importlib.metadata import version

        kfp = version("kfp")
    except Exception:
        return Check.unknown("pipelines", "Export as pipeline is off: the kfp SDK is not installed", PIPELINES_FIX)
    return Check("pipelines", True, f"kfp {kfp}: notebooks can be exported as pipelines; their steps need the "
                                    "Dask rights of default-editor (or manifests/pipelines for pipeline-runner)")
