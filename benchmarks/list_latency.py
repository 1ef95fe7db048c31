"""GET rapids-kf/clusters with 500 clusters and 2,000 worker pods: the watch-fed cache versus
listing every kind from the Kubernetes API on each request.

Everything runs on 127.0.0.1: the Kubernetes API emulator of the tests (tests/kubernetes/emulator.py,
Python, in a thread: "the API" below is that emulator, not a kube-apiserver), and a real Jupyter
server with the extension (a subprocess) for each mode. Prints p50/p95 per mode, their ratio
through the rule of spread.py (bootstrap over the requests), the API requests made while
measuring, and the memory the cache holds. `--from-json FILE` re-evaluates a kept file.

    python benchmarks/list_latency.py [--clusters 500] [--workers 4] [--requests 200] [--api-requests 50]
                                      [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jupyter_rapids_kf.backends.kubernetes.spec import build_daskcluster, drop_none  # noqa: E402
from jupyter_rapids_kf.models.cluster import ClusterSpec  # noqa: E402
from tests.kubernetes.emulator import Emulator  # noqa: E402
from tests.kubernetes.fake_operator import reconcile  # noqa: E402

from benchmark_server import JupyterServer  # noqa: E402
from run_facts import RunFacts  # noqa: E402
from spread import compare, quantile  # noqa: E402

CLUSTERS = "/rapids-kf/clusters"


def start_emulator(clusters: int, workers: int) -> tuple[Emulator, asyncio.AbstractEventLoop]:
    emu = Emulator(namespace="bench")
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        emu.serve()
        for i in range(clusters):
            spec = ClusterSpec(name=f"gpu-etl-{i:03d}", workers=workers, gpus_per_worker=1, image="rapidsai/base:26.10",
                               worker_command="dask-cuda-worker", cpu="4", memory="16Gi", idle_timeout=3600, env={})
            emu.put("daskclusters", drop_none(build_daskcluster(spec, image=spec.image, scheduler_cpu="1",
                                                                scheduler_memory="4Gi")))
            reconcile(emu, spec.name)
        emu.history.clear()  # the benchmark never resumes old watches; keep memory flat
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    ready.wait()
    return emu, loop


def start_server(kubeconfig: Path, from_cache: bool, scratch: Path) -> JupyterServer:
    return JupyterServer(
        scratch / ("cache" if from_cache else "api"),
        extensions=("jupyter_rapids_kf",),
        args=("--RapidsKF.backend=kubernetes", "--RapidsKF.namespace=bench",
              f"--RapidsKF.list_from_cache={from_cache}", "--RapidsKF.max_clusters=10000",
              "--RapidsKF.kubernetes_timeout=60", "--RapidsKF.gpu_metrics_interval=0"),
        env={"KUBECONFIG": str(kubeconfig), "HOSTNAME": "benchmark-notebook-0"},
        start_timeout=180,
    )


def measure(server: JupyterServer, expected: int, requests: int, emu: Emulator) -> dict:
    deadline = time.monotonic() + 180
    last = None
    while True:  # wait until the server answers with every cluster
        conn = server.connect(timeout=120)
        try:
            status, body, _ = server.request("GET", CLUSTERS, conn=conn)
            if status == 200 and isinstance(body, dict) and len(body.get("clusters", [])) == expected:
                break
            last = (status, str(body)[:300])
        except OSError as err:
            last = err
        if time.monotonic() > deadline:
            raise SystemExit(f"the server on port {server.port} never listed {expected} clusters: {last}")
        time.sleep(0.5)
    for _ in range(10):
        server.request("GET", CLUSTERS, conn=conn)  # warm up
    before = sum(1 for m, uri in list(emu.requests) if m == "GET" and "watch=true" not in uri)
    times = []
    for _ in range(requests):
        status, _, elapsed = server.request("GET", CLUSTERS, conn=conn)
        assert status == 200
        times.append(elapsed * 1000)
    after = sum(1 for m, uri in list(emu.requests) if m == "GET" and "watch=true" not in uri)
    times.sort()
    floor = sorted(server.request("GET", "/api/status", conn=conn)[2] * 1000 for _ in range(requests))
    return {  # p95 as spread.py (and api_latency, list_burst) take it: rank round(0.95 (n - 1))
        "floor_p50_ms": statistics.median(floor),
        "floor_p95_ms": quantile(floor, 0.95),
        "p50_ms": statistics.median(times),
        "p95_ms": quantile(times, 0.95),
        "api_calls": after - before,
        "requests": requests,
        "times_ms": [round(t, 4) for t in times],
    }


def cache_memory(kubeconfig: Path) -> tuple[float, int]:
    """MiB held by a started backend's cache (tracemalloc), and how many clusters it holds."""
    from jupyter_rapids_kf.backends.kubernetes import KubernetesBackend
    from jupyter_rapids_kf.config import RapidsKF

    async def run() -> tuple[float, int]:
        os.environ["KUBECONFIG"] = str(kubeconfig)
        backend = KubernetesBackend(RapidsKF(namespace="bench", kubernetes_timeout=60,
                                              gpu_metrics_interval=0))
        await backend.kube.api()  # the HTTP client is not the cache
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        await backend.start()
        held = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        count = len(await backend.list())
        await backend.stop()
        return held / 2**20, count

    return asyncio.run(run())


API_IS = ("the API here is this repository's Kubernetes API emulator (tests/kubernetes/emulator.py, "
          "Python, in a thread of this process), not a kube-apiserver")


def report(results: dict) -> dict:
    """Prints both modes and the ratio API / cache through the rule of spread.py."""
    for mode, label in (("cache", "from the watch-fed cache"), ("api", "listing from the API each time")):
        r = results[mode]
        print(f"{label:32s} p50 {r['p50_ms']:8.2f} ms   p95 {r['p95_ms']:8.2f} ms   "
              f"API requests while measuring: {r['api_calls']}")
    r = results["cache"]
    print(f"{'(Jupyter floor: GET /api/status)':32s} p50 {r['floor_p50_ms']:8.2f} ms   p95 {r['floor_p95_ms']:8.2f} ms")
    ratios = {}
    for name, q in (("p50", None), ("p95", 0.95)):
        slow, fast = results["api"].get("times_ms"), results["cache"].get("times_ms")
        if slow and fast:
            ratios[name] = compare(slow, fast, q=q, unit="ms", what="requests")
            reads = ratios[name]["reads"]
        else:  # a file kept before the requests' times were
            reads = (f"no headline: one {name} a side ({results['api'][f'{name}_ms'] / results['cache'][f'{name}_ms']:.1f}x "
                     "of the two), the requests' times were not kept")
        print(f"ratio API / cache, {name}: {reads}")
    print(f"({API_IS}; each mode is one server start, so the interval is over its requests)")
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", type=int, default=500)
    parser.add_argument("--workers", type=int, default=4, help="worker pods per cluster")
    parser.add_argument("--requests", type=int, default=200, help="requests served from the cache")
    parser.add_argument("--api-requests", type=int, default=50, help="requests listing from the API (slow)")
    parser.add_argument("--json", type=Path, help="also write the figures and machine facts here")
    parser.add_argument("--from-json", type=Path, metavar="FILE",
                        help="measure nothing: print the rule's verdict on a kept raw file")
    args = parser.parse_args()
    if args.from_json:
        data = json.loads(args.from_json.read_text())
        print(f"== {args.from_json.as_posix()} (load average {data['machine'].get('load_average_before')} before, "
              f"{data['machine'].get('load_average_after')} after)")
        report(data["metrics"])
        return

    facts = RunFacts()

    emu, loop = start_emulator(args.clusters, args.workers)
    pods = len(emu.objects[("", "pods")])
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        kubeconfig = emu.write_kubeconfig(scratch / "kubeconfig")
        print(f"emulator: {args.clusters} DaskClusters, {args.clusters * args.workers} worker pods "
              f"({pods} pods with schedulers); sequential GET rapids-kf/clusters: {args.requests} from the cache, "
              f"{args.api_requests} listing from the API")
        results = {}
        for mode, from_cache, count in (("cache", True, args.requests), ("api", False, args.api_requests)):
            server = start_server(kubeconfig, from_cache, scratch)
            try:
                results[mode] = measure(server, args.clusters, count, emu)
            finally:
                server.stop(timeout=30)
        memory, held = cache_memory(kubeconfig)
    loop.call_soon_threadsafe(loop.stop)

    ratios = report(results)
    print(f"cache memory: {memory:.1f} MiB for {held} clusters and {pods} pods "
          f"({memory * 1024 / max(1, pods + held * 2):.1f} KiB per object)")
    ok = results["cache"]["p95_ms"] <= 10 and results["cache"]["api_calls"] == 0
    print("target (p95 <= 10 ms, no API call per request):", "met" if ok else "NOT met")
    metrics = {
        "cache": results["cache"], "api": results["api"],
        "ratio_api_over_cache": {q: round(results["api"][f"{q}_ms"] / results["cache"][f"{q}_ms"], 2)
                                 for q in ("p50", "p95")},
        "headlines": ratios,
        "cache_memory_mib": round(memory, 2), "clusters_held": held, "pods": pods, "target_met": ok,
    }
    facts.write(args.json, "list_latency", settings=vars(args), metrics=metrics)
    print(facts.summary())

if __name__ == "__main__":
    main()
