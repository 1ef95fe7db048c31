"""What the dask-kubernetes operator and the kubelet would do, done by hand in the emulator."""

from __future__ import annotations

import copy
from typing import Any

from .emulator import Emulator


def pod(
    emu: Emulator,
    cluster: str,
    component: str,
    name: str,
    *,
    ready: bool = True,
    waiting: tuple[str, str] | None = None,
    unschedulable: str | None = None,
    gpus: int = 0,
    node: str | None = "gpu-node-1",
    group: str = "default",
    crashed: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """`crashed`: (exit code, restart count) of a container in CrashLoopBackOff, as the kubelet
    reports it: waiting to restart, the crashed run in `lastState`."""
    dc = emu.get("daskclusters", cluster) or {}
    labels = dict((dc.get("metadata") or {}).get("labels") or {})
    labels.update({"dask.org/cluster-name": cluster, "dask.org/component": component})
    if component == "worker":
        labels["dask.org/workergroup-name"] = f"{cluster}-{group}"
    container: dict[str, Any] = {"name": component, "image": "rapidsai/base:test"}
    if gpus:
        container["resources"] = {"limits": {"nvidia.com/gpu": str(gpus)}}
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    status: dict[str, Any] = {"phase": "Running" if ready else "Pending", "conditions": conditions}
    spec: dict[str, Any] = {"containers": [container]}
    if node and not unschedulable:
        spec["nodeName"] = node
    if unschedulable:
        conditions.append({"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                           "message": unschedulable})
    if waiting:
        status["containerStatuses"] = [{"name": component, "ready": False,
                                        "state": {"waiting": {"reason": waiting[0], "message": waiting[1]}}}]
    if crashed:
        code, restarts = crashed
        status["containerStatuses"] = [{
            "name": component, "ready": False, "restartCount": restarts,
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": f"back-off 10s restarting failed container={component} pod={name}"}},
            "lastState": {"terminated": {"exitCode": code, "reason": "Error",
                                         "containerID": f"containerd://{name}-run-{restarts}"}},
        }]
    return emu.put("pods", {"metadata": {"name": name, "labels": labels}, "spec": spec, "status": status})


def reconcile(emu: Emulator, name: str, *, scheduler_ready: bool = True, workers_ready: int | None = None,
              phase: str = "Running", **worker_kwargs: Any) -> None:
    """Status, worker group, scheduler pod and one pod per desired worker (ready by default)."""
    dc = copy.deepcopy(emu.get("daskclusters", name))
    dc["status"] = {"phase": phase}
    emu.put("daskclusters", dc)
    group = emu.get("daskworkergroups", f"{name}-default")
    if group is None:
        group = emu.put("daskworkergroups", {
            "metadata": {"name": f"{name}-default", "labels": dict(dc["metadata"].get("labels") or {})},
            "spec": {"cluster": name, "worker": copy.deepcopy(dc["spec"]["worker"])},
        })
    pod(emu, name, "scheduler", f"{name}-scheduler-7d9f8-abcde", ready=scheduler_ready)
    desired = group["spec"]["worker"]["replicas"]
    ready = desired if workers_ready is None else workers_ready
    existing = sorted(n for (_, n) in emu.objects[("", "pods")] if n.startswith(f"{name}-default-worker-"))
    for i, pod_name in enumerate(existing):
        if i >= desired:
            emu.remove("pods", pod_name)
    gpus = int(((dc["spec"]["worker"]["spec"]["containers"][0].get("resources") or {}).get("limits") or {})
               .get("nvidia.com/gpu", 0))
    for i in range(desired):
        pod(emu, name, "worker", f"{name}-default-worker-{i:04x}-pod", ready=i < ready, gpus=gpus, **worker_kwargs)


def external_cluster(emu: Emulator, name: str, workers: int = 1) -> dict[str, Any]:
    """A DaskCluster made elsewhere (a notebook's KubeCluster): no labels of ours."""
    from dask_kubernetes.operator import make_cluster_spec

    from jupyter_rapids_kf.backends.kubernetes.spec import drop_none

    body = drop_none(make_cluster_spec(name, image="ghcr.io/dask/dask:latest", n_workers=workers))
    return emu.put("daskclusters", body)


def gpu_node(emu: Emulator, name: str, gpus: int) -> dict[str, Any]:
    return emu.put("nodes", {
        "metadata": {"name": name},
        "spec": {"taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]},
        "status": {"allocatable": {"nvidia.com/gpu": str(gpus), "cpu": "32"}},
    })


def extra_worker_group(emu: Emulator, cluster: str, group: str, *, replicas: int, ready: int,
                       gpus: int = 0) -> dict[str, Any]:
    """What `KubeCluster.add_worker_group(group, n_workers=replicas)` leaves: a DaskWorkerGroup
    `<cluster>-<group>` and its worker pods, `ready` of them Ready."""
    container: dict[str, Any] = {"name": "worker", "image": "rapidsai/base:test", "args": ["dask-worker"]}
    if gpus:
        container["resources"] = {"limits": {"nvidia.com/gpu": str(gpus)}}
    body = emu.put("daskworkergroups", {
        "metadata": {"name": f"{cluster}-{group}"},
        "spec": {"cluster": cluster, "worker": {"replicas": replicas, "spec": {"containers": [container]}}},
    })
    for i in range(replicas):
        pod(emu, cluster, "worker", f"{cluster}-{group}-worker-{i:04x}-pod", ready=i < ready, gpus=gpus, group=group)
    return body
