"""Code a user pastes into a notebook to use a cluster. Every snippet must run as is.

Values are inserted with repr() so that names and addresses can never break the code.
"""

from __future__ import annotations

from textwrap import dedent

from .errors import Invalid
from .models import Cluster

KINDS = ("client", "kubecluster", "cudf")


def client_snippet(cluster: Cluster) -> str:
    return dedent(
        f"""\
        from dask.distributed import Client

        # Cluster {cluster.name!r} ({cluster.backend}, namespace {cluster.namespace!r})
        client = Client({cluster.scheduler.address!r})
        client
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

    GPU choices that decide whether the GPU wins (see docs/benchmarks.md): few large
    partitions (a GPU wants ~1 GB per partition, not many small ones), a broadcast join for
    the small table instead of a shuffle, and persisting the input once.
    """
    gpu = cluster.gpus_per_worker > 0
    backend = "cudf" if gpu else "pandas"
    frame_import = "import cudf as xdf  # GPU DataFrames" if gpu else "import pandas as xdf"
    return dedent(
        f"""\
        import dask
        import dask.dataframe as dd
        import numpy as np
        from dask.distributed import Client, wait

        client = Client({cluster.scheduler.address!r})
        dask.config.set({{"dataframe.backend": {backend!r}}})

        ROWS_PER_PARTITION = 5_000_000  # large partitions keep each GPU busy
        PARTITIONS = 2 * max(1, len(client.scheduler_info()["workers"]))


        def make_orders(seed, rows=ROWS_PER_PARTITION):
            {frame_import}
            rng = np.random.default_rng(seed)
            return xdf.DataFrame({{
                "customer": rng.integers(0, 100_000, rows),
                "amount": rng.random(rows) * 100.0,
                "day": rng.integers(0, 365, rows),
            }})


        def make_customers(_):
            {frame_import}
            rng = np.random.default_rng(0)
            return xdf.DataFrame({{
                "customer": np.arange(100_000),
                "segment": rng.integers(0, 8, 100_000),
            }})


        # Replace with dd.read_parquet("s3://bucket/orders/*.parquet") for real data.
        orders = dd.from_map(make_orders, range(PARTITIONS)).persist()
        customers = dd.from_map(make_customers, [0])  # small table: broadcast, no shuffle
        wait(orders)

        big = orders[orders.amount > 10.0]
        joined = big.merge(customers, on="customer", how="inner", broadcast=True)
        by_segment = joined.groupby("segment").agg({{"amount": ["sum", "mean", "count"]}}).compute()
        by_day = big.groupby("day").amount.sum().compute()
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
