"""Each start-up idea of backends/kubernetes/fast_start.py, measured on its own on the real node.

    sudo .venv/bin/python benchmarks/k8s_start_ideas.py --runs 4 [--json docs/results/k8s_start_ideas_DATE.json]

Brings up the control-plane tier with its real node (as benchmarks/k8s_start.py does), then, in
the profile namespace `real-ideas`, creates the DaskCluster body our server would send
(build_daskcluster: the tier's Dask image, `dask worker`, 2 workers) with a chosen set of the
fast_start settings, as the admin, and times from the request: the scheduler's own log ("Scheduler
at:", when it listens), the first worker's registration (the scheduler's event log, exact) and a
task computed by a client on this machine through the scheduler's ClusterIP (which the machine
routes to the node's bridge). Variants alternate in a rotating order; pods are gone before the
next run. Only loopback and the tier's own pod and Service networks see traffic.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from run_facts import RunFacts  # noqa: E402

NAMESPACE = "real-ideas"
DASK_API = "/apis/kubernetes.dask.org/v1"
VARIANTS = {
    "none": (),
    "service": ("service",),
    "preload": ("preload",),
    "service+preload": ("service", "preload"),
    "service+preload+probe": ("service", "preload", "probe"),
    "service+preload+fork": ("service", "preload", "fork"),
    "fork": ("fork",),
}


def log_times(text: str, t0: float) -> list[tuple[float, str]]:
    """(seconds after t0, message) of distributed's log lines ('2026-12-07 17:01:02,345 - ...')."""
    found = []
    for line in text.splitlines():
        try:
            stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        found.append((round(stamp.timestamp() - t0, 3), line[23:].split(" - ", 2)[-1].strip()))
    return found


def first(lines: list[tuple[float, str]], words: str) -> float | None:
    return next((at for at, msg in lines if words in msg), None)


def iso(value: str | None) -> float | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def trial(cp, image: str, name: str, start: tuple[str, ...], args) -> dict:
    from distributed import Client
    from distributed.core import rpc

    from jupyter_rapids_kf.backends.kubernetes.spec import build_daskcluster, drop_none
    from jupyter_rapids_kf.models.cluster import ClusterSpec

    spec = ClusterSpec(name=name, workers=args.workers, gpus_per_worker=0, image=image,
                       worker_command="dask worker", cpu=args.cpu, memory=args.memory, idle_timeout=0, env={})
    body = drop_none(build_daskcluster(spec, image=image, scheduler_cpu=args.cpu, scheduler_memory=args.memory,
                                       start=start))
    body["metadata"]["namespace"] = NAMESPACE
    path = f"{DASK_API}/namespaces/{NAMESPACE}/daskclusters"
    t0 = time.time()
    cp.api.request("POST", path, json=body)
    result: dict = {"start": list(start), "name": name}
    ip = None
    while ip is None:
        if time.time() - t0 > 120:
            raise RuntimeError("no scheduler Service after 120 s")
        svc = cp.api.http.get(f"/api/v1/namespaces/{NAMESPACE}/services/{name}-scheduler")
        if svc.status_code == 200:
            ip = svc.json()["spec"].get("clusterIP")
        else:
            time.sleep(0.05)
    result["service"] = round(time.time() - t0, 3)
    address = f"tcp://{ip}:8786"

    async def ask():
        async with rpc(address, timeout=0.5) as s:
            return await s.identity()

    import asyncio

    while True:
        if time.time() - t0 > 180:
            raise RuntimeError("no worker registered after 180 s")
        try:
            identity = asyncio.run(asyncio.wait_for(ask(), 1.0))
        except Exception:
            time.sleep(0.05)
            continue
        result.setdefault("scheduler_answered", round(time.time() - t0, 3))
        if identity.get("workers"):
            result["worker_seen"] = round(time.time() - t0, 3)
            break
        time.sleep(0.05)
    with Client(address, timeout=30) as client:
        assert client.submit(lambda: 6 * 7).result() == 42
        result["computed"] = round(time.time() - t0, 3)
        added = [at for at, msg in client.get_events("all")
                 if isinstance(msg, dict) and msg.get("action") == "add-worker"]
        result["worker_registered"] = round(min(added) - t0, 3)
        result["scheduler_started"] = round(client.scheduler_info()["started"] - t0, 3)
    pods = cp.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods", labelSelector=f"dask.org/cluster-name={name}")["items"]
    for pod in pods:
        component = pod["metadata"]["labels"].get("dask.org/component")
        cs = (pod["status"].get("containerStatuses") or [{}])[0]
        started = iso(((cs.get("state") or {}).get("running") or {}).get("startedAt"))
        ready = next((iso(c.get("lastTransitionTime")) for c in pod["status"].get("conditions") or []
                      if c["type"] == "Ready" and c["status"] == "True"), None)
        for key, at in ((f"{component}_started", started), (f"{component}_ready", ready)):
            if at is not None and (key not in result or at - t0 < result[key]):
                result[key] = round(at - t0, 3)
        text = cp.api.request("GET", f"/api/v1/namespaces/{NAMESPACE}/pods/{pod['metadata']['name']}/log").text
        lines = log_times(text, t0)
        if component == "scheduler":
            result["scheduler_first_log"] = lines[0][0] if lines else None
            result["scheduler_listening"] = first(lines, "Scheduler at:")
            result["scheduler_dashboard"] = first(lines, "dashboard at:")
            result["scheduler_log"] = lines[:20]
        else:
            at = first(lines, "Start worker at:")
            if at is not None and at < result.get("worker_start_logged", 1e9):
                result["worker_start_logged"] = at
    cp.api.http.delete(f"{path}/{name}")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and cp.api.get(
            f"/api/v1/namespaces/{NAMESPACE}/pods", labelSelector="dask.org/cluster-name")["items"]:
        time.sleep(0.5)
    return result


KEYS = ("service", "scheduler_started", "scheduler_first_log", "scheduler_listening", "scheduler_dashboard",
        "scheduler_ready", "scheduler_answered", "worker_started", "worker_start_logged", "worker_registered",
        "worker_seen", "computed")


def report(trials: list[dict], extra: dict) -> str:
    lines = ["k8s_start_ideas: seconds after the request, medians (API times 1 s resolution: "
             "*_started/*_ready up to 1 s early)", ""]
    names = list(dict.fromkeys(t["variant"] for t in trials))
    lines.append(f"{'step':22s}" + "".join(f"{n:>24s}" for n in names))
    for key in KEYS:
        row = f"{key:22s}"
        for n in names:
            vals = [t[key] for t in trials if t["variant"] == n and t.get(key) is not None]
            row += f"{statistics.median(vals):24.2f}" if vals else f"{'':>24s}"
        lines.append(row)
    lines += ["", "computed, every run (min / median / max)"]
    for n in names:
        vals = [t["computed"] for t in trials if t["variant"] == n]
        lines.append(f"  {n:24s} {min(vals):.2f} / {statistics.median(vals):.2f} / {max(vals):.2f} s  "
                     f"runs {', '.join(f'{v:.2f}' for v in vals)}")
    lines += ["", "worker_registered - scheduler_listening, every run"]
    for n in names:
        gaps = [round(t["worker_registered"] - t["scheduler_listening"], 2) for t in trials
                if t["variant"] == n and t.get("scheduler_listening") is not None]
        lines.append(f"  {n:24s} {gaps}")
    for key, value in extra.items():
        lines.append(f"{key}: {value}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cpu", default="500m")
    parser.add_argument("--memory", default="1Gi")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--text", type=Path)
    args = parser.parse_args()
    from k8s_start import bring_up

    facts = RunFacts()
    work = Path(tempfile.mkdtemp(prefix="k8s-ideas-"))
    cp, node = bring_up(work)
    variants = args.variants.split(",")
    trials: list[dict] = []
    failed: list[dict] = []
    try:
        cp.start_operator()  # as k8s_start.py: the tier as the tests run it (makes the credentials)
        node.start_operator()
        node.real_namespace(NAMESPACE)
        image = node.dask_image
        # Warm-up: the first start of the image on the node unpacks it.
        trial(cp, image, "warm", (), args)
        for i in range(args.runs):
            order = variants[i % len(variants):] + variants[:i % len(variants)]
            for v in order:
                name = f"i{i}-{v.replace('+', '-')}"[:40]
                try:
                    t = trial(cp, image, name, VARIANTS[v], args)
                except Exception as err:  # reported, the others still run
                    failed.append({"variant": v, "run": i, "error": f"{type(err).__name__}: {err}"})
                    print("FAILED", failed[-1], file=sys.stderr, flush=True)
                    continue
                t.update(variant=v, run=i)
                trials.append(t)
                print(v, i, t["computed"], file=sys.stderr, flush=True)
    finally:
        node.stop()
        cp.stop()
    extra = {"load average before / after": f"{facts.load_before} / {facts.finish()['load_average_after']}",
             "failed": failed or "none"}
    text = report(trials, extra)
    print(text)
    if args.text:
        args.text.write_text(text + "\n")
    facts.write(args.json, "k8s_start_ideas", settings={k: str(v) for k, v in vars(args).items()},
                metrics={"trials": trials, "failed": failed})
    return 0


if __name__ == "__main__":
    sys.exit(main())
