"""The defaults of a new cluster, and the presets (profiles) of the New cluster form."""

from __future__ import annotations

from traitlets import HasTraits, Bool, Dict, Int, List, Unicode, validate

from ..models.cluster import REQUEST_FIELDS, check_name


class ClusterDefaults(HasTraits):
    """c.RapidsKF: what a new cluster gets where its request does not say."""

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
        "16Gi", help="""Memory request and limit per worker (Kubernetes quantity). GPU workers
        get host memory sized to their GPUs instead (gpu_worker_memory), unless this is set."""
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
