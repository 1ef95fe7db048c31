"""This project vs dask-labextension 7, in one Jupyter server, on the same machine, in one run.

    python benchmarks/api_latency.py [--repeat 3] [--tasks 20000] [--pause 5] [--json out.json]

Starts a Jupyter server on 127.0.0.1 with both server extensions, then for each of
  ours:  POST/GET/DELETE rapids-kf/clusters   (local backend, a runner process per cluster)
  labx:  PUT/GET/DELETE dask/clusters          (LocalCluster inside the Jupyter server)
measures: the create request's own time, the time until a Client sees 2 workers, list
latency, delete time, and the server's /api/status latency while a 20,000-task graph runs
on the cluster, for every cluster (the tools take turns, each going first in turn). Prints
each figure's median over the runs and the ratio labx/ours (above 1: we are faster) through
the rule of spread.py: a headline only where its bootstrap interval excludes 1, otherwise
"no headline" with the interval. `--from-json FILE...` prints that verdict for kept raw files.
Before each create both tools wait --pause seconds: users create clusters seconds apart, and
our standby needs about two seconds to prepare the next default cluster in advance
(`c.RapidsKF.local_warm_cluster`); `--pause 0` measures back-to-back creates.
"""

from __future__ import annotations

import argparse
import json
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
from spread import compare

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


def measure_once(tool, n: int, tasks: int, pause: float, workload: bool) -> dict:
    """One cluster of this tool: created, used, listed, (loaded,) deleted."""
    time.sleep(pause)  # users create clusters seconds apart, not back to back
    start = time.perf_counter()
    name, create_time, address = tool.create(n)
    run_python(WAIT_WORKERS, address)
    run = {"usable_s": time.perf_counter() - start, "create_request_s": create_time}
    conn = tool.server.connect(timeout=60)
    lists = [tool.list(conn) for _ in range(100)]
    run["list_p50_ms"], run["list_p95_ms"] = p(lists, 0.5) * 1000, p(lists, 0.95) * 1000
    if workload:
        probe = StatusProbe(tool.server)
        probe.start()
        run_python(WORKLOAD, address, str(tasks))
        probe.stop_event.set()
        probe.join()
        run["api_status_p50_ms"] = p(probe.samples, 0.5) * 1000
        run["api_status_p95_ms"] = p(probe.samples, 0.95) * 1000
        run["api_status_samples"] = len(probe.samples)
    run["delete_s"] = tool.delete(name)
    return run


# figure in the table -> (per-run key, unit)
FIGURES = {
    "usable_2_workers_s": ("usable_s", "s"),
    "delete_s": ("delete_s", "s"),
    "create_request_s": ("create_request_s", "s"),
    "list_p50_ms": ("list_p50_ms", "ms"),
    "list_p95_ms": ("list_p95_ms", "ms"),
    "api_status_p50_ms_under_load": ("api_status_p50_ms", "ms"),
    "api_status_p95_ms_under_load": ("api_status_p95_ms", "ms"),
}
# older files kept only these per-run lists; everything else there is one number per tool
OLD_RUN_KEYS = {"usable_2_workers_s": "usable_runs_s", "delete_s": "delete_runs_s"}


def summarise(runs: list[dict]) -> dict:
    """Per tool: each figure's median over the runs, and every run's value."""
    out: dict = {}
    for figure, (key, _) in FIGURES.items():
        values = [r[key] for r in runs if key in r]
        if values:
            out[figure] = statistics.median(values)
            out[f"{key}_runs"] = values
    out["usable_runs_s"], out["delete_runs_s"] = out["usable_s_runs"], out["delete_s_runs"]
    out["api_status_samples"] = [r["api_status_samples"] for r in runs if "api_status_samples" in r]
    return out


def runs_of(side: dict, figure: str) -> list[float]:
    """Every run's value of a figure; an old file's single number counts as one run."""
    key = FIGURES[figure][0]
    if f"{key}_runs" in side:
        return side[f"{key}_runs"]
    if figure in OLD_RUN_KEYS and OLD_RUN_KEYS[figure] in side:
        return side[OLD_RUN_KEYS[figure]]
    return [side[figure]] if figure in side else []


def report(ours: dict, labx: dict) -> tuple[list[str], dict]:
    """The table: every figure's medians and the rule's verdict on labext / ours (spread.py)."""
    lines = [f"{'figure, median over runs':30} {'rapids-kf':>10} {'labext':>10}  labext/ours (spread.py rule)"]
    verdicts = {}
    for figure, (_, unit) in FIGURES.items():
        a, b = runs_of(labx, figure), runs_of(ours, figure)
        if not a or not b:
            continue
        result = compare(a, b, unit=unit, what="runs")
        verdicts[figure] = result
        lines.append(f"{figure:30} {statistics.median(b):10.4f} {statistics.median(a):10.4f}  {result['reads']}")
    return lines, verdicts


def from_json(paths: list[Path]) -> None:
    """Re-evaluate kept raw files with the rule of spread.py (nothing is measured)."""
    for path in paths:
        data = json.loads(path.read_text())
        metrics = data.get("metrics") or data.get("results") or data
        machine = data.get("machine", {})
        print(f"== {path.as_posix()} (settings {data.get('settings')}; load average "
              f"{machine.get('load_average_before')} before, {machine.get('load_average_after')} after)")
        lines, _ = report(metrics["jupyter-rapids-kf"], metrics["dask-labextension"])
        print("\n".join(lines))
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--pause", type=float, default=5.0,
                        help="seconds before each create, for both tools (0: back to back)")
    parser.add_argument("--status-runs", type=int, default=None,
                        help="how many of each tool's clusters run the task graph while /api/status "
                             "is probed (default: all; the rule needs 3 a side for a headline)")
    parser.add_argument("--json", type=Path, help="also write the figures and machine facts here")
    parser.add_argument("--from-json", type=Path, nargs="+", metavar="FILE",
                        help="measure nothing: print the rule's verdict on these raw files")
    args = parser.parse_args()
    if args.from_json:
        from_json(args.from_json)
        return
    status_runs = args.repeat if args.status_runs is None else args.status_runs
    facts = RunFacts()
    import dask_labextension
    import distributed

    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp))
        try:
            tools = (Ours(server), LabExtension(server))
            runs: dict[str, list[dict]] = {tool.label: [] for tool in tools}
            for n in range(args.repeat):
                # Interleaved, each going first in turn, so that a change of the machine's load
                # during the run falls on both tools alike.
                for tool in (tools if n % 2 == 0 else tools[::-1]):
                    print(f"run {n + 1}/{args.repeat}: {tool.label} ...", flush=True)
                    runs[tool.label].append(measure_once(tool, n, args.tasks, args.pause, n < status_runs))
        finally:
            server.stop(timeout=30)

    results = {label: summarise(r) for label, r in runs.items()}
    ours, labx = results["jupyter-rapids-kf"], results["dask-labextension"]
    lines, verdicts = report(ours, labx)
    print()
    print("\n".join(lines))
    print(f"\n{args.tasks} tasks on {status_runs} clusters each; {args.repeat} clusters each, interleaved; "
          f"{os.cpu_count()} CPUs; Python {platform.python_version()}; "
          f"distributed {distributed.__version__}; dask-labextension {dask_labextension.__version__}")
    print("every run (seconds / ms):")
    for label, side in results.items():
        for figure, (key, _) in FIGURES.items():
            if f"{key}_runs" in side:
                print(f"  {label:18} {key:20} " + " ".join(f"{v:.4f}" for v in side[f"{key}_runs"]))
    print(f"targets: create request <= 100 ms: {'met' if ours['create_request_s'] <= 0.1 else 'MISSED'}; "
          f"/api/status p95 <= 50 ms under load: "
          f"{'met' if ours.get('api_status_p95_ms_under_load', 0) <= 50 else 'MISSED'}")
    metrics = dict(results, headlines={k: {kk: vv for kk, vv in v.items()} for k, v in verdicts.items()})
    facts.write(args.json, "api_latency", settings=vars(args), metrics=metrics)
    print(facts.summary())


if __name__ == "__main__":
    main()
