"""The Kubernetes GPU worker, started as processes from the DaskCluster our spec code builds.

    python benchmarks/k8s_gpu_worker.py spec body.json      # build the body (needs dask-kubernetes)
    python benchmarks/k8s_gpu_worker.py run body.json --data DIR [--rows 800M] [--json out.json]

`spec` builds the DaskCluster of the default GPU cluster (1 GPU per worker) with the
project's own code (cluster_rules.resolve with the default c.RapidsKF, then
backends/kubernetes/spec.build_daskcluster) and writes it. `run` takes the scheduler's and
the worker's container args and env out of that body, adds what the operator adds to a
worker pod (DASK_WORKER_NAME, DASK_SCHEDULER_ADDRESS; the address is loopback here, the
Service's DNS name in a cluster), expands $(VAR) in the args as the kubelet does, and starts
both as processes. Nothing of the command is retyped here.

Recorded, in seconds from the worker process's start: the nanny up ("Start Nanny at" in its
log), the CUDA context (the GPU's used memory grows by more than 256 MiB: NVML, polled every
20 ms), the RMM pool (used memory grows by more than 40% of the GPU), "Start worker at", the
worker's "Registered to", and the scheduler listing the worker (a client polling every
20 ms). Then the example ETL (examples/etl.py, as benchmarks/gpu_etl.py times it: load and
persist, one warm-up, --repeat runs) on that worker.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "examples"))
sys.path.insert(0, str(HERE))

SCHEDULER_PORT = 8786
ETL_FILE = str(HERE.parent / "examples" / "etl.py")  # upload_file on an in-process scheduler re-imports etl from its scratch dir


def build_spec(path: Path) -> dict:
    from jupyter_rapids_kf.backends.base import BackendFacts
    from jupyter_rapids_kf.backends.kubernetes.spec import build_daskcluster, drop_none
    from jupyter_rapids_kf.clusters.rules import resolve
    from jupyter_rapids_kf.config import RapidsKF
    from jupyter_rapids_kf.models.gpu_workers import GPUWorkerSettings
    from jupyter_rapids_kf.models.cluster import ClusterRequest

    config = RapidsKF()
    facts = BackendFacts(namespace="team-a", default_image=config.default_image, accepts_image=True)
    spec = resolve(config, ClusterRequest(name="gpu-etl", workers=1), facts)
    body = drop_none(build_daskcluster(spec, image=config.default_image, scheduler_cpu=config.scheduler_cpu,
                                       scheduler_memory=config.scheduler_memory,
                                       gpu_workers=GPUWorkerSettings.from_config(config)))
    path.write_text(json.dumps(body, indent=1))
    return body


def container(body: dict, role: str) -> dict:
    return body["spec"][role]["spec"]["containers"][0]


def expand(args: list[str], env: dict[str, str]) -> list[str]:
    """$(VAR) from the container's env, as the kubelet expands container args."""
    return [re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), a) for a in args]


class Process:
    """A child whose output lines are kept with the time each arrived."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], t0: float):
        self.name, self.t0, self.lines = name, t0, []
        full_env = {**os.environ, **env}
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append((time.monotonic() - self.t0, line.rstrip()))

    def first(self, needle: str) -> float | None:
        return next((t for t, line in list(self.lines) if needle in line), None)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class GPUMemory:
    """NVML's used memory of GPU 0, polled; the first time it passes each threshold."""

    def __init__(self, t0: float):
        import pynvml

        pynvml.nvmlInit()
        self.nvml, self.handle, self.t0 = pynvml, pynvml.nvmlDeviceGetHandleByIndex(0), t0
        info = pynvml.nvmlDeviceGetMemoryInfo(self.handle)
        self.total, self.baseline = info.total, info.used
        self.context = self.pool = None
        self.peak = info.used
        self.running = True
        threading.Thread(target=self._poll, daemon=True).start()

    def _poll(self) -> None:
        while self.running:
            used = self.nvml.nvmlDeviceGetMemoryInfo(self.handle).used
            now = time.monotonic() - self.t0
            self.peak = max(self.peak, used)
            if self.context is None and used > self.baseline + 256 * 2**20:
                self.context = now
            if self.pool is None and used > self.baseline + 0.4 * self.total:
                self.pool = now
            time.sleep(0.02)


def worker_facts(dask_worker) -> dict[str, Any]:
    """What the worker runs with, read inside it."""
    out: dict[str, Any] = {"nthreads": getattr(dask_worker, "nthreads", None),
                           "memory_limit": getattr(getattr(dask_worker, "memory_manager", None), "memory_limit", None),
                           "data": type(dask_worker.data).__name__}
    for attr in ("device_memory_limit", "memory_limit"):
        value = getattr(dask_worker.data, attr, None)
        if value is not None:
            out[f"data_{attr}"] = value
    try:
        import rmm

        mr = rmm.mr.get_current_device_resource()
        out["rmm_resource"] = type(mr).__name__
        upstream = getattr(mr, "upstream_mr", None)
        if upstream is not None:
            out["rmm_upstream"] = type(upstream).__name__
        if hasattr(mr, "pool_size"):
            out["rmm_pool_size"] = mr.pool_size()
    except Exception as err:  # reported, not fatal
        out["rmm_error"] = repr(err)
    return out


def generate(data: Path, rows: int) -> dict:
    """The dataset, written by a temporary CPU cluster (before the GPU worker starts)."""
    import etl
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=os.cpu_count() or 4, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            client.upload_file(ETL_FILE)
            start = time.perf_counter()
            done = etl.generate(data, rows, client=client)
            done["generate_s"] = time.perf_counter() - start
            return done


def run(body_path: Path, data: Path, rows_text: str, repeat: int, out: Path | None) -> dict:
    import etl
    from distributed import Client
    from gpu_etl import on_cluster, versions

    body = json.loads(body_path.read_text())
    rows = etl.parse_rows(rows_text)
    report: dict[str, Any] = {"body": str(body_path), "versions": versions(), "cpus": os.cpu_count()}
    report["dataset"] = generate(data, rows)

    name = body["metadata"]["name"]
    address = f"tcp://127.0.0.1:{SCHEDULER_PORT}"
    sched_c, work_c = container(body, "scheduler"), container(body, "worker")
    sched_env = {e["name"]: e["value"] for e in sched_c.get("env", [])}
    work_env = {e["name"]: e["value"] for e in work_c.get("env", [])}
    work_env.setdefault("DASK_WORKER_NAME", f"{name}-default-worker-0")  # the operator adds these
    work_env.setdefault("DASK_SCHEDULER_ADDRESS", address)
    sched_args = expand(sched_c["args"], sched_env)
    work_args = expand(work_c["args"], work_env)
    report["scheduler"] = {"args": sched_args, "env": sched_env}
    report["worker"] = {"args": work_args, "env": work_env, "resources": work_c.get("resources")}
    print("scheduler:", " ".join(sched_args), flush=True)
    print("worker:   ", " ".join(work_args), flush=True)

    t_sched = time.monotonic()
    scheduler = Process("scheduler", sched_args, sched_env, t_sched)
    worker = None
    gpu = None
    try:
        deadline = time.monotonic() + 60
        while scheduler.first("Scheduler at") is None:
            if time.monotonic() > deadline or scheduler.proc.poll() is not None:
                raise RuntimeError("scheduler did not start:\n" + "\n".join(l for _, l in scheduler.lines))
            time.sleep(0.02)
        report["scheduler"]["listening_s"] = scheduler.first("Scheduler at")
        client = Client(address, timeout=30)
        t0 = time.monotonic()
        gpu = GPUMemory(t0)
        worker = Process("worker", work_args, work_env, t0)
        registered = None
        while registered is None:
            if time.monotonic() - t0 > 180 or worker.proc.poll() is not None:
                raise RuntimeError("worker did not register:\n" + "\n".join(l for _, l in worker.lines))
            if client.scheduler_info()["workers"]:
                registered = time.monotonic() - t0
            else:
                time.sleep(0.02)
        time.sleep(1.0)  # the log lines and NVML readings of the last steps
        steps = {
            "nanny_up_s": worker.first("Start Nanny at"),
            "cuda_context_s": gpu.context,
            "rmm_pool_s": gpu.pool,
            "start_worker_s": worker.first("Start worker at"),
            "worker_registered_log_s": worker.first("Registered to"),
            "scheduler_lists_worker_s": registered,
        }
        report["registration"] = steps
        report["gpu_memory"] = {"total": gpu.total, "baseline_used": gpu.baseline}
        report["worker_facts"] = list(client.run(worker_facts).values())
        print("registration steps (s from the worker's start):", json.dumps(steps), flush=True)
        print("worker facts:", json.dumps(report["worker_facts"]), flush=True)

        client.upload_file(ETL_FILE)
        result = on_cluster(client, data, "cudf", rows, repeat, 1, Path("/tmp/k8s-gpu-worker-out"))
        result["engine"] = "dask-cudf (Kubernetes worker command)"
        report["etl"] = result
        report["gpu_memory"]["peak_used"] = gpu.peak
        print(f"ETL {etl.parse_rows(rows_text):,} rows: median {result['etl_s']:.3f} s, runs "
              f"{[round(t, 3) for t in result['times_s']]}, load {result['load_s']:.2f} s, "
              f"{result['partitions']} partitions, peak GPU memory used {gpu.peak / 2**30:.1f} GiB", flush=True)
        client.close()
    finally:
        if gpu is not None:
            gpu.running = False
        for p in (worker, scheduler):
            if p is not None:
                p.stop()
        report["scheduler_log"] = [f"{t:8.3f} {l}" for t, l in scheduler.lines]
        report["worker_log"] = [f"{t:8.3f} {l}" for t, l in worker.lines] if worker else []
        if out:
            out.write_text(json.dumps(report, indent=1, default=str))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    spec = sub.add_parser("spec")
    spec.add_argument("body")
    go = sub.add_parser("run")
    go.add_argument("body")
    go.add_argument("--data", required=True)
    go.add_argument("--rows", default="800M")
    go.add_argument("--repeat", type=int, default=3)
    go.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.command == "spec":
        body = build_spec(Path(args.body))
        print(json.dumps(container(body, "worker")["args"]))
        return 0
    report = run(Path(args.body), Path(args.data), args.rows, args.repeat, Path(args.json) if args.json else None)
    for line in report["worker_log"]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
