"""Service meshes (Istio): sidecars off on the pods we make, unless the admin's mesh requires them.

KubeFlow's profile namespaces have Istio sidecar injection on. A Dask pod gains nothing from a
proxy (the scheduler and workers speak Dask's own TCP protocol to each other), and a proxy that
keeps running keeps a job's runner pod from ever ending. So by default every pod template we
write carries `sidecar.istio.io/inject: "false"`, as a label (what Istio reads first, and what
its webhook's object selector matches) and as an annotation (older injectors read that). The
dask-kubernetes operator (2026.3.0, `controller.py`) labels its scheduler, worker and job
runner pods the same way; ours does not depend on it.

`c.RapidsKF.mesh_sidecars = True` is for meshes that require sidecars: nothing of ours opts
out, and a job's runner (and a pipeline step) asks the sidecar to quit when it has finished
(`c.RapidsKF.sidecar_quit_url`, Istio's `POST /quitquitquit` on the pod's loopback by
default), so that a sidecar injected as a plain container does not keep the pod running. A
sidecar injected as a Kubernetes native sidecar (an init container with `restartPolicy:
Always`, Istio's default since 1.27) is ended by the kubelet after the main container.
"""

from __future__ import annotations

from typing import Any

INJECT = "sidecar.istio.io/inject"


def opt_out(metadata: dict[str, Any]) -> dict[str, Any]:
    """Marks one pod template's metadata as not to be injected; returns it."""
    metadata.setdefault("labels", {})[INJECT] = "false"
    metadata.setdefault("annotations", {})[INJECT] = "false"
    return metadata


def cluster_pods_opt_out(body: dict[str, Any]) -> None:
    """The scheduler's and the workers' pods of a DaskCluster body (or of a DaskJob's cluster)."""
    spec = body["spec"]
    for part in ("scheduler", "worker"):
        opt_out(spec[part].setdefault("metadata", {}))
