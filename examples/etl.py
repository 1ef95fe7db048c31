"""The ETL of `etl-dask-cudf.ipynb` and `benchmarks/gpu_etl.py`: one code path, four engines.

    pandas or cuDF in one process          ->  load(root, "pandas" | "cudf")
    Dask on CPU workers or dask-cuDF on    ->  load(root, "pandas" | "cudf", client=client)
    GPU workers

Orders (a large fact table) are read from Parquet, filtered, joined with two small
dimension tables and aggregated twice; the results are written back to Parquet. The
same `transform` and `aggregate` run on pandas, cuDF and Dask frames of either.

What makes the distributed GPU path fast (each choice is explained where it is made):
  * partitions are built on the workers (read_parquet), never sent from the client;
  * few large partitions on GPUs, sized to the GPU's memory and to the data the worker
    persists (gpu_partition_bytes), many small ones on CPUs;
  * the inputs are persisted once, so each query starts from GPU memory;
  * the small tables are single partitions, so joins broadcast them: no shuffle at all;
  * where a shuffle is unavoidable, the task-based shuffle is used on GPUs;
  * the workers keep an RMM memory pool (the extension's LocalCUDACluster does that).

Run it in one process:  python etl.py generate DIR --rows 10M
                        python etl.py run DIR --backend cudf --rows 10M
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

N_CUSTOMERS = 100_000
N_PRODUCTS = 10_000
N_SEGMENTS = 8
N_CATEGORIES = 32
N_DAYS = 365
MIN_AMOUNT = 10.0

ROWS_PER_FILE = 25_000_000  # about 600 MB per file, one file per generation task
ROW_GROUP_ROWS = 1_000_000  # 24 MB: lets Dask on CPUs split files into small partitions
GPU_PARTITION_BYTES = 12 * 2**30  # a GPU wants few, large partitions: one per GPU up to this
# ... and small enough for the GPU it runs on. A partition's query holds several times its
# size at once (the filtered copy, two joined copies, gather maps, the new columns): up to
# ~6x here (cuDF at 800M rows, 19 GB, ran out of 80 GB but fit 141 GB). All a worker stores
# counts towards dask-cuda's spill threshold (its device memory limit, 80% of the GPU): the
# persisted partitions and the query's intermediate frames. Above it, partitions move to
# host memory and back. So a partition must fit the room the persisted data leaves below
# the threshold: (0.8 x GPU memory - persisted bytes) / 6. On an 80 GB H100, 800M orders
# (19.2 GB) make 3 partitions of 6.4 GB: 1.42-1.48 s, where 7 of 2.7 GB (the earlier rule,
# a 30th of the GPU) took 1.7-6.5 s, and 2 of 9.6 GB spilled 25 GB to host memory and took
# 11-18 s (docs/benchmarks.md, "H100 80 GB (2026-12-08)").
GPU_SPILL_FRACTION = 0.8
GPU_WORKING_SET = 6
CPU_PARTITION_BYTES = (32 * 2**20, 256 * 2**20)  # CPUs want many small ones: two per core or more
ORDER_COLUMNS = ["customer", "product", "amount", "quantity", "day"]
BYTES_PER_ROW = 24  # int32 customer, product, quantity, day + float64 amount


def frames(backend: str):
    """The DataFrame library of a backend: cudf for "cudf", pandas for "pandas"."""
    if backend == "cudf":
        import cudf

        return cudf
    if backend == "pandas":
        import pandas

        return pandas
    raise ValueError(f"backend must be 'pandas' or 'cudf', not {backend!r}")


def parse_rows(text: str | int) -> int:
    """'50M', '1.5G', '200k' or a plain number of rows."""
    if isinstance(text, int):
        return text
    text = text.strip().upper().replace("_", "")
    scale = {"K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9}.get(text[-1:], 1)
    return int(float(text[:-1] if scale != 1 else text) * scale)


# --- synthetic data ---------------------------------------------------------------------------


def orders_part(part: int, rows: int, seed: int = 0):
    """One file's worth of orders, generated with numpy so every backend reads the same data."""
    import pandas as pd

    rng = np.random.default_rng([seed, part])
    return pd.DataFrame(
        {
            "customer": rng.integers(0, N_CUSTOMERS, rows, dtype=np.int32),
            "product": rng.integers(0, N_PRODUCTS, rows, dtype=np.int32),
            "amount": rng.random(rows) * 100.0,
            "quantity": rng.integers(0, 10, rows, dtype=np.int32),  # 0: cancelled
            "day": rng.integers(0, N_DAYS, rows, dtype=np.int32),
        }
    )


def customers_table(seed: int = 0):
    import pandas as pd

    rng = np.random.default_rng([seed, 10**6])
    return pd.DataFrame(
        {
            "customer": np.arange(N_CUSTOMERS, dtype=np.int32),
            "segment": rng.integers(0, N_SEGMENTS, N_CUSTOMERS, dtype=np.int32),
        }
    )


def products_table(seed: int = 0):
    import pandas as pd

    rng = np.random.default_rng([seed, 10**6 + 1])
    return pd.DataFrame(
        {
            "product": np.arange(N_PRODUCTS, dtype=np.int32),
            "category": rng.integers(0, N_CATEGORIES, N_PRODUCTS, dtype=np.int32),
            "margin": rng.random(N_PRODUCTS) * 0.5,
        }
    )


def write_orders_file(root: str, part: int, rows: int, seed: int = 0) -> str:
    path = Path(root) / "orders" / f"part.{part:05d}.parquet"
    tmp = path.with_suffix(".tmp")
    orders_part(part, rows, seed).to_parquet(tmp, index=False, row_group_size=ROW_GROUP_ROWS)
    tmp.replace(path)
    return str(path)


def file_plan(rows: int, rows_per_file: int = ROWS_PER_FILE) -> list[int]:
    """Rows in each orders file; a dataset of N rows is the first files of a larger one."""
    full, rest = divmod(rows, rows_per_file)
    return [rows_per_file] * full + ([rest] if rest else [])


def generate(root: str | Path, rows: int | str, client=None, seed: int = 0, rows_per_file: int = ROWS_PER_FILE) -> dict[str, int]:
    """Write the dataset (orders/part.*.parquet, customers.parquet, products.parquet).

    With a Dask client the files are written by the workers, in parallel. Files that exist
    with the same plan are kept, so a larger dataset extends a smaller one.
    """
    rows = parse_rows(rows)
    root = Path(root)
    (root / "orders").mkdir(parents=True, exist_ok=True)
    plan = file_plan(rows, rows_per_file)
    manifest_path = root / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    if manifest.get("seed") != seed or manifest.get("rows_per_file") != rows_per_file:
        manifest = {"seed": seed, "rows_per_file": rows_per_file, "files": {}}
    todo = [
        (part, n) for part, n in enumerate(plan)
        if manifest["files"].get(str(part)) != n or not (root / "orders" / f"part.{part:05d}.parquet").exists()
    ]
    if client is not None and todo:
        futures = client.map(write_orders_file, [str(root)] * len(todo), [p for p, _ in todo],
                             [n for _, n in todo], [seed] * len(todo), pure=False)
        client.gather(futures)
    else:
        for part, n in todo:
            write_orders_file(str(root), part, n, seed)
    customers_table(seed).to_parquet(root / "customers.parquet", index=False)
    products_table(seed).to_parquet(root / "products.parquet", index=False)
    for part, n in todo:
        manifest["files"][str(part)] = n
    manifest_path.write_text(json.dumps(manifest))
    return {"rows": rows, "files": len(plan), "written": len(todo)}


def order_files(root: str | Path, rows: int | str) -> list[str]:
    """The files that hold the first `rows` orders of a generated dataset."""
    rows = parse_rows(rows)
    manifest = json.loads((Path(root) / "manifest.json").read_text())
    files, total = [], 0
    for part in sorted(manifest["files"], key=int):
        if total >= rows:
            break
        files.append(str(Path(root) / "orders" / f"part.{int(part):05d}.parquet"))
        total += manifest["files"][part]
    if total != rows:
        raise ValueError(
            f"the dataset in {root} holds {total} rows in files of {manifest['rows_per_file']} "
            f"rows, not a prefix of exactly {rows}: generate() it with rows={rows}"
        )
    return files


def dataset_rows(root: str | Path) -> int:
    return sum(json.loads((Path(root) / "manifest.json").read_text())["files"].values())


# --- the ETL ----------------------------------------------------------------------------------


def transform(orders, customers, products):
    """Filter, then enrich with two joins and a derived column.

    On Dask, `customers` and `products` are single partitions: Dask joins each orders
    partition with them where it lies (a broadcast join), so no orders row moves.
    """
    valid = orders[(orders["amount"] > MIN_AMOUNT) & (orders["quantity"] > 0)]
    enriched = valid.merge(customers, on="customer", how="inner")
    enriched = enriched.merge(products, on="product", how="inner")
    revenue = enriched["amount"] * enriched["quantity"]
    return enriched.assign(revenue=revenue, profit=revenue * enriched["margin"])


def aggregate(enriched):
    """Two group-bys: a small one (segment x category) and a wide one (per customer).

    On Dask both results are reduced to one partition (split_out=1): they are small
    (100,000 rows at most), so a tree reduction beats the shuffle Dask would otherwise
    pick for many input partitions.
    """
    options = {"split_out": 1} if hasattr(enriched, "dask") else {}
    by_segment = enriched.groupby(["segment", "category"]).agg(
        {"revenue": "sum", "profit": "sum", "amount": "mean", "quantity": "sum"}, **options
    )
    by_customer = enriched.groupby("customer").agg({"revenue": "sum", "profit": "sum"}, **options)
    return by_segment, by_customer


def etl(orders, customers, products):
    """The whole query; Dask collections are computed together, sharing the transform."""
    by_segment, by_customer = aggregate(transform(orders, customers, products))
    if hasattr(by_segment, "dask"):
        import dask

        by_segment, by_customer = dask.compute(by_segment, by_customer)
    return by_segment.sort_index(), by_customer.sort_index()


def write_results(out: str | Path, by_segment, by_customer) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    by_segment.to_parquet(out / "by_segment.parquet")
    by_customer.to_parquet(out / "by_customer.parquet")


def summary(by_segment, by_customer) -> dict[str, Any]:
    """A few numbers that identify a result; equal across engines up to float rounding."""

    def host(frame):
        return frame.to_pandas() if hasattr(frame, "to_pandas") else frame

    seg, cust = host(by_segment), host(by_customer)
    top = cust["revenue"].idxmax()
    return {
        "segments": int(len(seg)),
        "customers": int(len(cust)),
        "revenue": float(seg["revenue"].sum()),
        "profit": float(seg["profit"].sum()),
        "quantity": int(seg["quantity"].sum()),
        "mean_amount": float(seg["amount"].mean()),
        "top_customer": int(top),
        "top_revenue": float(cust["revenue"].max()),
    }


def same_result(a: dict[str, Any], b: dict[str, Any], rel: float = 1e-9) -> bool:
    for key in a.keys() | b.keys():
        x, y = a.get(key), b.get(key)
        if isinstance(x, float) and isinstance(y, float):
            if not math.isclose(x, y, rel_tol=rel, abs_tol=1e-6):
                return False
        elif x != y:
            return False
    return True


# --- loading ----------------------------------------------------------------------------------


def load(root: str | Path, backend: str, rows: int | str | None = None, client=None, partitions: int | None = None):
    """Read the dataset: pandas/cuDF frames, or, with a client, Dask frames persisted on the workers.

    Returns (orders, customers, products). `rows` picks the first files of a larger dataset.
    """
    root = Path(root)
    rows = parse_rows(rows) if rows is not None else dataset_rows(root)
    files = order_files(root, rows)
    if client is None:
        lib = frames(backend)
        if backend == "pandas":
            import pyarrow.parquet as pq

            orders = pq.read_table(files, columns=ORDER_COLUMNS).to_pandas()
        else:
            orders = lib.read_parquet(files, columns=ORDER_COLUMNS)
        return orders, lib.read_parquet(str(root / "customers.parquet")), lib.read_parquet(str(root / "products.parquet"))

    import dask
    import dask.dataframe as dd
    from distributed import wait

    workers = max(1, len(client.scheduler_info()["workers"]))
    with dask.config.set(cluster_config(backend)):
        if backend == "cudf":
            # One partition per file, read by the GPU's own Parquet reader, then merged into
            # a few large partitions sized to the GPU (gpu_partition_bytes): a GPU needs ~1 GiB
            # per task to be busy, and every extra task costs scheduling and a reduction input.
            orders = dd.read_parquet(files, columns=ORDER_COLUMNS, blocksize=None)
            target = partitions or gpu_partitions(rows, workers, worker_gpu_memory(client))
        else:
            orders = dd.read_parquet(files, columns=ORDER_COLUMNS, blocksize=cpu_blocksize(rows, workers))
            # At least two partitions per thread, so that every core has work while another
            # partition waits (a Parquet file's row groups may not split finer by blocksize).
            threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
            target = partitions or max(orders.npartitions, 2 * threads)
        if target and target != orders.npartitions:
            orders = orders.repartition(npartitions=target)
        orders = spread(client, orders)
        customers = dd.read_parquet(str(root / "customers.parquet"), blocksize=None)
        products = dd.read_parquet(str(root / "products.parquet"), blocksize=None)
        customers, products = dask.persist(customers, products)
    wait([orders, customers, products])
    # A copy of each small table on every worker: the broadcast joins then move no data.
    from distributed import futures_of

    client.replicate(futures_of(customers) + futures_of(products))
    return orders, customers, products


def spread(client, frame):
    """Persist partition i on worker i mod n.

    Left to itself, the scheduler may place every partition of a freshly read dataset on
    one worker (the tasks share their dependencies), and with one GPU per worker the
    other GPUs then sit idle for every query. Placing them explicitly keeps each GPU busy.
    """
    import dask.dataframe as dd

    workers = sorted(client.scheduler_info()["workers"])
    parts = frame.to_delayed()
    futures = [
        client.compute(part, workers=[workers[i % len(workers)]], allow_other_workers=False)
        for i, part in enumerate(parts)
    ]
    return dd.from_delayed(futures, meta=frame._meta, divisions=frame.divisions, verify_meta=False)


def gpu_partition_bytes(gpu_memory: int | None, persisted: int | None = None) -> int:
    """The largest partition whose query fits in the GPU next to the persisted data.

    What a worker stores counts towards dask-cuda's spill threshold (GPU_SPILL_FRACTION of
    the GPU): the persisted partitions (`persisted` bytes per worker, where known) and the
    intermediate frames of the query (up to GPU_WORKING_SET x a partition). Above it,
    partitions move to host memory and back, which costs seconds. So a partition is at most
    (threshold - persisted) / GPU_WORKING_SET; where the data alone fills the threshold (it
    then spills anyway), at most (1 - threshold) / GPU_WORKING_SET of the GPU.
    """
    if not gpu_memory:
        return GPU_PARTITION_BYTES
    threshold = GPU_SPILL_FRACTION * gpu_memory
    room = max(threshold - (persisted if persisted is not None else threshold), gpu_memory - threshold)
    return int(min(GPU_PARTITION_BYTES, room / GPU_WORKING_SET))


def gpu_partitions(rows: int, workers: int, gpu_memory: int | None = None) -> int:
    """A multiple of the GPU count, each partition at most gpu_partition_bytes(gpu_memory)."""
    per_worker_bytes = rows * BYTES_PER_ROW / workers
    per_worker = math.ceil(per_worker_bytes / gpu_partition_bytes(gpu_memory, int(per_worker_bytes)))
    return workers * max(1, per_worker)


def _device_memory() -> int | None:
    try:
        import cupy

        return int(cupy.cuda.runtime.memGetInfo()[1])  # the worker's own GPU
    except Exception:  # a CPU worker
        return None


def worker_gpu_memory(client) -> int | None:
    """The smallest GPU memory of the cluster's workers (None where they have no GPU)."""
    sizes = [m for m in client.run(_device_memory).values() if m]
    return min(sizes) if sizes else None


def cpu_blocksize(rows: int, workers: int) -> int:
    """Bytes per CPU partition: at least two partitions per worker, 32-256 MiB each."""
    low, high = CPU_PARTITION_BYTES
    return int(min(high, max(low, rows * BYTES_PER_ROW / (2 * workers))))


def cluster_config(backend: str) -> dict[str, Any]:
    """Dask settings for each backend; use them around graph construction and compute."""
    config: dict[str, Any] = {"dataframe.backend": backend}
    if backend == "cudf":
        # dask's default P2P shuffle stages partitions in host memory and on disk; the
        # task-based shuffle keeps cuDF frames on the GPUs. (This ETL needs no shuffle.)
        config["dataframe.shuffle.method"] = "tasks"
    return config


def ship(client) -> None:
    """Make this module importable on the workers (generate() maps its functions there)."""
    client.upload_file(__file__)


# --- one process, from the command line -------------------------------------------------------


def use_rmm_pool() -> None:
    """The same memory pool the cluster's GPU workers get: allocations come from one slab."""
    import rmm

    try:
        rmm.reinitialize(pool_allocator=True)
    except TypeError:  # older signature
        rmm.reinitialize(True)


def run_single(root: str, backend: str, rows: int | str, repeat: int = 3, warmup: int = 1, out: str | None = None) -> dict:
    """Load once, then time the ETL `warmup + repeat` times in this process."""
    if backend == "cudf":
        use_rmm_pool()
    start = time.perf_counter()
    orders, customers, products = load(root, backend, rows)
    if backend == "cudf":
        _sync()
    load_s = time.perf_counter() - start
    times = []
    result = None
    for i in range(warmup + repeat):
        start = time.perf_counter()
        by_segment, by_customer = etl(orders, customers, products)
        if out:
            write_results(out, by_segment, by_customer)
        if backend == "cudf":
            _sync()
        elapsed = time.perf_counter() - start
        if i >= warmup:
            times.append(elapsed)
        result = summary(by_segment, by_customer)
    return {"engine": f"{backend}-single", "rows": parse_rows(rows), "load_s": load_s, "times_s": times,
            "etl_s": float(np.median(times)), "result": result}


def _sync() -> None:
    try:
        import cupy

        cupy.cuda.runtime.deviceSynchronize()
    except Exception:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write the synthetic dataset")
    gen.add_argument("root")
    gen.add_argument("--rows", default="10M")
    run = sub.add_parser("run", help="time the ETL in this process")
    run.add_argument("root")
    run.add_argument("--backend", choices=("pandas", "cudf"), default="pandas")
    run.add_argument("--rows", default=None)
    run.add_argument("--repeat", type=int, default=3)
    run.add_argument("--warmup", type=int, default=1)
    run.add_argument("--out", default=None, help="write the results here")
    args = parser.parse_args(argv)
    if args.command == "generate":
        print(json.dumps(generate(args.root, args.rows)))
        return 0
    rows = args.rows or dataset_rows(args.root)
    print(json.dumps(run_single(args.root, args.backend, rows, args.repeat, args.warmup, args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
