"""Code a user pastes into a notebook to use a cluster. Every snippet must run as is.

Values are inserted with repr() so that names and addresses can never break the code.
"""

from __future__ import annotations

from textwrap import dedent, indent

from ..errors import Invalid
from ..models.cluster import Cluster

KINDS = ("client", "kubecluster", "cudf")


def client_snippet(cluster: Cluster) -> str:
    return dedent(
        f"""\
        from dask.distributed import Client

        # Cluster {cluster.name!r} ({cluster.backend}, namespace {cluster.namespace!r})
        """
    ) + ucx_note(cluster) + dedent(
        f"""\
        client = Client({cluster.scheduler.address!r})
        client
        """
    )


def ucx_note(cluster: Cluster) -> str:
    """For a UCX cluster: where its UCX listener is, and why the client dials TCP anyway."""
    if not cluster.scheduler.ucx_address:
        return ""
    return dedent(
        f"""\
        # Its workers talk UCX to each other; the scheduler listens on UCX at
        # {cluster.scheduler.ucx_address} as well. This client talks TCP, which needs nothing more;
        # from a kernel with distributed-ucxx (and a GPU), Client({cluster.scheduler.ucx_address!r}) talks UCX.
        """
    )


def kubecluster_snippet(cluster: Cluster) -> str:
    if cluster.backend != "kubernetes":
        raise Invalid(
            "KubeCluster snippets need a Kubernetes cluster; this one is local: use kind=client",
            field="kind",
        )
    return dedent(
        f"""\
        from dask_kubernetes.operator import KubeCluster

        # Attach to the existing DaskCluster; the cluster keeps running when this kernel stops.
        cluster = KubeCluster.from_name({cluster.name!r}, namespace={cluster.namespace!r}, shutdown_on_close=False)
        client = cluster.get_client()
        client
        """
    )


def cudf_snippet(cluster: Cluster) -> str:
    """A dask-cuDF ETL starter; on a cluster without GPUs the same code runs on pandas.

    The choices that decide whether the GPU wins (docs/gpu.md, examples/etl.py): the
    partitions are built on the workers, never sent from the notebook; few large
    partitions, each at most a 30th of the workers' GPU memory (so that a partition's query
    fits next to the persisted data, which dask-cuda spills to host memory from 80%); the
    input is persisted once; the small
    table is a single partition, so the join broadcasts it instead of shuffling orders;
    the group-bys reduce to one small partition (split_out=1) and share one compute; on
    GPUs any shuffle stays on the GPU (task-based shuffle).
    """
    gpu = cluster.gpus_per_worker > 0
    backend = "cudf" if gpu else "pandas"
    frame_import = "import cudf as xdf  # GPU DataFrames" if gpu else "import pandas as xdf"
    config = (
        f'{{"dataframe.backend": {backend!r}, "dataframe.shuffle.method": "tasks"}}'
        if gpu
        else f'{{"dataframe.backend": {backend!r}}}'
    )
    if gpu:
        # Partitions sized to the GPU the workers have (as examples/etl.py does): a partition's
        # query holds several times its size while the persisted data may fill the GPU up to
        # dask-cuda's spill threshold (80%), so a partition is at most a 30th of the GPU.
        sizing = dedent(
            """\
            def gpu_memory():
                import cupy
                return cupy.cuda.runtime.memGetInfo()[1]  # this worker's GPU, bytes


            WORKERS = max(1, len(client.scheduler_info()["workers"]))
            ROWS = 50_000_000 * WORKERS  # your data's size; larger than the GPUs' memory works too
            BYTES_PER_ROW = 16  # customer, day: int32; amount: float64
            PARTITION_BYTES = min(client.run(gpu_memory).values()) * (1 - 0.8) / 6
            PARTITIONS = WORKERS * max(1, -(-ROWS * BYTES_PER_ROW // int(PARTITION_BYTES * WORKERS)))
            ROWS_PER_PARTITION = ROWS // PARTITIONS"""
        )
    else:
        sizing = dedent(
            """\
            ROWS_PER_PARTITION = 1_000_000  # CPUs want many small ones
            PARTITIONS = 2 * max(1, len(client.scheduler_info()["workers"]))"""
        )
    sizing = indent(sizing, " " * 8).lstrip()
    return dedent(
        f"""\
        import time

        import dask
        import dask.dataframe as dd
        import numpy as np
        from dask.distributed import Client, wait

        client = Client({cluster.scheduler.address!r})
        dask.config.set({config})


        {sizing}


        def make_orders(seed, rows=ROWS_PER_PARTITION):
            {frame_import}
            rng = np.random.default_rng(seed)
            return xdf.DataFrame({{
                "customer": rng.integers(0, 100_000, rows, dtype=np.int32),
                "amount": rng.random(rows) * 100.0,
                "day": rng.integers(0, 365, rows, dtype=np.int32),
            }})


        def make_customers(_):
            {frame_import}
            rng = np.random.default_rng(0)
            return xdf.DataFrame({{
                "customer": np.arange(100_000, dtype=np.int32),
                "segment": rng.integers(0, 8, 100_000, dtype=np.int32),
            }})


        # Each worker builds its own partitions (meta: an empty frame, so none is built here).
        # For real data: dd.read_parquet("s3://bucket/orders/")
        orders = dd.from_map(make_orders, range(PARTITIONS), meta=make_orders(0, rows=0)).persist()
        customers = dd.from_map(make_customers, [0]).persist()  # small table: one partition
        wait([orders, customers])

        start = time.perf_counter()
        big = orders[orders.amount > 10.0]
        joined = big.merge(customers, on="customer", how="inner", broadcast=True)  # no shuffle
        by_segment, by_day = dask.compute(
            joined.groupby("segment").agg({{"amount": ["sum", "mean", "count"]}}, split_out=1),
            big.groupby("day").amount.sum(split_out=1),
        )
        elapsed = time.perf_counter() - start
        print(f"{{len(orders):,}} orders in {{elapsed:.2f}} s on {{PARTITIONS}} partitions")
        print(by_segment.sort_index())
        print(len(by_day), "days")
        """
    )


_BUILDERS = {"client": client_snippet, "kubecluster": kubecluster_snippet, "cudf": cudf_snippet}


def snippet(cluster: Cluster, kind: str) -> str:
    if kind not in _BUILDERS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if not cluster.scheduler.address:
        raise Invalid(
            f"cluster {cluster.name!r} has no scheduler address yet; wait until it is running",
            field="name",
        )
    return _BUILDERS[kind](cluster)
