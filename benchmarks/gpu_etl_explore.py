"""Try dask-cuDF settings for the example ETL at one size, in one call of the device.

    python benchmarks/gpu_etl_explore.py --data /tmp/etl-data --rows 800M --json out.json \
        [--variants pool0.9:7,pool0.9:4,async:4,...] [--budget 540]

Each variant is `memory:partitions` (partitions "auto": what examples/etl.py picks): a GPU
cluster (LocalCUDACluster, one worker on GPU 0, the project's GPUWorkerSettings with the RMM
setting of the variant: `pool<F>` an RMM pool of F of the GPU, `async` CUDA's own
asynchronous pool, and `dml<F>` where given a device memory limit of F), the orders loaded
and persisted in that many partitions, one warm-up, then --repeat timed runs of etl.etl plus
the Parquet write (as benchmarks/gpu_etl.py times them). Recorded per variant: the runs, the
load, the peak GPU memory in use (NVML, polled every 50 ms), the bytes dask-cuda moved from
GPU to host memory, and any error. The dataset is generated first where it is missing (on a
CPU cluster of every core). A variant not started before --budget seconds is skipped.
Exploration only: the figures to quote come from benchmarks/gpu_etl.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "examples"))
sys.path.insert(0, str(HERE))

import etl  # noqa: E402
from run_facts import RunFacts  # noqa: E402

# upload_file on an in-process scheduler re-imports etl from its scratch dir: always ship this path
ETL_FILE = str(HERE.parent / "examples" / "etl.py")


class PeakGPU:
    """Highest NVML 'used' of GPU 0 while running."""

    def __init__(self):
        import pynvml

        pynvml.nvmlInit()
        self.nvml, self.handle = pynvml, pynvml.nvmlDeviceGetHandleByIndex(0)
        self.peak, self.stop = 0, threading.Event()
        threading.Thread(target=self.poll, daemon=True).start()

    def used(self) -> int:
        return int(self.nvml.nvmlDeviceGetMemoryInfo(self.handle).used)

    def poll(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.used())
            time.sleep(0.05)

    def reset(self):
        self.peak = self.used()


def host_spilled(dask_worker) -> int:
    """Bytes of keys dask-cuda holds in host memory (moved there from the GPU); -1: unknown."""
    from dask.sizeof import sizeof

    host = getattr(dask_worker.data, "host", None)
    if host is None:
        return -1
    return int(sum(sizeof(v) for v in list(host.values())))


def cluster_kwargs(memory: str):
    from jupyter_rapids_kf.models.gpu_workers import GPUWorkerSettings

    settings = GPUWorkerSettings()
    host = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.85)
    kwargs = settings.local_cuda_kwargs(str(host)) | {"n_workers": 1, "CUDA_VISIBLE_DEVICES": "0",
                                                      "dashboard_address": ":0"}
    for part in memory.split("+"):
        if part.startswith("pool"):
            kwargs["rmm_pool_size"] = part[4:]
        elif part == "async":
            kwargs["rmm_pool_size"] = None
            kwargs["rmm_async"] = True
        elif part.startswith("dml"):
            kwargs["device_memory_limit"] = part[3:]
    return kwargs


def run_variant(client, data, rows, partitions, repeat, peak) -> dict:
    import dask

    peak.reset()
    start = time.perf_counter()
    orders, customers, products = etl.load(data, "cudf", rows, client=client,
                                           partitions=None if partitions == "auto" else int(partitions))
    load_s = time.perf_counter() - start
    load_peak = peak.peak
    runs, first = [], None
    with dask.config.set(etl.cluster_config("cudf")):
        for i in range(1 + repeat):
            start = time.perf_counter()
            by_segment, by_customer = etl.etl(orders, customers, products)
            etl.write_results("/tmp/explore-out", by_segment, by_customer)
            elapsed = time.perf_counter() - start
            if i == 0:
                first = elapsed
            else:
                runs.append(elapsed)
            print(f"    run {i}: {elapsed:.3f} s", flush=True)
    result = {"partitions": orders.npartitions, "load_s": load_s, "first_s": first, "times_s": runs,
              "median_s": statistics.median(runs), "peak_gpu_load_gib": load_peak / 2**30,
              "peak_gpu_gib": peak.peak / 2**30, "host_spilled_bytes": sum(client.run(host_spilled).values()),
              "summary": etl.summary(by_segment, by_customer)}
    del orders, customers, products
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--rows", default="800M")
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--variants", default="pool0.9:auto,pool0.9:4,pool0.9:3,async:auto,async:4,pool0.5:auto")
    parser.add_argument("--budget", type=float, default=540)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    began = time.monotonic()
    rows = etl.parse_rows(args.rows)
    report = {"rows": rows, "variants": [], "command": " ".join(sys.argv)}
    facts = RunFacts()

    def save():
        report["machine_facts"] = facts.finish()
        Path(args.json).write_text(json.dumps(report, indent=1))

    from distributed import Client, LocalCluster

    manifest = Path(args.data) / "manifest.json"
    if not manifest.exists() or etl.dataset_rows(args.data) < rows:
        with LocalCluster(n_workers=os.cpu_count(), threads_per_worker=1, memory_limit="6GiB") as cpu, Client(cpu) as c:
            c.upload_file(ETL_FILE)
            start = time.perf_counter()
            report["dataset"] = etl.generate(args.data, rows, client=c) | {"generate_s": time.perf_counter() - start}
    print("dataset", report.get("dataset", "kept"), f"at {time.monotonic() - began:.0f} s", flush=True)
    save()

    from dask_cuda import LocalCUDACluster

    peak = PeakGPU()
    cluster = client = None
    current = None
    for variant in args.variants.split(","):
        memory, partitions = variant.split(":")
        if time.monotonic() - began > args.budget:
            report["variants"].append({"variant": variant, "skipped": "budget"})
            continue
        entry = {"variant": variant}
        try:
            if memory != current or client is None:
                if cluster is not None:
                    client.close()
                    cluster.close()
                kwargs = cluster_kwargs(memory)
                entry["cluster_kwargs"] = {k: v for k, v in kwargs.items() if k != "memory_limit"}
                start = time.perf_counter()
                cluster = LocalCUDACluster(**kwargs)
                client = Client(cluster)
                client.upload_file(ETL_FILE)
                entry["cluster_start_s"] = time.perf_counter() - start
                current = memory
            print(f"{variant} at {time.monotonic() - began:.0f} s", flush=True)
            entry |= run_variant(client, args.data, rows, partitions, args.repeat, peak)
            print(f"  {variant}: median {entry['median_s']:.3f} s {[round(t, 3) for t in entry['times_s']]} "
                  f"partitions {entry['partitions']} load {entry['load_s']:.1f} s first {entry['first_s']:.2f} s "
                  f"peak {entry['peak_gpu_gib']:.1f} GiB (load {entry['peak_gpu_load_gib']:.1f}) "
                  f"host-spilled {entry['host_spilled_bytes']}", flush=True)
        except Exception as err:
            entry["error"] = f"{type(err).__name__}: {err}"[:2000]
            print(f"  {variant}: ERROR {entry['error'][:300]}", flush=True)
            try:
                client.close()
                cluster.close()
            except Exception:
                pass
            cluster = client = current = None
        report["variants"].append(entry)
        save()
    if cluster is not None:
        client.close()
        cluster.close()
    report["elapsed_s"] = time.monotonic() - began
    save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
