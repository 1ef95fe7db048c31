"""The example ETL on pandas, Dask on all CPU cores, cuDF and dask-cuDF, in one run.

    python benchmarks/gpu_etl.py [--sizes 50M,200M,800M] [--pandas-max-rows 200M]
                                 [--repeat 3] [--data DIR] [--json out.json]

Starts a Jupyter server on 127.0.0.1 with this extension (local backend) and, for each
size, times examples/etl.py (filter, two joins, two group-bys, results written to Parquet)
on these engines, all reading the same Parquet files:

  pandas        one process (skipped above --pandas-max-rows: it would take minutes)
  dask-cpu      CPU clusters created through the REST API (gpus_per_worker 0) in each
                layout of --cpu-layouts (workers x threads, e.g. 16x1, 8x2, 4x4), each
                worker given its share of 85% of the memory so nothing spills, at least two
                partitions per thread; the best layout is the baseline
  cudf          cuDF in one process, with an RMM pool
  dask-cudf     a GPU cluster created through the REST API: LocalCUDACluster, one worker
                per GPU, RMM pool

Each engine (pandas too) loads a size once (Dask: read and persisted on the workers), runs
the ETL once to warm up, then `--repeat` times; min, median and max are reported, with the
load time apart, and the bytes each Dask engine's workers spilled. The results of all engines
are checked to be the same. A ratio is printed only where the rule of spread.py lets it
through (its bootstrap interval excludes 1; "n.h." in the table otherwise), every ratio with
its interval below the table. Writes JSON with the machine facts (run_facts.py).
`--from-json FILE...` re-evaluates kept raw files with the rule (nothing is measured).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

import etl  # noqa: E402
from benchmark_server import JupyterServer  # noqa: E402
from run_facts import RunFacts  # noqa: E402
from spread import compare, spread, times  # noqa: E402

TARGET_VS_CPU = 10.0  # dask-cuDF at least this much faster than Dask on all CPU cores
TARGET_VS_CUDF = 3.0  # and at most this much slower than cuDF in one process


class Server(JupyterServer):
    """A Jupyter server with the extension (local backend) and the cluster calls the benchmark makes."""

    def __init__(self, workdir: Path):
        super().__init__(
            workdir,
            extensions=("jupyter_rapids_kf", "jupyter_server_proxy"),
            args=("--RapidsKF.backend=local", "--RapidsKF.stop_local_clusters_on_exit=True",
                  "--RapidsKF.max_workers=1024", "--RapidsKF.max_idle_timeout=0"),
            start_timeout=90, request_timeout=120,
        )

    def api(self, method: str, path: str, body: Any = None, expect: tuple[int, ...] = (200, 202)) -> Any:
        code, data, _ = self.request(method, f"/rapids-kf/{path}", body)
        if code not in expect:
            raise RuntimeError(f"{method} rapids-kf/{path}: {code} {data}")
        return data

    def create_cluster(self, body: dict, timeout: float = 300) -> dict:
        self.api("POST", "clusters", body)
        deadline = time.monotonic() + timeout
        cluster: dict = {}
        while time.monotonic() < deadline:
            cluster = self.api("GET", f"clusters/{body['name']}")
            if cluster["phase"] == "Running":
                return cluster
            if cluster["phase"] == "Failed":
                break
            time.sleep(0.5)
        raise RuntimeError(f"cluster {body['name']} did not start: {cluster}")

    def delete_cluster(self, name: str, timeout: float = 120) -> None:
        self.api("DELETE", f"clusters/{name}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, _, _ = self.request("GET", f"/rapids-kf/clusters/{name}")
            if code == 404:
                return
            time.sleep(0.5)
        raise RuntimeError(f"cluster {name} was not deleted within {timeout}s")


# --- engines -------------------------------------------------------------------------------


def single_process(data: Path, backend: str, rows: int, repeat: int, warmup: int, out: Path) -> dict:
    """pandas or cuDF in a fresh process, so that each starts with empty memory."""
    command = [sys.executable, str(EXAMPLES / "etl.py"), "run", str(data), "--backend", backend,
               "--rows", str(rows), "--repeat", str(repeat), "--warmup", str(warmup), "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{backend} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def on_cluster(client, data: Path, backend: str, rows: int, repeat: int, warmup: int, out: Path) -> dict:
    """Load (read + persist on the workers), then time the ETL from the client."""
    import dask

    start = time.perf_counter()
    orders, customers, products = etl.load(data, backend, rows, client=client)
    load_s = time.perf_counter() - start
    placement = {w: len(keys) for w, keys in client.has_what().items()}
    times, first = [], None
    result = None
    with dask.config.set(etl.cluster_config(backend)):
        for i in range(warmup + repeat):
            start = time.perf_counter()
            by_segment, by_customer = etl.etl(orders, customers, products)
            etl.write_results(out, by_segment, by_customer)
            elapsed = time.perf_counter() - start
            if i < warmup:
                first = elapsed
            else:
                times.append(elapsed)
            result = etl.summary(by_segment, by_customer)
    breakdown = with_breakdown(client, backend, (orders, customers, products), out)
    partitions = orders.npartitions
    del orders, customers, products  # frees the persisted partitions on the workers
    return {"engine": f"dask-{'cudf' if backend == 'cudf' else 'cpu'}", "rows": rows, "load_s": load_s,
            "first_s": first, "times_s": times, "etl_s": statistics.median(times), "spread_s": spread(times),
            "partitions": partitions, "keys_per_worker": placement, "breakdown": breakdown,
            "spilled_bytes": spilled_bytes(client), "result": result}


def spilled_bytes(client) -> int | None:
    """Bytes the workers have spilled to disk so far (None where the worker does not say)."""

    def on_worker(dask_worker) -> int | None:
        total = getattr(getattr(dask_worker, "data", None), "spilled_total", None)
        return None if total is None else int(getattr(total, "disk", 0))

    counts = list(client.run(on_worker).values())
    return None if any(c is None for c in counts) else sum(counts)


def with_breakdown(client, backend: str, tables, out: Path) -> dict[str, float]:
    """One more run, split into: building and optimising the graph on the client and
    submitting it; running it on the cluster; fetching the results; sorting and writing them."""
    import dask
    from distributed import wait

    with dask.config.set(etl.cluster_config(backend)):
        start = time.perf_counter()
        by_segment, by_customer = etl.aggregate(etl.transform(*tables))
        futures = client.compute([by_segment, by_customer])
        submitted = time.perf_counter()
        wait(futures)
        ran = time.perf_counter()
        by_segment, by_customer = client.gather(futures)
        fetched = time.perf_counter()
        etl.write_results(out, by_segment.sort_index(), by_customer.sort_index())
        written = time.perf_counter()
    return {"client_graph_s": submitted - start, "cluster_s": ran - submitted, "fetch_s": fetched - ran,
            "write_s": written - fetched, "total_s": written - start}


# --- the run -------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("jupyter_rapids_kf", "dask", "distributed", "dask-cuda", "cudf-cu13", "dask-cudf-cu13",
                 "rmm-cu13", "pandas", "numpy", "pyarrow", "jupyter_server", "nvidia-ml-py"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    try:
        import pynvml

        pynvml.nvmlInit()
        driver = pynvml.nvmlSystemGetDriverVersion()
        found["nvidia-driver"] = driver.decode() if isinstance(driver, bytes) else driver
        cuda = pynvml.nvmlSystemGetCudaDriverVersion()
        found["cuda-driver"] = f"{cuda // 1000}.{cuda % 1000 // 10}"
    except Exception:
        pass
    return found


def best(results: list[dict], rows: int) -> dict[str, dict]:
    """Each engine's result at `rows`; of the CPU layouts, the one with the lowest median."""
    by: dict[str, dict] = {}
    for r in results:
        engine = r["engine"].replace("-single", "")
        if r["rows"] == rows and (engine not in by or r["etl_s"] < by[engine]["etl_s"]):
            by[engine] = r
    return by


def table(results: list[dict], sizes: list[int]) -> str:
    """Medians per engine; a ratio cell only where the rule of spread.py lets it through
    (n.h.: no headline, its interval includes 1 or a side has fewer than 3 runs)."""
    engines = ["pandas", "dask-cpu", "cudf", "dask-cudf"]
    lines = [f"{'rows':>8} " + "".join(f"{e:>12}" for e in engines)
             + f"{'cpu/gpu':>10}{'cudf/gpu':>10}{'pandas/gpu':>12}"]
    for rows in sizes:
        by = best(results, rows)
        cells = "".join(f"{by[e]['etl_s']:>11.3f}s" if e in by else f"{'-':>12}" for e in engines)

        def ratio(engine: str) -> str:
            if engine not in by or "dask-cudf" not in by:
                return "-"
            verdict = compare(by[engine]["times_s"], by["dask-cudf"]["times_s"])
            return times(verdict["ratio"]) if verdict["headline"] else "n.h."

        lines.append(f"{human(rows):>8} {cells}{ratio('dask-cpu'):>10}{ratio('cudf'):>10}{ratio('pandas'):>12}")
    return "\n".join(lines)


def human(rows: int) -> str:
    return f"{rows / 1e9:g}G" if rows >= 10**9 else f"{rows / 1e6:g}M"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="50M,200M,800M", help="order rows, comma-separated")
    parser.add_argument("--pandas-max-rows", default="200M", help="pandas runs up to this size")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", default=None, help="dataset directory (default: a temporary one)")
    cores = os.cpu_count() or 1
    parser.add_argument("--cpu-layouts", default=",".join(f"{cores // t}x{t}" for t in (1, 2, 4) if cores // t),
                        help="CPU cluster layouts to try, workers x threads per worker")
    parser.add_argument("--cpu-worker-memory", default=None,
                        help="memory limit per CPU worker (default: 85%% of the memory over the workers)")
    parser.add_argument("--engines", default="pandas,dask-cpu,cudf,dask-cudf")
    parser.add_argument("--rows-per-file", default="25M", help="every size must be a multiple of this")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--from-json", nargs="+", metavar="FILE",
                        help="measure nothing: print the table and the rule's verdict for kept raw files")
    args = parser.parse_args(argv)
    if args.from_json:
        return from_json(args.from_json)

    # A `timeout` or Ctrl-C still stops the server, which stops the clusters it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes = sorted(etl.parse_rows(s) for s in args.sizes.split(","))
    pandas_max = etl.parse_rows(args.pandas_max_rows)
    engines = set(args.engines.split(","))
    facts = RunFacts()
    workdir = Path(tempfile.mkdtemp(prefix="gpu-etl-"))
    data = Path(args.data) if args.data else workdir / "data"
    report: dict[str, Any] = {
        "benchmark": "examples/etl.py: filter, 2 broadcast joins, 2 group-bys, results to Parquet",
        "command": "python benchmarks/gpu_etl.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "sizes": sizes, "repeat": args.repeat, "warmup": 1, "versions": versions(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "results": [], "skipped": [], "errors": [],
    }

    def save() -> None:
        if args.json:
            report["machine_facts"] = facts.finish()
            Path(args.json).write_text(json.dumps(report, indent=1))

    def attempt(what: str, fn, *a, **kw):
        try:
            return fn(*a, **kw)
        except Exception as err:  # one engine failing must not lose the others' results
            report["errors"].append(f"{what}: {type(err).__name__}: {err}"[:4000])
            print(f"!! {what}: {err}", file=sys.stderr, flush=True)
            save()
            return None

    def record(result: dict | None) -> None:
        if result:
            result["rows_human"] = human(result["rows"])
            report["results"].append(result)
            result.setdefault("spread_s", spread(result["times_s"]))
            sp = result["spread_s"]
            print(f"{result['engine']:>10} {result.get('layout', ''):>5} {human(result['rows']):>6}: "
                  f"etl median {sp['median']:.3f}s (min {sp['min']:.3f}, max {sp['max']:.3f}; "
                  f"load {result['load_s']:.2f}s; spilled {result.get('spilled_bytes')})", flush=True)
            save()

    server = Server(workdir)
    try:
        environment = server.api("GET", "environment")
        report["environment"] = {k: environment.get(k) for k in ("backend", "gpus", "gpus_available", "notes")}
        gpus = environment.get("gpus") or []
        report["machine"]["gpus"] = [g["name"] for g in gpus]
        report["machine"]["gpu_memory"] = [g["memory_total"] for g in gpus]
        print(f"{len(gpus)} GPU(s): {', '.join(g['name'] for g in gpus) or 'none'}; {os.cpu_count()} CPUs", flush=True)
        from distributed import Client

        # Dask on every core, in each layout; the first also generates the dataset in parallel.
        layouts = [tuple(int(n) for n in layout.split("x")) for layout in args.cpu_layouts.split(",")]
        report["cpu_layouts"] = []
        for n, (workers, threads) in enumerate(layouts):
            name = f"bench-cpu-{workers}x{threads}"
            memory = args.cpu_worker_memory or f"{max(1024, int(total_memory() * 0.85 / workers / 2**20))}Mi"
            cpu = server.create_cluster({"name": name, "workers": workers, "gpus_per_worker": 0,
                                         "cpu": str(threads), "memory": memory, "idle_timeout": 0})
            report["cpu_layouts"].append({"layout": f"{workers}x{threads}", "memory": memory,
                                          "worker_command": cpu["worker_command"]})
            with Client(cpu["scheduler"]["address"]) as client:
                etl.ship(client)
                if n == 0:
                    start = time.perf_counter()
                    report["dataset"] = etl.generate(data, sizes[-1], client=client,
                                                     rows_per_file=etl.parse_rows(args.rows_per_file))
                    report["dataset"]["generate_s"] = time.perf_counter() - start
                    print(f"dataset: {report['dataset']}", flush=True)
                if "dask-cpu" in engines:
                    for rows in sizes:
                        result = attempt(f"dask-cpu {workers}x{threads} {human(rows)}", on_cluster, client, data,
                                         "pandas", rows, args.repeat, 1, workdir / "out-dask-cpu")
                        if result:
                            result["layout"] = f"{workers}x{threads}"
                        record(result)
            server.delete_cluster(name)

        for rows in sizes:
            if "pandas" not in engines:
                break
            if rows > pandas_max:
                report["skipped"].append(f"pandas {human(rows)}: above --pandas-max-rows {human(pandas_max)}")
                continue
            record(attempt(f"pandas {human(rows)}", single_process, data, "pandas", rows, args.repeat, 1,
                           workdir / "out-pandas"))

        if gpus and "cudf" in engines:
            for rows in sizes:
                record(attempt(f"cudf {human(rows)}", single_process, data, "cudf", rows, args.repeat, 1,
                               workdir / "out-cudf"))

        if gpus and "dask-cudf" in engines:
            gpu = server.create_cluster({"name": "bench-gpu", "workers": len(gpus), "gpus_per_worker": 1,
                                         "idle_timeout": 0})
            report["gpu_cluster"] = {k: gpu[k] for k in ("workers", "worker_command", "gpus_per_worker", "memory")}
            with Client(gpu["scheduler"]["address"]) as client:
                etl.ship(client)
                for rows in sizes:
                    record(attempt(f"dask-cudf {human(rows)}", on_cluster, client, data, "cudf", rows,
                                   args.repeat, 1, workdir / "out-dask-cudf"))
                report["gpu_cluster"]["gpus_after_run"] = server.api("GET", "clusters/bench-gpu")["gpus"]
            server.delete_cluster("bench-gpu")
    finally:
        server.stop()
        if not args.data:
            shutil.rmtree(workdir, ignore_errors=True)

    verdict(report, sizes)
    save()
    print()
    print(report["table"])
    for line in report["verdict"]:
        print(line)
    return 0 if not report["errors"] else 1


def verdict(report: dict, sizes: list[int], check_results: bool = True) -> None:
    results = report["results"]
    # Every engine computed the same answer at each size.
    for rows in sizes if check_results else ():
        same = [r for r in results if r["rows"] == rows]
        for r in same[1:]:
            if not etl.same_result(same[0]["result"], r["result"], rel=1e-6):
                report["errors"].append(f"{r['engine']} {human(rows)} differs from {same[0]['engine']}")
    report["table"] = table(results, sizes)
    largest = sizes[-1]
    runs = best(results, largest)
    by = {engine: r["etl_s"] for engine, r in runs.items()}
    lines = []
    if "dask-cpu" in runs:
        report["best_cpu_layout"] = runs["dask-cpu"].get("layout")
        lines.append(f"best Dask-CPU layout at {human(largest)}: {runs['dask-cpu'].get('layout')} "
                     f"(median {by['dask-cpu']:.3f} s; every layout is in the JSON)")
    # Every ratio of the table, through the rule of spread.py (bootstrap interval excludes 1).
    report["ratios"] = []
    for rows in sizes:
        at = best(results, rows)
        for other in ("dask-cpu", "cudf", "pandas"):
            if other in at and "dask-cudf" in at:
                result = compare(at[other]["times_s"], at["dask-cudf"]["times_s"])
                report["ratios"].append({"rows": rows, "ratio_of": f"{other} / dask-cudf"} | result)
                lines.append(f"{human(rows)} {other} / dask-cudf: {result['reads']}")
    if "dask-cudf" in by and "dask-cpu" in by:
        result = compare(runs["dask-cpu"]["times_s"], runs["dask-cudf"]["times_s"])
        report["speedup_vs_dask_cpu"] = result["ratio"] if result["headline"] else None
        report["headline"] = result["reads"]
        if result["headline"]:
            lines.append(f"target: dask-cuDF >= {TARGET_VS_CPU:g}x the best Dask-CPU layout at {human(largest)}: "
                         f"{times(result['ratio'])}, interval from {times(result['low'])}: "
                         f"{'MET' if result['low'] >= TARGET_VS_CPU else 'NOT MET'}"
                         f"{'' if result['low'] >= TARGET_VS_CPU or result['ratio'] < TARGET_VS_CPU else ' (the median ratio is above it, the interval is not)'}")
        else:
            lines.append(f"target: dask-cuDF >= {TARGET_VS_CPU:g}x the best Dask-CPU layout at {human(largest)}: "
                         f"not shown, no headline")
    if "dask-cudf" in by and "cudf" in by:
        result = compare(runs["dask-cudf"]["times_s"], runs["cudf"]["times_s"])
        report["overhead_vs_cudf"] = result["ratio"]
        report["overhead_vs_cudf_reads"] = result["reads"]
        high = result["high"]
        lines.append(f"target: dask-cuDF within {TARGET_VS_CUDF:g}x of cuDF in one process at {human(largest)}: "
                     f"{result['reads']}: "
                     f"{'MET' if high is not None and high <= TARGET_VS_CUDF else 'NOT MET'} (interval's upper end)")
    if report["errors"]:
        lines.append(f"errors: {len(report['errors'])} (see JSON)")
    report["verdict"] = lines


def from_json(paths: list[str]) -> int:
    """Measure nothing: print the table and the rule's verdict for kept raw files."""
    for path in paths:
        report = json.loads(Path(path).read_text())
        report["errors"] = []
        verdict(report, report["sizes"], check_results=False)
        machine = report.get("machine_facts") or report.get("machine") or {}
        print(f"== {path} (repeat {report.get('repeat')}; {report['machine'].get('gpus')}; "
              f"load average {machine.get('load_average_before')} before, {machine.get('load_average_after')} after)")
        print(report["table"])
        for line in report["verdict"]:
            print(line)
        print()
    return 0


def total_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 8 * 2**30


if __name__ == "__main__":
    sys.exit(main())
