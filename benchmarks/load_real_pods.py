"""Load on real pods: three profile namespaces, each making, computing on and deleting clusters in a
loop for a while on the tier's real node, several at once; every result checked, every cluster
gone at the end, no namespace seeing another's clusters, our servers' memory sampled.

    sudo .venv/bin/python benchmarks/load_real_pods.py --minutes 4 [--at-once 2] [--out FILE]

Run by hand, not in CI. Brings up the control-plane tier with its real node (tests/controlplane:
kube-apiserver, kubelet, containerd, CoreDNS, kube-proxy, the unpatched operator; needs root and
Debian's containerd, runc, CNI plugins; images are built on first use), three profile namespaces
`real-load-a`, `-b`, `-c` with our manifests, and for each one our Jupyter server as its
`default-editor` (a process of its own beside the node, as tests/controlplane/node_server.py
runs it: three notebook pods with JupyterLab and kernels are too heavy for this 2-core machine
next to the clusters). Each namespace's loop (load_real_pods_loop.py, in a mount namespace that
resolves through CoreDNS only, as a kernel would) keeps `--at-once` clusters going: create through
the REST API, wait for Running, connect a dask Client to the scheduler's Service, compute and
check `--rounds` sums of squares, delete, wait until the card is gone.

Meanwhile, every `--sample` seconds: each server's memory (VmRSS), and each namespace's list,
which must hold its own clusters only, while a GET of any cluster of another namespace must be 404.
At the end: no DaskCluster, no Dask pod left in the three namespaces, no card listed, and the
node's teardown leaves nothing behind. Only loopback and the tier's own pod and Service networks
see traffic. The real node is machine-wide (flock): another real-node run waits for it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from k8s_start import bring_up, leftovers  # noqa: E402
from run_facts import RunFacts, commit  # noqa: E402

NAMESPACES = ("real-load-a", "real-load-b", "real-load-c")
LOOP = Path(__file__).with_name("load_real_pods_loop.py")
DASK_API = "/apis/kubernetes.dask.org/v1"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024}
    for unit, factor in units.items():
        if quantity.endswith(unit):
            return float(quantity[: -len(unit)]) * factor
    return float(quantity) / 2**20


def millicores(quantity: str) -> float:
    return float(quantity[:-1]) if quantity.endswith("m") else float(quantity) * 1000


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Sampler(threading.Thread):
    """Memory of each server, and what each namespace sees, every `interval` seconds."""

    def __init__(self, servers: dict, interval: float, out):
        super().__init__(daemon=True)
        self.servers, self.interval, self.out = servers, interval, out
        self.stop_event = threading.Event()
        self.memory: dict[str, list[tuple[float, float | None]]] = {ns: [] for ns in servers}
        self.checks = Counter()
        self.violations: list[str] = []
        self.started = time.monotonic()

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)
        self.sample()

    def sample(self) -> None:
        t = round(time.monotonic() - self.started, 1)
        listed: dict[str, list[str]] = {}
        for ns, srv in self.servers.items():
            rss = rss_mib(srv.proc.popen.pid) if srv.proc and srv.proc.popen else None
            self.memory[ns].append((t, rss))
            try:
                listed[ns] = [c["name"] for c in srv.get("clusters").json()["clusters"]]
            except Exception as err:  # a busy server: counted, not fatal
                self.violations.append(f"t={t} {ns}: list failed: {err}")
        for ns, names in listed.items():
            tag = tag_of(ns)
            self.checks["lists"] += 1
            foreign = [n for n in names if not n.startswith(f"{tag}-")]
            if foreign:
                self.violations.append(f"t={t} {ns} lists clusters of another namespace: {foreign}")
            for other, their_names in listed.items():
                if other == ns:
                    continue
                for name in their_names:
                    code = self.servers[ns].get(f"clusters/{name}").status_code
                    self.checks["cross_gets"] += 1
                    if code != 404:
                        self.violations.append(f"t={t} {ns} answered {code} for {other}'s {name}")
        print(f"SAMPLE t={t} rss_mib=" + json.dumps({ns: m[-1][1] for ns, m in self.memory.items()})
              + " listed=" + json.dumps(listed), file=self.out, flush=True)


def tag_of(namespace: str) -> str:
    return "load" + namespace.rsplit("-", 1)[1]


def left_in(cp, namespace: str) -> dict:
    return {
        "daskclusters": [o["metadata"]["name"] for o in cp.api.get(f"{DASK_API}/namespaces/{namespace}/daskclusters")["items"]],
        "pods": [p["metadata"]["name"] for p in cp.api.get(f"/api/v1/namespaces/{namespace}/pods",
                                                          labelSelector="dask.org/cluster-name")["items"]],
    }


def fits(cp, node_name: str, per_cluster_cpu: float, per_cluster_mib: float) -> dict:
    allocatable = cp.api.get(f"/api/v1/nodes/{node_name}")["status"]["allocatable"]
    cpu, mib = millicores(allocatable["cpu"]), mebibytes(allocatable["memory"])
    return {"node_cpu_m": cpu, "node_memory_mib": round(mib), "by_memory": int(mib // per_cluster_mib),
            "by_cpu_requests": int(cpu // per_cluster_cpu)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=4.0, help="how long each namespace loops")
    parser.add_argument("--at-once", type=int, default=2, help="clusters at once per namespace")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cpu", default="100m", help="CPU of each worker (and of each scheduler)")
    parser.add_argument("--memory", default="512Mi", help="memory of each worker (and of each scheduler)")
    parser.add_argument("--rounds", type=int, default=3, help="computations per cluster")
    parser.add_argument("--tasks", type=int, default=200, help="tasks per computation (+1 for the sum)")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--out", type=Path, help="also write the raw output here")
    parser.add_argument("--json", type=Path, help="write the summary, memory samples and events here")
    parser.add_argument("--work-dir", type=Path, help="the tier's state and logs (default: a temp dir)")
    args = parser.parse_args()

    out_lines: list[str] = []

    class Tee:
        def write(self, text: str) -> None:
            sys.stdout.write(text)
            out_lines.append(text)

        def flush(self) -> None:
            sys.stdout.flush()

    out = Tee()
    facts = RunFacts()
    print(f"# {' '.join(sys.argv)}  (commit {commit()['commit']}{' dirty' if commit()['dirty'] else ''}, "
          f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())})", file=out)
    print(f"# load average before: {facts.load_before}", file=out)
    from tests.controlplane.node_server import start_server

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="load-real-pods-"))
    cp, node = bring_up(work)
    servers: dict = {}
    loops: dict[str, subprocess.Popen] = {}
    results: dict[str, dict] = {}
    errors: list[dict] = []
    counts = Counter()
    sampler = None
    try:
        cp.start_operator()
        node.start_operator()
        cp.apply_manifests(ROOT / "manifests")
        for ns in NAMESPACES:
            servers[ns] = start_server(node, cp, ns, work / f"jupyter-{ns}",
                                       scheduler_cpu=args.cpu, scheduler_memory=args.memory)
            cp.api.wait_for(lambda ns=ns: cp.service_account_can(ns, "default-editor", "create", "daskclusters",
                                                                 "kubernetes.dask.org"), 90, "manifests/ in kubeflow-edit")
        workers = args.workers
        room = fits(cp, "real-node-1", millicores(args.cpu) * (1 + workers), mebibytes(args.memory) * (1 + workers))
        print(f"# per cluster: scheduler + {workers} worker(s), each {args.cpu} CPU, {args.memory}; the node fits "
              f"{room['by_memory']} such clusters by memory, {room['by_cpu_requests']} by CPU requests "
              f"(allocatable {room['node_cpu_m']:.0f}m CPU, {room['node_memory_mib']} MiB); running "
              f"{args.at_once} per namespace = {args.at_once * len(NAMESPACES)} at once", file=out)
        sampler = Sampler(servers, args.sample, out)
        sampler.start()
        env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
        began = time.monotonic()
        for ns, srv in servers.items():
            settings = {"namespace": ns, "tag": tag_of(ns), "url": srv.url, "token": srv.token,
                        "seconds": args.minutes * 60, "at_once": args.at_once, "workers": workers,
                        "cpu": args.cpu, "memory": args.memory, "rounds": args.rounds, "tasks": args.tasks}
            loops[ns] = subprocess.Popen(node.in_cluster_dns([sys.executable, str(LOOP), json.dumps(settings)]),
                                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        def read(ns: str, proc: subprocess.Popen) -> None:
            for line in proc.stdout:
                if line.startswith("EVENT "):
                    event = json.loads(line[6:])
                    counts[event["event"]] += 1
                    if event["event"] == "error":
                        errors.append(event)
                    print(line.rstrip(), file=out)
                elif line.startswith("DONE "):
                    results[ns] = json.loads(line[5:])
                    print(line.rstrip(), file=out)
                else:
                    print(f"[{ns}] {line.rstrip()}", file=out)

        readers = [threading.Thread(target=read, args=item, daemon=True) for item in loops.items()]
        for reader in readers:
            reader.start()
        for ns, proc in loops.items():
            proc.wait(timeout=args.minutes * 60 + 900)
        for reader in readers:
            reader.join(30)
        loop_s = time.monotonic() - began
        sampler.stop_event.set()
        sampler.join(60)

        # Every cluster gone: cards, DaskClusters and their pods (the garbage collector takes a while).
        deadline = time.monotonic() + 180
        left = {ns: left_in(cp, ns) for ns in NAMESPACES}
        while any(v["daskclusters"] or v["pods"] for v in left.values()) and time.monotonic() < deadline:
            time.sleep(2)
            left = {ns: left_in(cp, ns) for ns in NAMESPACES}
        cards = {ns: [c["name"] for c in srv.get("clusters").json()["clusters"]] for ns, srv in servers.items()}
    finally:
        for proc in loops.values():
            if proc.poll() is None:
                proc.kill()
        for srv in servers.values():
            srv.stop()
        node.stop()
        cp.stop()
    node_left = leftovers(node)

    tasks = sum(r["counts"].get("tasks", 0) for r in results.values())
    memory = {ns: [m for _, m in series if m is not None] for ns, series in sampler.memory.items()}
    summary = {
        "minutes": args.minutes, "loops_ran_s": round(loop_s), "namespaces": list(NAMESPACES),
        "clusters_at_once": args.at_once * len(NAMESPACES), "fit_by_memory": room["by_memory"],
        "fit_by_cpu_requests": room["by_cpu_requests"],
        "clusters_created": counts["created"], "clusters_running": counts["running"],
        "clusters_computed": counts["computed"], "clusters_deleted": counts["deleted"],
        "tasks_computed_and_checked": tasks, "errors": len(errors),
        "isolation_checks": dict(sampler.checks), "isolation_violations": sampler.violations,
        "left_in_kubernetes": left, "cards_left": cards, "node_leftovers": node_left or "none",
        "server_rss_mib": {ns: {"first": round(m[0]), "max": round(max(m)), "last": round(m[-1]),
                                "samples": len(m)} for ns, m in memory.items() if m},
        "loops_exit": {ns: p.returncode for ns, p in loops.items()},
    }
    print("SUMMARY " + json.dumps(summary, indent=1), file=out)
    print(f"# load average after: {facts.finish()['load_average_after']}", file=out)
    if args.out:
        args.out.write_text("".join(out_lines))
    facts.write(args.json, "load_real_pods", settings=vars(args),
                metrics={"summary": summary, "server_rss_mib": sampler.memory, "errors": errors})
    ok = (not errors and not sampler.violations and not node_left and summary["clusters_deleted"] > 0
          and summary["clusters_deleted"] == summary["clusters_created"]
          and not any(v["daskclusters"] or v["pods"] for v in left.values()) and not any(cards.values()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
