"""This project vs dask-labextension 7, in one Jupyter server, on the same machine, in one run.

    python benchmarks/api_latency.py [--repeat 3] [--tasks 20000] [--pause 5] [--json out.json]

Starts a Jupyter server on 127.0.0.1 with both server extensions, then for each of
  ours:  POST/GET/DELETE rapids-kf/clusters   (local backend, a runner process per cluster)
  labx:  PUT/GET/DELETE dask/clusters          (LocalCluster inside the Jupyter server)
measures: the create request's own time, the time until a Client sees 2 workers, list
latency, delete time, and the server's /api/status latency while a 20,000-task graph runs
on the cluster. Prints each figure and the ratio labx/ours (above 1: we are faster).
Before each create both tools wait --pause seconds: users create clusters seconds apart, and
our standby needs about two seconds to prepare the next default cluster in advance
(`c.RapidsKF.local_warm_cluster`); `--pause 0` measures back-to-back creates.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmark_server import JupyterServer
from run_facts import RunFacts

WORKLOAD = """
import sys, time
from dask.distributed import Client
client = Client(sys.argv[1])
def inc(x):
    return x + 1
futures = client.map(inc, range(int(sys.argv[2])), pure=False)
total = client.submit(sum, futures)
assert total.result() == sum(range(1, int(sys.argv[2]) + 1))
client.close()
"""

WAIT_WORKERS = """
import sys
from dask.distributed import Client
client = Client(sys.argv[1], timeout=60)
client.wait_for_workers(2, timeout=120)
assert client.submit(lambda: 41 + 1).result() == 42
client.close()
"""


def start_server(workdir: Path) -> JupyterServer:
    """Both extensions in one server; the same cluster size for both: 2 single-threaded workers."""
    return JupyterServer(
        workdir,
        extensions=("jupyter_rapids_kf", "dask_labextension", "jupyter_server_proxy"),
        args=("--RapidsKF.backend=local", "--RapidsKF.stop_local_clusters_on_exit=True"),
        env={"DASK_LABEXTENSION__FACTORY__KWARGS__N_WORKERS": "2",
             "DASK_LABEXTENSION__FACTORY__KWARGS__THREADS_PER_WORKER": "1",
             "DASK_LABEXTENSION__DEFAULT__WORKERS": "2"},
    )


def run_python(code: str, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, timeout=600)
    return time.perf_counter() - start


class StatusProbe(threading.Thread):
    """Calls /api/status every 20 ms on a kept-alive connection, recording latencies."""

    def __init__(self, server: JupyterServer):
        super().__init__(daemon=True)
        self.server = server
        self.samples: list[float] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        conn = self.server.connect(timeout=60)
        while not self.stop_event.is_set():
            _, _, elapsed = self.server.request("GET", "/api/status", conn=conn)
            self.samples.append(elapsed)
            time.sleep(0.02)


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


class Tool:
    """One extension's routes in the shared server."""

    label = ""
    list_path = ""

    def __init__(self, server: JupyterServer):
        self.server = server

    def list(self, conn) -> float:
        status, _, elapsed = self.server.request("GET", self.list_path, conn=conn)
        assert status == 200
        return elapsed


class Ours(Tool):
    label = "jupyter-rapids-kf"
    list_path = "/rapids-kf/clusters"

    def create(self, n: int) -> tuple[str, float, str]:
        name = f"bench-{n}"
        status, cluster, elapsed = self.server.request(
            "POST", "/rapids-kf/clusters", {"name": name, "workers": 2, "cpu": "1"}
        )
        assert status == 202, cluster
        while True:  # the address is known once the runner's scheduler is up
            _, cluster, _ = self.server.request("GET", f"/rapids-kf/clusters/{name}")
            if cluster["scheduler"]["address"]:
                return name, elapsed, cluster["scheduler"]["address"]
            time.sleep(0.05)

    def delete(self, name: str) -> float:
        start = time.perf_counter()
        status, _, _ = self.server.request("DELETE", f"/rapids-kf/clusters/{name}")
        assert status == 202
        while self.server.request("GET", f"/rapids-kf/clusters/{name}")[0] != 404:
            time.sleep(0.05)
        return time.perf_counter() - start


class LabExtension(Tool):
    label = "dask-labextension"
    list_path = "/dask/clusters"

    def create(self, n: int) -> tuple[str, float, str]:
        status, cluster, elapsed = self.server.request("PUT", "/dask/clusters", {})
        assert status == 200, cluster
        return cluster["id"], elapsed, cluster["scheduler_address"]

    def delete(self, name: str) -> float:
        start = time.perf_counter()
        status, _, _ = self.server.request("DELETE", f"/dask/clusters/{name}")
        assert status in (200, 204)
        return time.perf_counter() - start


def measure(tool, repeat: int, tasks: int, pause: float) -> dict:
    creates, usable, deletes, lists, status = [], [], [], [], []
    for n in range(repeat):
        time.sleep(pause)  # users create clusters seconds apart, not back to back
        start = time.perf_counter()
        name, create_time, address = tool.create(n)
        run_python(WAIT_WORKERS, address)
        usable.append(time.perf_counter() - start)
        creates.append(create_time)
        conn = tool.server.connect(timeout=60)
        lists += [tool.list(conn) for _ in range(100)]
        if n == 0:
            probe = StatusProbe(tool.server)
            probe.start()
            run_python(WORKLOAD, address, str(tasks))
            probe.stop_event.set()
            probe.join()
            status = probe.samples
        deletes.append(tool.delete(name))
    return {
        "create_request_s": statistics.median(creates),
        "usable_2_workers_s": statistics.median(usable),
        "list_p50_ms": p(lists, 0.5) * 1000,
        "list_p95_ms": p(lists, 0.95) * 1000,
        "delete_s": statistics.median(deletes),
        "usable_runs_s": usable,
        "delete_runs_s": deletes,
        "api_status_p50_ms_under_load": p(status, 0.5) * 1000,
        "api_status_p95_ms_under_load": p(status, 0.95) * 1000,
        "api_status_samples": len(status),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--pause", type=float, default=5.0,
                        help="seconds before each create, for both tools (0: back to back)")
    parser.add_argument("--json", type=Path, help="also write the figures and machine facts here")
    args = parser.parse_args()
    facts = RunFacts()
    import dask_labextension
    import distributed

    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp))
        try:
            results = {}
            for tool in (Ours(server), LabExtension(server)):
                print(f"measuring {tool.label} ...", flush=True)
                results[tool.label] = measure(tool, args.repeat, args.tasks, args.pause)
        finally:
            server.stop(timeout=30)

    ours, labx = results["jupyter-rapids-kf"], results["dask-labextension"]
    print(f"\n{'figure':34} {'rapids-kf':>11} {'labext':>11} {'labext/ours':>12}")
    for key in ours:
        if key in ("api_status_samples", "usable_runs_s", "delete_runs_s"):
            continue
        ratio = labx[key] / ours[key] if ours[key] else float("inf")
        print(f"{key:34} {ours[key]:11.3f} {labx[key]:11.3f} {ratio:11.1f}x")
    print(f"\n{args.tasks} tasks; {args.repeat} clusters each; {os.cpu_count()} CPUs; Python {platform.python_version()}; "
          f"distributed {distributed.__version__}; dask-labextension {dask_labextension.__version__}")
    print(f"targets: create request <= 100 ms: {'met' if ours['create_request_s'] <= 0.1 else 'MISSED'}; "
          f"/api/status p95 <= 50 ms under load: {'met' if ours['api_status_p95_ms_under_load'] <= 50 else 'MISSED'}")
    facts.write(args.json, "api_latency", settings=vars(args), metrics=results)
    print(facts.summary())


if __name__ == "__main__":
    main()
