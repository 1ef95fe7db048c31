"""Jobs on Kubernetes: the dask-kubernetes operator's DaskJob (a runner pod plus its own cluster).

How the file reaches the runner pod: a ConfigMap `<job>-file` holding it (outputs of a notebook
stripped first), mounted read-only into the pod; ConfigMaps are capped at 1 MiB by the API
server, so files are limited to MAX_FILE_BYTES. It works with any storage class, unlike the
workspace PVC, which is usually ReadWriteOnce and already mounted by the notebook pod. The
executed copy comes back through the runner's log: `batch/runner.py --print-notebook` ends the log
with the notebook (gzip + base64), which this server reads once the job has finished and
writes next to the original. So the runner pod needs no Kubernetes rights at all.

The ConfigMap is owned by the DaskJob, which owns the operator's cluster and runner pod: one
DELETE of the DaskJob (cancel) removes them all. State comes from watches of our DaskJobs and
the runner pods, as the clusters' does.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable

from ...batch.runner import decode_from_log, strip_payload
from ...config import RapidsKF
from ...errors import Invalid, NotFound, RapidsKFError, Unavailable
from ...models.gpu_workers import GPUWorkerSettings
from ...models.cluster import ClusterSpec
from ...models.job import Job
from ..base import JobListener
from .cache import Watched
from .client import DASK_GROUP, PODS, Kube, Resource
from .mesh import opt_out
from .queue.labels import mark_job
from .spec import MANAGED_LABEL, MANAGED_VALUE, build_daskcluster, drop_none

log = logging.getLogger(__name__)

DASKJOBS = Resource("daskjobs", "DaskJob", DASK_GROUP)
CONFIGMAPS = Resource("configmaps", "ConfigMap")
JOB_LABEL = "rapids-kf.jupyter.org/job"
FILE_ANNOTATION = "rapids-kf.jupyter.org/file"
PARAMETERS_ANNOTATION = "rapids-kf.jupyter.org/parameters"
OUTPUT_ANNOTATION = "rapids-kf.jupyter.org/output"
ERROR_ANNOTATION = "rapids-kf.jupyter.org/error"
MOUNT = "/var/rapids-kf/job"
JOB_SELECTOR = f"{MANAGED_LABEL}={MANAGED_VALUE},{JOB_LABEL}"
RUNNER_SELECTOR = "dask.org/component=job-runner"
# The runner's container, named in every log request: a mesh may add a sidecar to the pod, and
# pods/log of a pod with two containers needs the name (400 without it: no log, no executed copy).
RUNNER_CONTAINER = "job"
START_WAIT = 5.0
LOG_LIMIT_BYTES = 32 * 2**20
# The runner (batch/runner.py, standard library only at import) travels in the same ConfigMap, so
# any image with Python runs a .py job, and any with nbclient and ipykernel a notebook: the
# image need not have jupyter-rapids-kf installed.
RUNNER_KEY = ".rapids-kf-run.py"
WAITING_TROUBLE = ("ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "CreateContainerConfigError",
                   "InvalidImageName")


def daskjob_body(job: Job, spec: ClusterSpec, image: str, file_name: str, config: RapidsKF) -> dict[str, Any]:
    """The DaskJob: its cluster is the server's own DaskCluster spec; its runner executes the file."""
    cluster = drop_none(build_daskcluster(
        spec, image=image, scheduler_cpu=config.scheduler_cpu, scheduler_memory=config.scheduler_memory,
        tolerations=config.worker_tolerations, gpu_workers=GPUWorkerSettings.from_config(config),
        mesh_sidecars=config.mesh_sidecars,
    ))
    labels = {MANAGED_LABEL: MANAGED_VALUE, JOB_LABEL: job.name}
    runner = {
        "name": RUNNER_CONTAINER,
        "image": image,
        "args": ["python", f"{MOUNT}/{RUNNER_KEY}", f"{MOUNT}/{file_name}", "--print-notebook",
                 "--parameters", json.dumps(job.parameters)],
        "env": [{"name": k, "value": v} for k, v in spec.env.items()],
        "resources": {
            "requests": {"cpu": config.scheduler_cpu, "memory": config.scheduler_memory},
            "limits": {"cpu": config.scheduler_cpu, "memory": config.scheduler_memory},
        },
        "volumeMounts": [{"name": "job-file", "mountPath": MOUNT, "readOnly": True}],
    }
    runner_pod: dict[str, Any] = {}
    if not config.mesh_sidecars:
        opt_out(runner_pod.setdefault("metadata", {}))
    elif config.sidecar_quit_url:  # a sidecar injected as a plain container would outlive the runner
        runner["args"] += ["--quit-sidecar", config.sidecar_quit_url]
    return {
        "apiVersion": f"{DASK_GROUP}/v1",
        "kind": "DaskJob",
        "metadata": {
            "name": job.name,
            "labels": labels,
            "annotations": {FILE_ANNOTATION: job.file, PARAMETERS_ANNOTATION: json.dumps(job.parameters)},
        },
        "spec": {
            "job": {**runner_pod, "spec": {
                "restartPolicy": "Never",
                "containers": [runner],
                "volumes": [{"name": "job-file", "configMap": {"name": f"{job.name}-file"}}],
            }},
            # The operator copies the DaskJob's labels to the cluster (the CRD prunes cluster.metadata).
            "cluster": {"spec": cluster["spec"]},
        },
    }


def file_configmap(name: str, owner: dict[str, Any], file_name: str, content: bytes) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{name}-file",
            "labels": {MANAGED_LABEL: MANAGED_VALUE, JOB_LABEL: name},
            "ownerReferences": [{
                "apiVersion": f"{DASK_GROUP}/v1", "kind": "DaskJob", "name": name,
                "uid": owner["metadata"]["uid"],
            }],
        },
        "binaryData": {file_name: base64.b64encode(content).decode("ascii")},
        "data": {RUNNER_KEY: runner_source()},
    }


def runner_source() -> str:
    from ...batch import runner

    return Path(runner.__file__).read_text(encoding="utf-8")


def job_from(obj: dict[str, Any], pod: dict[str, Any] | None, namespace: str) -> Job:
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    annotations = meta.get("annotations") or {}
    worker = ((spec.get("cluster") or {}).get("spec") or {}).get("worker") or {}
    containers = (worker.get("spec") or {}).get("containers") or [{}]
    limits = (containers[0].get("resources") or {}).get("limits") or {}
    runner = ((spec.get("job") or {}).get("spec") or {}).get("containers") or [{}]
    try:
        parameters = json.loads(annotations.get(PARAMETERS_ANNOTATION) or "{}")
    except ValueError:
        parameters = {}
    job = Job(
        name=meta.get("name", ""),
        namespace=namespace,
        backend="kubernetes",
        file=annotations.get(FILE_ANNOTATION, ""),
        phase=status.get("jobStatus") or "Creating",
        created=meta.get("creationTimestamp") or "",
        started=status.get("startTime"),
        finished=status.get("endTime"),
        workers=int(worker.get("replicas") or 0),
        gpus_per_worker=int(limits.get("nvidia.com/gpu") or 0),
        image=runner[0].get("image"),
        parameters=parameters,
        output=annotations.get(OUTPUT_ANNOTATION) or None,
        error=annotations.get(ERROR_ANNOTATION) or None,
    )
    if meta.get("deletionTimestamp"):
        job.phase = "Deleting"
    job.reasons = pod_reasons(pod)
    return job


def pod_reasons(pod: dict[str, Any] | None) -> list[str]:
    """Why the runner is not running, in the kubelet's words (image pulls, crashes)."""
    if pod is None:
        return []
    reasons = []
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in WAITING_TROUBLE:
            reasons.append(f"job pod: {waiting['reason']}: {waiting.get('message', '')}".strip())
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False" and cond.get("message"):
            reasons.append(f"job pod cannot be scheduled: {cond['message']}")
    return reasons


class KubernetesJobs:
    """DaskJobs of the namespace, with their runner pods, kept by watches (backends/kubernetes/cache.py)."""

    name = "kubernetes"

    def __init__(self, kube: Kube, config: RapidsKF, tie: Callable[[], Awaitable[Any]] | None = None,
                 queue: Callable[[], str | None] | None = None):
        self.kube = kube
        self.namespace = kube.namespace
        self.config = config
        self._tie = tie  # KubernetesBackend.notebook_tie: what new clusters (and jobs) end with
        self._queue = queue  # the Kueue LocalQueue new jobs go to (queue/), None: no Kueue
        self._listener: JobListener | None = None
        self._seen: dict[str, str] = {}
        self.daskjobs = Watched(kube, DASKJOBS, self._on_object, label_selector=JOB_SELECTOR)
        self.runners = Watched(kube, PODS, self._on_object, label_selector=RUNNER_SELECTOR)

    async def start(self, listener: JobListener) -> None:
        self._listener = listener
        self.daskjobs.start()
        self.runners.start()

    async def stop(self) -> None:
        await asyncio.gather(self.daskjobs.stop(), self.runners.stop())

    def _job(self, name: str) -> Job | None:
        obj = self.daskjobs.objects.get(name)
        if obj is None:
            return None
        return job_from(obj, self.runners.objects.get(f"{name}-runner"), self.namespace)

    def _on_object(self, resource: Resource, kind: str, old: dict | None, new: dict | None) -> None:
        obj = new or old or {}
        if resource == PODS:
            name = ((obj.get("metadata") or {}).get("labels") or {}).get("dask.org/cluster-name", "")
        else:
            name = (obj.get("metadata") or {}).get("name", "")
        job = self._job(name)
        if job is None:
            if self._seen.pop(name, None) is not None and self._listener:
                self._listener(name, None)
            return
        encoded = json.dumps(job.to_json(), sort_keys=True)
        if self._seen.get(name) != encoded:  # users only see changes
            self._seen[name] = encoded
            if self._listener:
                self._listener(name, job)

    async def list(self) -> list[Job]:
        if not (self.daskjobs.synced.is_set() and self.runners.synced.is_set()):
            await self._settled()
        return [j for j in (self._job(n) for n in list(self.daskjobs.objects)) if j is not None]

    async def _settled(self) -> None:
        """Waits briefly for the first lists; a refusal (no rights, no CRD) is raised as such."""
        try:
            await asyncio.wait_for(
                asyncio.gather(self.daskjobs.settled.wait(), self.runners.settled.wait()), START_WAIT)
        except asyncio.TimeoutError:
            pass
        for watched in (self.daskjobs, self.runners):
            if not watched.synced.is_set():
                raise watched.error or Unavailable(
                    f"cannot read {watched.resource.full_name} in namespace {self.namespace} yet; "
                    "try again in a moment")

    async def _object(self, name: str) -> dict[str, Any]:
        try:
            return await self.kube.request("GET", DASKJOBS, name, verb="get")
        except NotFound:
            raise NotFound(f"no job named {name!r} in namespace {self.namespace}", field="name") from None

    async def get(self, name: str) -> Job:
        await self.list()
        job = self._job(name)
        if job is None:
            raise NotFound(f"no job named {name!r} in namespace {self.namespace}", field="name")
        return job

    async def create(self, job: Job, spec: ClusterSpec, source: Path, image: str | None) -> Job:
        from ...batch.files import payload

        image = image or self.config.default_image
        if source.name == RUNNER_KEY:
            raise Invalid(f"{RUNNER_KEY} is the job runner's own name; rename the file", field="path")
        content = payload(source)
        body = daskjob_body(job, spec, image, source.name, self.config)
        queue = self._queue() if self._queue is not None else None
        if queue:  # the runner and the job's cluster wait for quota like a cluster does
            mark_job(body, queue)
        if spec.tie_to_notebook and self._tie is not None:
            owner = (await self._tie()).owner
            if owner is not None:  # deleting the notebook deletes its jobs, as its clusters
                body["metadata"]["ownerReferences"] = [owner.reference()]
        created = await self.kube.request("POST", DASKJOBS, verb="create", body=body)
        self.daskjobs.put(created)  # a GET right after the POST sees it
        try:
            await self.kube.request("POST", CONFIGMAPS, verb="create",
                                    body=file_configmap(job.name, created, source.name, content))
        except RapidsKFError:
            await self.kube.request("DELETE", DASKJOBS, job.name, verb="delete")  # no job without its file
            raise
        return job_from(created, None, self.namespace)  # as created: Creating, like a new cluster

    async def delete(self, name: str) -> Job:
        job = await self.get(name)
        await self.kube.request("DELETE", DASKJOBS, name, verb="delete",
                                body={"propagationPolicy": "Background"})
        job.phase = "Deleting"
        return job

    async def _log_lines(self, name: str) -> list[str]:
        await self._object(name)
        try:
            text = await self.kube.request("GET", PODS, f"{name}-runner", verb="get", sub="log",
                                           params={"limitBytes": LOG_LIMIT_BYTES, "container": RUNNER_CONTAINER},
                                           text=True)
        except (NotFound, Invalid):  # no runner pod yet, or its container has not started (400)
            return []
        return text.splitlines()

    async def logs(self, name: str, tail: int) -> list[str]:
        return strip_payload(await self._log_lines(name))[-tail:]

    async def executed(self, name: str) -> tuple[str | None, str | None]:
        return decode_from_log(await self._log_lines(name))

    async def mark_saved(self, name: str, output: str | None, error: str | None) -> None:
        annotations = {OUTPUT_ANNOTATION: output or "", ERROR_ANNOTATION: (error or "")[:2000]}
        patched = await self.kube.request("PATCH", DASKJOBS, name, verb="patch", patch=True,
                                          body={"metadata": {"annotations": annotations}})
        self.daskjobs.put(patched)
