"""A maximum lifetime that Kubernetes enforces by itself: a Job that owns the cluster.

The operator has no lifetime of its own, and a scheduler that exits is restarted by its
Deployment, so neither can end a cluster for good. Kubernetes' own controllers can: the Job
`<cluster>-lifetime` has `parallelism: 0` (it never starts a pod and holds no resources) and
`activeDeadlineSeconds` = the lifetime. At the deadline the Job controller marks it failed,
the TTL controller (`ttlSecondsAfterFinished: 0`) deletes it, and the garbage collector
deletes the DaskCluster it owns, whether or not this server runs. The Job is owned by the
notebook when the cluster is tied, so deleting the notebook still deletes the cluster
(an object with several owners is only collected when all are gone, hence a chain).
"""

from __future__ import annotations

from typing import Any

from ...errors import Exists, NotFound
from .client import JOBS
from .spec import MANAGED_LABEL, MANAGED_VALUE

LIFETIME_ANNOTATION = "rapids-kf.jupyter.org/lifetime"  # seconds, on the DaskCluster
ENDS_WITH_ANNOTATION = "rapids-kf.jupyter.org/ends-with"  # "Notebook/nb", when the Job is owned
JOB_LABEL = "rapids-kf.jupyter.org/lifetime-of"


def job_name(cluster: str) -> str:
    return f"{cluster}-lifetime"


def job_body(cluster: str, seconds: int, image: str, owner: Any = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": job_name(cluster),
        "labels": {MANAGED_LABEL: MANAGED_VALUE, JOB_LABEL: cluster},
    }
    if owner is not None:
        metadata["ownerReferences"] = [owner.reference()]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "parallelism": 0,  # a timer only: no pod ever runs
            "completions": 1,
            "backoffLimit": 0,
            "activeDeadlineSeconds": seconds,
            "ttlSecondsAfterFinished": 0,
            "template": {
                "metadata": {"labels": {JOB_LABEL: cluster}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "lifetime", "image": image, "command": ["true"]}],
                },
            },
        },
    }


def job_owner_reference(job: dict[str, Any]) -> dict[str, Any]:
    meta = job["metadata"]
    return {"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"], "uid": meta["uid"]}


def mark(body: dict[str, Any], seconds: int, job: dict[str, Any], owner: Any = None) -> None:
    """The DaskCluster body: owned by the Job (instead of the notebook), with the lifetime and
    what the Job ends with written down for the card."""
    metadata = body["metadata"]
    metadata["ownerReferences"] = [job_owner_reference(job)]
    annotations = metadata.setdefault("annotations", {})
    annotations[LIFETIME_ANNOTATION] = str(seconds)
    if owner is not None:
        annotations[ENDS_WITH_ANNOTATION] = f"{owner.kind}/{owner.name}"


async def create_job(kube: Any, spec: Any, image: str, owner: Any = None) -> dict[str, Any]:
    """Creates the cluster's lifetime Job; one left by an earlier cluster of that name (deleted
    with kubectl, say) is replaced."""
    body = job_body(spec.name, spec.lifetime, image, owner)
    try:
        return await kube.request("POST", JOBS, verb="create", body=body)
    except Exists:
        await delete_job(kube, spec.name)
        return await kube.request("POST", JOBS, verb="create", body=body)


async def delete_job(kube: Any, cluster: str) -> None:
    options = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
    try:
        await kube.request("DELETE", JOBS, job_name(cluster), verb="delete", body=options)
    except NotFound:
        pass
