"""Settings of GPU workers, the same on both backends (jupyter_rapids_kf/models/gpu_workers.py)."""

from __future__ import annotations

from traitlets import Bool, Float, HasTraits, Int, TraitError, Unicode, default, validate


class GPUWorkerOptions(HasTraits):
    """c.RapidsKF: RMM pool, spilling, threads and host memory of every GPU worker."""

    gpu_rmm_pool_size = Unicode(
        help="""RMM pool of each GPU worker: a fraction of the GPU's memory ('0.5') or a size
        ('40GB'); empty: no pool. Default: $RAPIDS_KF_RMM_POOL_SIZE, else 0.5.""",
    ).tag(config=True)
    gpu_device_memory_limit = Unicode(
        "0.8",
        help="""GPU memory (fraction or size) from which a GPU worker spills to host memory
        (dask-cuda's --device-memory-limit); '0' turns device-to-host spilling off.""",
    ).tag(config=True)
    gpu_enable_cudf_spill = Bool(
        False, help="cuDF's own spilling in GPU workers (dask-cuda's --enable-cudf-spill)."
    ).tag(config=True)
    gpu_worker_threads = Int(1, help="Threads of each GPU worker process (one per GPU).").tag(
        config=True
    )
    gpu_memory = Unicode(
        "80Gi",
        help="""Memory of one GPU of the Kubernetes GPU nodes, to size the host memory of GPU
        worker pods (the local backend reads its GPUs' memory from NVML).""",
    ).tag(config=True)
    gpu_host_memory_ratio = Float(
        1.25,
        help="""Host memory of a GPU worker per GPU, in GPU memories (default memory of GPU
        workers: this x gpu_memory x GPUs per worker), so that what spills from the GPU
        stays in host memory.""",
    ).tag(config=True)
    gpu_worker_memory = Unicode(
        "",
        help="""Memory request and limit of each GPU worker (Kubernetes quantity). Empty:
        default_memory where the admin set it, else gpu_host_memory_ratio x gpu_memory x
        GPUs per worker on Kubernetes, the machine's share per GPU locally.""",
    ).tag(config=True)

    gpu_ucx_transports = Unicode(
        "",
        help="""UCX transports to force on for GPU clusters created with protocol 'ucx', comma-
        separated from nvlink, infiniband, rdmacm, tcp (dask-cuda-worker's --enable-nvlink,
        --enable-infiniband, --enable-rdmacm, --enable-tcp-over-ucx). Empty (the default): UCX
        chooses the transports itself, as dask-cuda recommends outside transport benchmarks.""",
    ).tag(config=True)

    @validate("gpu_ucx_transports")
    def _known_transports(self, proposal):
        from ..models.protocols import parse_transports

        try:
            parse_transports(proposal["value"])
        except ValueError as err:
            raise TraitError(str(err)) from None
        return proposal["value"]

    @default("gpu_rmm_pool_size")
    def _default_pool(self):
        from ..models.gpu_workers import default_pool_size

        return default_pool_size()
