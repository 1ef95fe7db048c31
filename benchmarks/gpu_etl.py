"""The example ETL on pandas, Dask on all CPU cores, cuDF and dask-cuDF, in one run.

    python benchmarks/gpu_etl.py [--sizes 50M,200M,800M] [--pandas-max-rows 200M]
                                 [--repeat 3] [--data DIR] [--json out.json]
                                 [--gpus 1,2,4,8] [--protocol tcp,ucx] [--resume] [--dry-run]

Starts a Jupyter server on 127.0.0.1 with this extension (local backend) and, for each
size, times examples/etl.py (filter, two joins, two group-bys, results written to Parquet)
on these engines, all reading the same Parquet files:

  pandas        one process (skipped above --pandas-max-rows: it would take minutes)
  dask-cpu      CPU clusters created through the REST API (gpus_per_worker 0) in each
                layout of --cpu-layouts (workers x threads, e.g. 16x1, 8x2, 4x4), each
                worker given its share of 85% of the memory so nothing spills, at least two
                partitions per thread; the best layout is the baseline
  cudf          cuDF in one process, with an RMM pool
  dask-cudf     GPU clusters created through the REST API: LocalCUDACluster, one worker
                per GPU, RMM pool; one cluster per GPU count of --gpus and protocol of
                --protocol (tcp, ucx), the scaling leg (scaling.py: efficiency = time at
                the base count / (N / base x time at N GPUs), base 1 GPU where it ran)

Order: the dataset, then dask-cuDF (the project's path: a time limit cuts the CPU side, not
it), cuDF, the CPU layouts, pandas. The JSON is written after every run; `--resume` keeps the
results already in `--json` and runs only the missing ones, so the same command, repeated
under a time limit, finishes a run too long for one limit. `--dry-run` runs the same flow on
the CPU (the scaling leg on CPU clusters of N workers, small sizes): a flow check, no figure.

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
from scaling import scaling_table, target  # noqa: E402
from spread import compare, spread, times  # noqa: E402

TARGET_VS_CPU = 10.0  # dask-cuDF at least this much faster than Dask on all CPU cores
TARGET_VS_CUDF = 3.0  # and at most this much slower than cuDF in one process
DRY_SIZES = "1M,2M"
DRY_NOTE = ("DRY RUN (--dry-run): a CPU flow check of this script on CPU clusters of N single-threaded "
            "workers; it shows that the scaling leg, the partial JSON and the efficiency table work, "
            "and is no GPU figure")


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
        return self.wait_running(body["name"], timeout)

    def wait_running(self, name: str, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        cluster: dict = {}
        while time.monotonic() < deadline:
            cluster = self.api("GET", f"clusters/{name}")
            if cluster["phase"] == "Running":
                return cluster
            if cluster["phase"] == "Failed":
                break
            time.sleep(0.5)
        raise RuntimeError(f"cluster {name} did not start: {cluster}")

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
    parser.add_argument("--sizes", default=None, help="order rows, comma-separated (default 50M,200M,800M; "
                        f"--dry-run: {DRY_SIZES})")
    parser.add_argument("--pandas-max-rows", default="200M", help="pandas runs up to this size")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", default=None, help="dataset directory (default: a temporary one)")
    cores = os.cpu_count() or 1
    parser.add_argument("--cpu-layouts", default=",".join(f"{cores // t}x{t}" for t in (1, 2, 4) if cores // t),
                        help="CPU cluster layouts to try, workers x threads per worker")
    parser.add_argument("--cpu-worker-memory", default=None,
                        help="memory limit per CPU worker (default: 85%% of the memory over the workers)")
    parser.add_argument("--engines", default="pandas,dask-cpu,cudf,dask-cudf")
    parser.add_argument("--gpus", default=None,
                        help="GPU counts of the dask-cuDF scaling runs, e.g. 1,2,4,8 (default: every GPU); "
                        "counts above the machine's are skipped")
    parser.add_argument("--protocol", default="tcp", help="protocols of the scaling runs: tcp, ucx or tcp,ucx")
    parser.add_argument("--dry-run", action="store_true",
                        help="a CPU flow check: the scaling runs on CPU clusters of N single-threaded workers "
                        "(--gpus counts workers), small sizes, no GPU engine; no figure of it is a GPU figure")
    parser.add_argument("--resume", action="store_true",
                        help="keep the results already in --json and run only what is missing")
    parser.add_argument("--rows-per-file", default="25M", help="every size must be a multiple of this")
    parser.add_argument("--json", default=None, help="write the results here (after every run)")
    parser.add_argument("--from-json", nargs="+", metavar="FILE",
                        help="measure nothing: print the table and the rule's verdict for kept raw files")
    args = parser.parse_args(argv)
    if args.from_json:
        return from_json(args.from_json)

    # A `timeout` or Ctrl-C still stops the server, which stops the clusters it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes = sorted(etl.parse_rows(s) for s in (args.sizes or (DRY_SIZES if args.dry_run else "50M,200M,800M")).split(","))
    pandas_max = etl.parse_rows(args.pandas_max_rows)
    engines = set(args.engines.split(","))
    if args.dry_run:
        engines -= {"cudf", "dask-cudf"}
    protocols = [p.strip() for p in args.protocol.split(",") if p.strip()]
    facts = RunFacts()
    workdir = Path(tempfile.mkdtemp(prefix="gpu-etl-"))
    data = Path(args.data) if args.data else workdir / "data"
    report: dict[str, Any] = {
        "benchmark": "examples/etl.py: filter, 2 broadcast joins, 2 group-bys, results to Parquet",
        "command": "python benchmarks/gpu_etl.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "sizes": sizes, "repeat": args.repeat, "warmup": 1, "versions": versions(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "dry_run": args.dry_run, "protocols": protocols,
        "results": [], "skipped": [], "errors": [], "complete": False,
    }
    if args.dry_run:
        report["note"] = DRY_NOTE
    if args.resume and args.json and Path(args.json).exists():
        kept = json.loads(Path(args.json).read_text())
        report["results"] = kept.get("results", [])
        report["resumed_from"] = {"runs": len(report["results"]), "command": kept.get("command"),
                                  "errors": kept.get("errors", [])}
        for key in ("dataset", "environment", "cpu_layouts", "gpu_clusters"):
            if key in kept:
                report[key] = kept[key]
    done = {run_key(r) for r in report["results"]}

    def save() -> None:
        if args.json:  # after every run: a limit that stops the command keeps what finished
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

    def record(result: dict | None, **labels) -> None:
        if result:
            result.update(labels)
            result["rows_human"] = human(result["rows"])
            report["results"].append(result)
            done.add(run_key(result))
            result.setdefault("spread_s", spread(result["times_s"]))
            sp = result["spread_s"]
            print(f"{result['engine']:>10} {result.get('layout', ''):>9} {human(result['rows']):>6}: "
                  f"etl median {sp['median']:.3f}s (min {sp['min']:.3f}, max {sp['max']:.3f}; "
                  f"load {result['load_s']:.2f}s; spilled {result.get('spilled_bytes')})", flush=True)
            save()

    def todo(engine: str, layout: str, rows: int) -> bool:
        return (engine, layout, rows) not in done

    server = Server(workdir)
    try:
        environment = server.api("GET", "environment")
        report["environment"] = {k: environment.get(k) for k in ("backend", "gpus", "gpus_available", "notes",
                                                                 "protocols")}
        gpus = [] if args.dry_run else environment.get("gpus") or []
        report["machine"]["gpus"] = [g["name"] for g in environment.get("gpus") or []]
        report["machine"]["gpu_memory"] = [g["memory_total"] for g in environment.get("gpus") or []]
        print(f"{len(gpus)} GPU(s): {', '.join(g['name'] for g in gpus) or 'none'}; {os.cpu_count()} CPUs"
              + ("; DRY RUN on the CPU: a flow check, no GPU figure" if args.dry_run else ""), flush=True)
        from distributed import Client

        layouts = [tuple(int(n) for n in layout.split("x")) for layout in args.cpu_layouts.split(",")]
        memory_of = lambda workers: args.cpu_worker_memory or f"{max(1024, int(total_memory() * 0.85 / workers / 2**20))}Mi"  # noqa: E731

        # The dataset first, on a CPU cluster of the first layout (skipped files already there).
        workers, threads = layouts[0]
        cpu = server.create_cluster({"name": "bench-generate", "workers": workers, "gpus_per_worker": 0,
                                     "cpu": str(threads), "memory": memory_of(workers), "idle_timeout": 0})
        with Client(cpu["scheduler"]["address"]) as client:
            etl.ship(client)
            start = time.perf_counter()
            report["dataset"] = etl.generate(data, sizes[-1], client=client,
                                             rows_per_file=etl.parse_rows(args.rows_per_file))
            report["dataset"]["generate_s"] = time.perf_counter() - start
            print(f"dataset: {report['dataset']}", flush=True)
        server.delete_cluster("bench-generate")

        # dask-cuDF (the project's path) first, so that a time limit cuts the CPU side, not it:
        # every GPU count and protocol of --gpus and --protocol, each cluster made through the API.
        scaling = "dask-cudf" in engines and gpus or args.dry_run
        if scaling:
            available = len(gpus) if gpus else os.cpu_count() or 1
            counts = sorted({int(n) for n in args.gpus.split(",")}) if args.gpus else [available]
            for n in [n for n in counts if n > available]:
                report["skipped"].append(f"{n} {'GPUs' if gpus else 'workers'}: this machine has {available}")
            counts = [n for n in counts if n <= available]
            report.setdefault("gpu_clusters", [])
            for n in counts:
                for protocol in protocols:
                    engine, layout = ("dask-cudf" if gpus else "dask-cpu-n"), f"{n}{'gpu' if gpus else 'w'}-{protocol}"
                    wanted = [rows for rows in sizes if todo(engine, layout, rows)]
                    if not wanted:
                        continue
                    body = ({"workers": n, "gpus_per_worker": 1} if gpus else
                            {"workers": n, "gpus_per_worker": 0, "cpu": "1", "memory": memory_of(n)})
                    body |= {"name": f"bench-{layout}", "idle_timeout": 0, "protocol": protocol}
                    code, answer, _ = server.request("POST", "/rapids-kf/clusters", body)
                    if code == 400:  # e.g. ucx on CPU workers, or without distributed-ucxx
                        report["skipped"].append(f"{layout}: the server refused it: {answer['error']['message']}")
                        print(f"-- {layout}: refused: {answer['error']['message']}", flush=True)
                        save()
                        continue
                    if code != 202:
                        report["errors"].append(f"{layout}: create answered {code} {answer}")
                        continue
                    cluster = attempt(f"{layout} start", server.wait_running, body["name"])
                    if cluster is None:
                        attempt(f"{layout} delete", server.delete_cluster, body["name"])
                        continue
                    report["gpu_clusters"].append({"layout": layout} | {
                        k: cluster.get(k) for k in ("workers", "worker_command", "gpus_per_worker", "memory",
                                                    "protocol", "scheduler")})
                    with Client(cluster["scheduler"]["address"]) as client:
                        etl.ship(client)
                        backend = "cudf" if gpus else "pandas"
                        for rows in wanted:
                            result = attempt(f"{layout} {human(rows)}", on_cluster, client, data, backend, rows,
                                             args.repeat, 1, workdir / f"out-{layout}")
                            if result:
                                result["engine"] = engine
                            record(result, layout=layout, gpus=n, protocol=protocol)
                    attempt(f"{layout} delete", server.delete_cluster, body["name"])

        if gpus and "cudf" in engines:
            for rows in sizes:
                if todo("cudf-single", "", rows) and todo("cudf", "", rows):
                    record(attempt(f"cudf {human(rows)}", single_process, data, "cudf", rows, args.repeat, 1,
                                   workdir / "out-cudf"))

        # Dask on every core, in each layout.
        report.setdefault("cpu_layouts", [])
        for workers, threads in layouts if "dask-cpu" in engines else ():
            layout = f"{workers}x{threads}"
            wanted = [rows for rows in sizes if todo("dask-cpu", layout, rows)]
            if not wanted:
                continue
            name = f"bench-cpu-{layout}"
            cpu = server.create_cluster({"name": name, "workers": workers, "gpus_per_worker": 0,
                                         "cpu": str(threads), "memory": memory_of(workers), "idle_timeout": 0})
            report["cpu_layouts"].append({"layout": layout, "memory": memory_of(workers),
                                          "worker_command": cpu["worker_command"]})
            with Client(cpu["scheduler"]["address"]) as client:
                etl.ship(client)
                for rows in wanted:
                    record(attempt(f"dask-cpu {layout} {human(rows)}", on_cluster, client, data, "pandas", rows,
                                   args.repeat, 1, workdir / "out-dask-cpu"), layout=layout)
            server.delete_cluster(name)

        for rows in sizes:
            if "pandas" not in engines:
                break
            if rows > pandas_max:
                report["skipped"].append(f"pandas {human(rows)}: above --pandas-max-rows {human(pandas_max)}")
                continue
            if todo("pandas-single", "", rows) and todo("pandas", "", rows):
                record(attempt(f"pandas {human(rows)}", single_process, data, "pandas", rows, args.repeat, 1,
                               workdir / "out-pandas"))
        report["complete"] = not report["errors"]
    finally:
        server.stop()
        if not args.data:
            shutil.rmtree(workdir, ignore_errors=True)

    verdict(report, sizes)
    save()
    print()
    if args.dry_run:
        print(DRY_NOTE)
    print(report["table"])
    print()
    print(report["scaling_table"])
    for line in report["verdict"]:
        print(line)
    for line in report["skipped"]:
        print(f"skipped: {line}")
    if report.get("resumed_from"):
        print(f"resumed: {report['resumed_from']['runs']} runs kept from --json, not measured again")
    print("complete" if report["complete"] else "NOT complete: run the same command with --resume for the rest")
    return 0 if not report["errors"] else 1


def run_key(result: dict) -> tuple[str, str, int]:
    """What a result measured: engine, layout (CPU layout, or GPU count and protocol) and size."""
    return result["engine"], result.get("layout", ""), result["rows"]


def verdict(report: dict, sizes: list[int], check_results: bool = True) -> None:
    results = report["results"]
    # Every engine computed the same answer at each size.
    for rows in sizes if check_results else ():
        same = [r for r in results if r["rows"] == rows]
        for r in same[1:]:
            if not etl.same_result(same[0]["result"], r["result"], rel=1e-6):
                report["errors"].append(f"{r['engine']} {human(rows)} differs from {same[0]['engine']}")
    report["table"] = table(results, sizes)
    unit = "workers" if report.get("dry_run") else "GPUs"
    report["scaling_table"] = scaling_table(results, unit)
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
    if not report.get("dry_run"):
        lines.append(target(results))
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
        print(report["scaling_table"])
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
