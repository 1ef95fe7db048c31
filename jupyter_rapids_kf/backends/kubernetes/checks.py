"""Preflight: what must hold for GPU clusters to work here, each failure with its fix.

Shown by the Environment route and `jupyter rapids-kf doctor`: the API and the operator's
CRDs, the operator acting on clusters, every permission the extension uses (asked with
SelfSubjectAccessReview, so nothing is tried for real), GPU nodes, the dashboard proxy.
"""

from __future__ import annotations

import asyncio
import fnmatch
import importlib.util
from typing import Any

from ...errors import Forbidden, RapidsKFError
from ...models import protocols
from ..base import Check
from . import job_checks
from .client import DASK_GROUP, OPERATOR_FIX, PERMISSION_FIX, Resource
from .client.access import can_i
from .queue.checks import kueue_check
from .spec import GPU_RESOURCE
from .view import BackendView


DASK_KINDS = ("daskclusters", "daskworkergroups", "daskautoscalers")
ALL_PODS = Resource("pods", "Pod", namespaced=False)
NODE_FIX = (
    "optional: apply manifests/optional/gpu-capacity (a ClusterRole that lets notebooks list "
    "nodes) to show GPU capacity"
)

# (verb, API group, resource, subresource): everything the extension does in the namespace.
PERMISSIONS: list[tuple[str, str, str, str]] = [
    *[(verb, DASK_GROUP, plural, "") for plural in DASK_KINDS
      for verb in ("get", "list", "watch", "create", "patch", "delete")],
    *[(verb, "", plural, "") for plural in ("pods", "services", "events") for verb in ("get", "list", "watch")],
    ("get", "", "pods", "log"),
    # Following the notebook pod's owners to the KubeFlow Notebook that new clusters end with.
    ("get", "apps", "statefulsets", ""),
    # Finishing a scale-down the operator left (scale_down.py).
    ("delete", "apps", "deployments", ""),
    ("get", "kubeflow.org", "notebooks", ""),
    # The Job that ends a cluster with a lifetime (lifetime.py).
    ("create", "batch", "jobs", ""),
    ("delete", "batch", "jobs", ""),
]


async def permissions_check(backend: BackendView) -> Check:
    results = await asyncio.gather(
        *(can_i(backend.kube, verb, group, res, sub, backend.namespace) for verb, group, res, sub in PERMISSIONS),
        return_exceptions=True,
    )
    missing, unknown = [], None
    for (verb, group, res, sub), allowed in zip(PERMISSIONS, results):
        if isinstance(allowed, RapidsKFError):
            unknown = allowed
        elif allowed is not True:
            missing.append(f"{verb} {res}{'/' + sub if sub else ''}{'.' + group if group else ''}")
    if unknown is not None and not missing:
        return Check("permissions", False, f"cannot ask the API what is allowed: {unknown.message}", unknown.fix)
    if missing:
        return Check(
            "permissions", False,
            f"the notebook's service account may not {', '.join(missing)} in namespace {backend.namespace}",
            PERMISSION_FIX,
        )
    return Check("permissions", True, f"all {len(PERMISSIONS)} permissions granted in namespace {backend.namespace}")


def operator_check(backend: BackendView) -> Check:
    clusters = backend.known_clusters()
    silent = [c.name for c in clusters.values() if any("operator has not acted" in r for r in c.reasons)]
    stuck = [c.name for c in clusters.values() if any("finalizer" in r for r in c.reasons)]
    if silent or stuck:
        names = ", ".join(sorted(set(silent + stuck)))
        return Check("operator", False,
                     f"the dask-kubernetes operator is not acting on cluster(s) {names}: it is not running "
                     f"or does not watch namespace {backend.namespace}",
                     "ask your administrator to check the operator: kubectl get pods -A -l "
                     "app.kubernetes.io/name=dask-kubernetes-operator; " + OPERATOR_FIX)
    acted = [dc for dc in backend.watched_clusters() if (dc.get("status") or {}).get("phase")]
    if acted:
        return Check("operator", True, f"the dask-kubernetes operator has acted on {len(acted)} cluster(s) here")
    # Nothing to tell from yet: the operator may be missing, so this is not a pass.
    return Check.unknown("operator", "no cluster yet to tell whether the dask-kubernetes operator acts; "
                                     f"a cluster it ignores for {int(backend.timeouts.operator)} s is reported")


async def crd_check(backend: BackendView) -> tuple[Check, Check]:
    try:
        served = await backend.kube.discovery(DASK_GROUP)
    except RapidsKFError as err:
        down = Check("kubernetes", False, err.message, err.fix or "check KUBECONFIG or the pod's service account")
        return down, Check("crd", False, "not checked: the Kubernetes API cannot be reached", err.fix)
    api = Check("kubernetes", True, f"Kubernetes API at {backend.kube.server}, namespace "
                                    f"{backend.namespace} (from {backend.namespace_source})")
    missing = [k for k in DASK_KINDS if k not in served]
    if missing:
        return api, Check("crd", False,
                          f"the dask-kubernetes operator's resources are not served: {', '.join(missing)}",
                          OPERATOR_FIX)
    return api, Check("crd", True, f"{', '.join(DASK_KINDS)} ({DASK_GROUP}/v1) are served")


def _gpus(obj: dict[str, Any], field: str) -> int:
    try:
        return int(str(((obj.get("status") or {}).get(field) or {}).get(GPU_RESOURCE, 0)))
    except ValueError:
        return 0


def _pod_gpus(pod: dict[str, Any]) -> int:
    total = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        limits = (container.get("resources") or {}).get("limits") or {}
        try:
            total += int(str(limits.get(GPU_RESOURCE, 0)))
        except ValueError:
            pass
    return total


async def free_gpus(backend: BackendView) -> tuple[int | None, list[str]]:
    """Free GPUs where nodes can be read: allocatable minus what scheduled pods hold."""
    try:
        nodes = await backend.nodes()
    except Forbidden:
        return None, ["GPU capacity unknown: this notebook may not read nodes (" + NODE_FIX + ")"]
    except RapidsKFError as err:
        return None, [f"GPU capacity unknown: {err.message}"]
    gpu_nodes = {n["metadata"]["name"]: _gpus(n, "allocatable") for n in nodes
                 if _gpus(n, "allocatable") and not (n.get("spec") or {}).get("unschedulable")}
    total = sum(gpu_nodes.values())
    notes = [f"{total} GPU(s) on {len(gpu_nodes)} node(s)"]
    try:
        params = {"fieldSelector": "status.phase!=Succeeded,status.phase!=Failed"}
        pods = (await backend.kube.request("GET", ALL_PODS, verb="list", params=params)).get("items") or []
    except RapidsKFError:
        pods = backend.cached_pods()
        notes.append("GPUs used in other namespaces are not visible: the free count is an upper bound")
    used = sum(_pod_gpus(p) for p in pods if (p.get("spec") or {}).get("nodeName") in gpu_nodes
               and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))
    return max(0, total - used), notes


async def gpu_check(backend: BackendView) -> Check:
    free, notes = await backend.free_gpus()
    if free is None:  # nodes cannot be read: whether GPUs exist is not known, so not "ok"
        return Check.unknown("gpus", "; ".join(notes), NODE_FIX if "nodes" in " ".join(notes) else None)
    if not notes[0].startswith("0 "):
        return Check("gpus", True, f"{free} GPU(s) free; " + "; ".join(notes))
    return Check("gpus", False, "no schedulable node advertises nvidia.com/gpu",
                 "ask your administrator to install the NVIDIA GPU operator or device plugin on the GPU nodes")


def image_check(config, image: str | None, source: str) -> Check:
    """The image new clusters get by default: failed where the admin's allowed_images refuse
    it (creating with the defaults would be refused), unknown where the notebook's own image
    could not be read (the default may not match the notebook's versions)."""
    chosen = image or config.default_image
    if not chosen:
        return Check("image", False, "no image for new clusters: the notebook's image is unknown and "
                     "c.RapidsKF.default_image is empty", "set c.RapidsKF.default_image")
    if config.allowed_images and not any(fnmatch.fnmatchcase(chosen, p) for p in config.allowed_images):
        return Check("image", False, f"new clusters would use {chosen} (from {source}), which "
                     f"c.RapidsKF.allowed_images ({', '.join(config.allowed_images)}) refuses",
                     "ask your administrator to allow it in c.RapidsKF.allowed_images or to set an "
                     "allowed c.RapidsKF.default_image")
    message = f"new clusters use {chosen} (from {source})"
    if image is None and config.use_notebook_image:
        return Check.unknown("image", message + ": whether it matches the notebook's Dask and RAPIDS "
                             "versions cannot be told", "set c.RapidsKF.default_image to the notebook's image")
    return Check("image", True, message)


async def image_nodes_check(backend: BackendView) -> Check:
    """Which GPU nodes already hold the default image (a first start without a pull)."""
    found = await backend.image_nodes(None)
    if not found.known:
        return Check.unknown("image-nodes", found.message, NODE_FIX)
    fix = None if found.nodes else ("optional: apply manifests/optional/image-prepull (a DaemonSet that "
                                    "pulls the allowed images on every GPU node)")
    return Check("image-nodes", True, found.message, fix)


async def notebook_check(backend: BackendView) -> Check:
    """What new clusters end with: failed only where a lookup was refused (our manifests fix
    it); a server outside a KubeFlow notebook simply makes clusters that are not tied."""
    if not backend.config.tie_to_notebook:
        return Check("notebook", True, "new clusters are not tied to a notebook "
                     "(c.RapidsKF.tie_to_notebook is off): they end when deleted or idle")
    tie = await backend.notebook_tie()
    if tie.owner is not None:
        return Check("notebook", True, f"new clusters end with {tie.reason}: deleting it deletes them, "
                     "even while this server is down")
    if tie.forbidden:
        return Check("notebook", False, f"new clusters cannot be tied to their notebook: {tie.reason}",
                     PERMISSION_FIX)
    return Check("notebook", True, f"new clusters are not tied to a notebook ({tie.reason}): "
                 "they end when deleted or idle")


def ucx_check(image: str | None) -> Check:
    """What protocol ucx needs of the cluster image (this server cannot look inside it)."""
    return Check("ucx", True, f"GPU clusters may ask for protocol ucx; their image ({image or 'not known'}) "
                 f"must then hold {protocols.UCX_WHEELS} (ucxx, libucx; the RAPIDS images do). This "
                 "server and the notebook need none of it: the scheduler also listens on TCP")


def doctor_allowlist_check(on: bool) -> Check:
    """Without a running server, what the server will do with /proxy links to dashboards."""
    if not on:
        return Check("proxy-allowlist", False,
                     "c.RapidsKF.configure_proxy_allowlist is False: /proxy/<host>:8787 links to dashboards "
                     "do not work unless ServerProxy.host_allowlist lets them; rapids-kf/clusters/<name>/"
                     "dashboard works regardless",
                     "keep c.RapidsKF.configure_proxy_allowlist = True (the default)")
    if importlib.util.find_spec("jupyter_server_proxy") is None:
        return Check("proxy-allowlist", False, "jupyter-server-proxy is not installed: /proxy links to "
                     "dashboards do not work; rapids-kf/clusters/<name>/dashboard works regardless",
                     "pip install 'jupyter-server-proxy>=4.2'")
    return Check("proxy-allowlist", True,
                 "the Jupyter server will let /proxy/<host>:8787 reach only this namespace's schedulers")


async def run(backend: BackendView) -> list[Check]:
    api, crd = await crd_check(backend)
    checks = [api, crd]
    if not api.ok:
        return checks
    checks.append(await permissions_check(backend))
    checks.append(operator_check(backend))
    if backend.synced:
        errors = [w.error.message for w in backend.watched.values() if w.error is not None]
        checks.append(Check("cache", not errors,
                            "watching clusters, worker groups, autoscalers, pods and events"
                            if not errors else "; ".join(errors),
                            None if not errors else PERMISSION_FIX))
    else:
        err = backend.not_ready()
        checks.append(Check("cache", False, err.message, err.fix))
    checks.append(await gpu_check(backend))
    checks.append(await job_checks.jobs_check(backend))
    checks.append(job_checks.pipelines_check())
    image = await backend.notebook_image()
    checks.append(image_check(backend.config, *image))
    checks.append(ucx_check(image[0] or backend.config.default_image))
    checks.append(await notebook_check(backend))
    checks.append(await image_nodes_check(backend))
    queued = await kueue_check(backend)
    if queued is not None:
        checks.append(queued)
    if not backend.in_server:  # `jupyter rapids-kf doctor`: no server to look at
        checks.append(doctor_allowlist_check(backend.config.configure_proxy_allowlist))
        return checks
    allowlisted = backend.allowlist_state.startswith("/proxy") or backend.allowlist_state.startswith("left")
    checks.append(Check(
        "proxy-allowlist", allowlisted, f"jupyter-server-proxy: {backend.allowlist_state}",
        None if allowlisted else "dashboards still open at rapids-kf/clusters/<name>/dashboard; to let "
        "/proxy/<host>:8787 links work, load jupyter-server-proxy and keep "
        "c.RapidsKF.configure_proxy_allowlist = True",
    ))
    return checks
