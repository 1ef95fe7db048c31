"""Everything an admin can set, as one traitlets configurable: `c.RapidsKF.<option>`.

Set in `jupyter_server_config.py` (or `.json`) of the notebook image; the Environment route
reports the effective values so users see the same limits the server enforces.
"""

from __future__ import annotations

from traitlets import Bool, Dict, Enum, Float, Int, List, Unicode, validate
from traitlets.config import LoggingConfigurable

from .models import REQUEST_FIELDS, check_name


class RapidsKF(LoggingConfigurable):
    """GPU Dask clusters for JupyterLab: backend choice, defaults, guardrails and profiles."""

    backend = Enum(
        ["auto", "local", "kubernetes"],
        default_value="auto",
        help="""Where clusters run. 'kubernetes': DaskCluster resources of the dask-kubernetes
        operator. 'local': dask-cuda / distributed processes on this machine. 'auto': kubernetes
        when credentials are found and the DaskCluster CRD is served, else local.""",
    ).tag(config=True)

    namespace = Unicode(
        "",
        help="""Kubernetes namespace for clusters. Empty: the service account's namespace,
        then the kubeconfig context's namespace, then 'default'.""",
    ).tag(config=True)

    default_image = Unicode(
        "rapidsai/base:26.10-cuda13-py3.12",
        help="""Image for scheduler and workers when the notebook pod's own image cannot be
        read (the notebook's image is preferred so that versions match).""",
    ).tag(config=True)

    use_notebook_image = Bool(
        True,
        help="Default the cluster image to the image of the notebook pod this server runs in.",
    ).tag(config=True)

    default_worker_command = Unicode(
        "dask-cuda-worker", help="Worker command on GPU clusters."
    ).tag(config=True)

    default_workers = Int(2, help="Workers of a new cluster.").tag(config=True)
    default_gpus_per_worker = Int(1, help="GPUs per worker of a new Kubernetes cluster.").tag(
        config=True
    )
    default_cpu = Unicode("4", help="CPU request and limit per worker (Kubernetes quantity).").tag(
        config=True
    )
    default_memory = Unicode(
        "16Gi", help="Memory request and limit per worker (Kubernetes quantity)."
    ).tag(config=True)

    idle_timeout = Int(
        3600,
        help="""Default idle timeout in seconds: a cluster whose scheduler has had no tasks
        for this long is shut down. 0 keeps clusters until they are deleted.""",
    ).tag(config=True)

    tie_to_notebook = Bool(
        True,
        help="""On Kubernetes, make each new cluster a dependent (ownerReference) of the KubeFlow
        Notebook this server runs in (else of its StatefulSet), so that deleting the notebook
        deletes its clusters through Kubernetes' garbage collector, even while this server is
        down. Users may untie a single cluster in the New cluster form.""",
    ).tag(config=True)

    lifetime = Int(
        0,
        help="""Default maximum lifetime of a new Kubernetes cluster, in seconds: Kubernetes
        deletes it this long after it was made, busy or not, whatever happens to this server
        (a Job with activeDeadlineSeconds owns it; see docs/lifecycle.md). 0: no limit.""",
    ).tag(config=True)
    max_lifetime = Int(
        0,
        help="""Guardrail: longest lifetime a user may ask for, seconds (0: no bound). When set,
        every Kubernetes cluster has a lifetime.""",
    ).tag(config=True)

    max_workers = Int(16, help="Guardrail: most workers one cluster may have.").tag(config=True)
    max_gpus_per_worker = Int(8, help="Guardrail: most GPUs one worker may ask for.").tag(
        config=True
    )
    max_clusters = Int(5, help="Guardrail: most clusters in the namespace.").tag(config=True)
    max_idle_timeout = Int(
        0, help="Guardrail: longest idle timeout a user may ask for, seconds (0: no bound)."
    ).tag(config=True)

    allowed_images = List(
        Unicode(),
        default_value=[],
        help="""Guardrail: shell-style patterns (fnmatch) an image must match, such as
        'nvcr.io/nvidia/rapidsai/*'. Empty: any image.""",
    ).tag(config=True)

    profiles = List(
        Dict(),
        default_value=[],
        help="""Presets offered in the New cluster form, each
        {"name": "gpu-small", "title": "1 GPU per worker, 2 workers", "request": {...}} where
        request holds ClusterRequest fields.""",
    ).tag(config=True)

    name_prefix = Unicode(
        "", help="Prefix of suggested cluster names (empty: 'gpu-etl' or 'dask-etl')."
    ).tag(config=True)

    configure_proxy_allowlist = Bool(
        True,
        help="""jupyter-server-proxy's generic routes (/proxy/<port>/, /proxy/<host>:<port>/, absolute ones) reach only the dashboards of this user's clusters; False leaves them to jupyter-server-proxy (the Jupyter server's own port stays refused).""",
    ).tag(config=True)

    set_dashboard_link = Bool(
        True,
        help="Set DASK_DISTRIBUTED__DASHBOARD__LINK for kernels so dashboard links are proxied.",
    ).tag(config=True)

    # --- Kubernetes backend ---------------------------------------------------------------

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

    operator_timeout = Int(
        60,
        help="""Seconds a new DaskCluster may wait for the dask-kubernetes operator before the
        cluster's reasons say the operator is not acting.""",
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

    list_from_cache = Bool(
        True,
        help="""Serve cluster lists from the watch-fed cache. False lists every kind from the
        Kubernetes API on each request (for benchmarks and debugging only).""",
    ).tag(config=True)

    stop_local_clusters_on_exit = Bool(
        False,
        help="""Stop local clusters when the Jupyter server stops. By default they keep
        running (up to their idle timeout) and are found again after a restart.""",
    ).tag(config=True)

    local_standby = Bool(
        True,
        help="""Keep one idle process with dask already imported, so that a new local
        cluster starts a few seconds sooner (costs one idle Python process).""",
    ).tag(config=True)

    local_warm_cluster = Bool(
        True,
        help="""With local_standby, the standby process also starts the default CPU cluster
        (default_workers workers, default cpu and memory) in advance, and hands it to the next
        new cluster of exactly that shape with no environment of its own, which is then usable
        at once. Costs an idle scheduler and its workers while nobody asks for one. Not used on
        a machine with GPUs (its default cluster is a GPU cluster).""",
    ).tag(config=True)

    @validate("profiles")
    def _check_profiles(self, proposal):
        seen = set()
        for profile in proposal["value"]:
            name = profile.get("name")
            if not isinstance(name, str):
                raise ValueError(f"every profile needs a string 'name': {profile!r}")
            check_name(name, "profile name")
            if name in seen:
                raise ValueError(f"profile {name!r} is defined twice")
            seen.add(name)
            request = profile.get("request", {})
            unknown = set(request) - set(REQUEST_FIELDS) - {"profile"}
            if unknown:
                raise ValueError(f"profile {name!r} has unknown request fields {sorted(unknown)}")
        return proposal["value"]

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
