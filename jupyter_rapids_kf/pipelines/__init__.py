"""KubeFlow Pipelines: a pipeline step that runs work on its own GPU DaskCluster.

KFP v2 has no ResourceOp, so the step makes the cluster itself, from inside its container,
with the run's service account: `run_on_gpu_cluster(work, request)` creates a DaskCluster
through the same ClusterService (profiles, guardrails, spec builder) as the Jupyter server,
waits for its workers, calls `work(client)` and always deletes the cluster. `export` turns a
notebook into a compiled pipeline (needs the `pipelines` extra: the kfp SDK).
"""

from .cluster import cluster_name_for_run, delete_cluster, run_on_gpu_cluster, run_on_gpu_cluster_async

__all__ = ["cluster_name_for_run", "delete_cluster", "run_on_gpu_cluster", "run_on_gpu_cluster_async"]
