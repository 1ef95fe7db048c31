"""Settings of the Kubernetes backend: the namespace, scheduler pods, timeouts, readings, the cache.

A batch job's runner pod gets the scheduler's CPU and memory: no option is batch-only."""

from __future__ import annotations

from traitlets import HasTraits, Bool, Dict, Float, Int, List, Unicode, validate


class KubernetesSettings(HasTraits):
    """c.RapidsKF: how the Kubernetes backend makes and watches clusters."""

    namespace = Unicode(
        "",
        help="""Kubernetes namespace for clusters. Empty: the service account's namespace,
        then the kubeconfig context's namespace, then 'default'.""",
    ).tag(config=True)
    scheduler_cpu = Unicode(
        "1", help="CPU request and limit of a Kubernetes cluster's scheduler pod (no GPU)."
    ).tag(config=True)
    scheduler_memory = Unicode(
        "4Gi", help="Memory request and limit of a Kubernetes cluster's scheduler pod."
    ).tag(config=True)
    worker_tolerations = List(
        Dict(),
        default_value=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        help="""Tolerations of GPU worker pods (not the scheduler), so they may run on nodes
        tainted for GPU work. The default tolerates the usual nvidia.com/gpu taint.""",
    ).tag(config=True)
    mesh_sidecars = Bool(
        False,
        help="""False: every pod this extension makes (scheduler, workers, a job's runner, a
        pipeline step's cluster) says sidecar.istio.io/inject: "false", so Istio adds no proxy to
        it. True, for meshes that require sidecars: nothing opts out, and a job's runner and a
        pipeline step ask the sidecar to quit (sidecar_quit_url) when they have finished, so
        that the pod can end.""",
    ).tag(config=True)
    sidecar_quit_url = Unicode(
        "http://127.0.0.1:15020/quitquitquit",
        help="""With mesh_sidecars: what a finished job runner or pipeline step POSTs to on its
        own pod's loopback to stop the sidecar (Istio's pilot-agent; Linkerd's is
        http://127.0.0.1:4191/shutdown). Empty: ask nothing (native sidecars end by
        themselves).""",
    ).tag(config=True)
    operator_timeout = Int(
        60,
        help="""Seconds a new DaskCluster, or a scale of one, may wait for the dask-kubernetes
        operator before the cluster's reasons say the operator is not acting.""",
    ).tag(config=True)
    deletion_timeout = Int(
        60,
        help="""Seconds a deleted DaskCluster may wait on the operator's finalizer before its
        reasons say the deletion is stuck.""",
    ).tag(config=True)
    kubernetes_timeout = Float(
        15.0, help="Seconds to wait for one Kubernetes API request (watches excepted)."
    ).tag(config=True)
    gpu_metrics_interval = Float(
        5.0,
        help="""Seconds between readings of GPU memory and utilisation of Kubernetes GPU
        clusters, asked of each Running cluster's Dask scheduler (port 8786, as the client
        snippet connects); each new scheduler is also asked once for its package versions
        (version skew with the notebook); clusters with an idle timeout are asked since when
        they are idle, for the card's countdown. 0 turns all three off.""",
    ).tag(config=True)
    worker_list_interval = Float(
        10.0,
        help="""Seconds between reads of a steady Kubernetes cluster's worker list from its Dask
        scheduler (port 8786, one small message): a worker counts as ready only once the
        scheduler lists it. While worker pods run that have not joined the scheduler yet, the
        list is read every 0.25 s and at every change of the cluster's pods, whatever this
        says. Not turned off by gpu_metrics_interval = 0.""",
    ).tag(config=True)
    kueue_queue = Unicode(
        "",
        help="""Kueue LocalQueue that new Kubernetes clusters and jobs go through (docs/kueue.md):
        their scheduler, worker and runner pods carry kueue.x-k8s.io/queue-name, so Kueue admits
        them against the ClusterQueue's quota and a cluster that does not fit waits, with its
        place in the queue on the card. "auto": the namespace's LocalQueue named "default", or
        its only LocalQueue. Empty (default): no queue; pods are scheduled as soon as created.""",
    ).tag(config=True)
    list_from_cache = Bool(
        True,
        help="""Serve cluster lists from the watch-fed cache. False lists every kind from the
        Kubernetes API on each request (for benchmarks and debugging only).""",
    ).tag(config=True)

    @validate("worker_list_interval")
    def _check_worker_list_interval(self, proposal):
        if proposal["value"] <= 0:
            raise ValueError("worker_list_interval must be a positive number of seconds: without "
                             "the scheduler's worker list no worker can count as ready")
        return proposal["value"]

    @validate("gpu_metrics_interval")
    def _check_interval(self, proposal):
        if proposal["value"] < 0:
            raise ValueError("gpu_metrics_interval must be 0 (off) or a number of seconds")
        return proposal["value"]
