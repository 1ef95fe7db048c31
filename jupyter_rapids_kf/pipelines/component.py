"""The KFP v2 components and the pipeline a notebook is exported as (needs the kfp SDK).

Two container components, both in the notebook's own image (which has this package):
`run-notebook-on-gpu-cluster` runs `python -m jupyter_rapids_kf.pipelines.step run` (make
the run's cluster, execute the notebook against it, delete the cluster) and
`delete-gpu-cluster`, the pipeline's exit handler, deletes the run's cluster even when the
step failed or was killed, so no GPUs are left behind. Both derive the cluster's name from
the run's id. Caching is off: a cached step would skip the work and its cluster.
"""

# No `from __future__ import annotations`: kfp reads the components' annotations as types.

import json
from typing import Any

from ..errors import Unavailable

STEP_COMPONENT = "run-notebook-on-gpu-cluster"
CLEANUP_COMPONENT = "delete-gpu-cluster"
STEP_MODULE = "jupyter_rapids_kf.pipelines.step"
KFP_FIX = "pip install 'jupyter-rapids-kf[pipelines]' (the kfp SDK) in the notebook image"


def _kfp() -> Any:
    try:
        import kfp  # noqa: F401
        from kfp import dsl
    except ImportError:
        raise Unavailable("the kfp SDK is not installed, so no pipeline can be compiled", fix=KFP_FIX) from None
    return dsl


def components(image: str) -> tuple[Any, Any]:
    """(run step, cleanup step) as KFP container components in `image`."""
    dsl = _kfp()

    @dsl.container_component
    def run_notebook_on_gpu_cluster(
        notebook: str, cluster_request: str, parameters: str, run_id: str,
        executed_notebook: dsl.Output[dsl.Artifact],
    ):
        return dsl.ContainerSpec(
            image=image,
            command=["python", "-m", STEP_MODULE, "run"],
            args=["--notebook", notebook, "--request", cluster_request, "--parameters", parameters,
                  "--run-id", run_id, "--executed", executed_notebook.path],
        )

    @dsl.container_component
    def delete_gpu_cluster(run_id: str):
        return dsl.ContainerSpec(image=image, command=["python", "-m", STEP_MODULE, "cleanup"],
                                 args=["--run-id", run_id])

    return run_notebook_on_gpu_cluster, delete_gpu_cluster


def notebook_pipeline(name: str, image: str, packed_notebook: str, request: dict[str, Any],
                      parameters: dict[str, Any]) -> Any:
    """A pipeline function: one GPU-cluster step inside an exit handler that deletes the cluster."""
    dsl = _kfp()
    run_step, cleanup_step = components(image)
    request_json, parameters_json = json.dumps(request), json.dumps(parameters)

    @dsl.pipeline(name=name, description=f"runs {name} on its own GPU Dask cluster (jupyter-rapids-kf)")
    def pipeline(notebook: str = packed_notebook, cluster_request: str = request_json,
                 parameters: str = parameters_json):
        cleanup = cleanup_step(run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER)
        cleanup.set_caching_options(False)
        with dsl.ExitHandler(cleanup):
            step = run_step(notebook=notebook, cluster_request=cluster_request, parameters=parameters,
                            run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER)
            step.set_caching_options(False)

    return pipeline


def compile_pipeline(pipeline: Any, path: str) -> None:
    _kfp()
    from kfp import compiler

    compiler.Compiler().compile(pipeline, path)
