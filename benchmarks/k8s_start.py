"""Time to a computing Dask cluster on real pods: our create request against the seed's
hand-written `KubeCluster(...)` (dask-kubernetes' operator-based one), both called from a pod
of the profile namespace as a notebook would call them.

    sudo .venv/bin/python benchmarks/k8s_start.py --runs 5 [--json docs/results/k8s_start_DATE.json]

Brings up the control-plane tier with its real node (tests/controlplane: kube-apiserver,
kubelet, containerd, CoreDNS, kube-proxy, the unpatched operator; needs root and Debian's
containerd, runc, CNI plugins, debootstrap, umoci; binaries and images are built on first use),
the profile namespace `real-bench` with our manifests, then runs benchmarks/k8s_start_trials.py
in one pod of that namespace: the notebook image (this checkout installed), service account
`default-editor`, in-cluster config. That pod starts our Jupyter server under NB_PREFIX and
alternates the two sides (ours first in even runs, KubeCluster first in odd ones).

Same image (the tier's Dask image), worker count, CPU and memory for the scheduler and the
workers on both sides. Only loopback and the tier's own pod and Service networks see traffic.
The real node is machine-wide (flock): another real-node test run waits for it, and so does this.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from run_facts import RunFacts  # noqa: E402
from spread import compare, spread  # noqa: E402

NAMESPACE = "real-bench"
NB_PREFIX = f"/notebook/{NAMESPACE}/bench"
TRIALS = Path(__file__).with_name("k8s_start_trials.py")
# Where the time goes, in the order a start passes through them (seconds after the request).
STEPS = ("accepted", "kubecluster_returned", "scheduler_scheduled", "scheduler_started", "scheduler_ready",
         "worker_scheduled", "worker_started", "worker_ready", "worker_registered",
         "first_worker_ready_seen", "computed")


def bring_up(work: Path):
    from tests.controlplane.cluster import BUILD_SCRIPT, ControlPlane, default_bin_dir
    from tests.controlplane.node import RealNode

    subprocess.run(["bash", str(BUILD_SCRIPT)], check=True, stdout=sys.stderr)
    cp = ControlPlane(default_bin_dir(), work / "controlplane").start()
    try:
        cp.install_operator_crds()
        node = RealNode(cp, work / "node").start()
    except BaseException:
        cp.stop()
        raise
    return cp, node


def grant_our_manifests(cp) -> None:
    cp.apply_manifests(ROOT / "manifests")
    cp.api.wait_for(lambda: cp.service_account_can(NAMESPACE, "default-editor", "create", "daskclusters",
                                                   "kubernetes.dask.org"), 90, "manifests/ in kubeflow-edit")


def leftovers(node) -> list[str] | str:
    """What the stopped node left on the machine, checked while holding the machine's real-node
    lock (another session's node, started the moment ours let go, is not ours to count)."""
    import fcntl

    from tests.controlplane.node import LOCK_PATH

    with open(LOCK_PATH, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return "not checked: another session's real node took the machine at once"
        return node.leftovers()


def summarise(trials: list[dict]) -> dict:
    out: dict = {}
    for side in ("ours", "kubecluster"):
        runs = [t for t in trials if t["side"] == side and not t["warmup"]]
        out[side] = {"runs": len(runs), "computed": spread([t["computed"] for t in runs]),
                     "steps": {s: round(statistics.median([t[s] for t in runs if t.get(s) is not None]), 3)
                               for s in STEPS if any(t.get(s) is not None for t in runs)}}
    ours = [t["computed"] for t in trials if t["side"] == "ours" and not t["warmup"]]
    kube = [t["computed"] for t in trials if t["side"] == "kubecluster" and not t["warmup"]]
    result = compare(kube, ours)  # the rule of spread.py: a ratio only where its interval excludes 1
    out["ratio_kubecluster_over_ours"] = round(statistics.median(kube) / statistics.median(ours), 3)
    out["headline"] = {"ratio": round(result["ratio"], 3) if result["headline"] else None,
                       "low": result["low"], "high": result["high"], "reads": result["reads"]}
    return out


def report(trials: list[dict], summary: dict, extra: dict) -> str:
    lines = [f"k8s_start: {summary['ours']['runs']} runs per side (+ warm-up), alternating order; seconds "
             "after the request (API times are whole seconds: up to 1 s early)"]
    head = f"{'step':28s}{'ours':>10s}{'KubeCluster':>14s}"
    lines += ["", "medians", head]
    for step in STEPS:
        a, b = summary["ours"]["steps"].get(step), summary["kubecluster"]["steps"].get(step)
        if a is None and b is None:
            continue
        lines.append(f"{step:28s}{'' if a is None else f'{a:10.2f}':>10s}{'' if b is None else f'{b:14.2f}':>14s}")
    lines += ["", "request -> a client computed (min / median / max)"]
    for side, label in (("ours", "ours"), ("kubecluster", "KubeCluster")):
        s = summary[side]["computed"]
        lines.append(f"  {label:12s} {s['min']:.2f} / {s['median']:.2f} / {s['max']:.2f} s")
    lines.append(f"  KubeCluster / ours (spread.py rule): {summary['headline']['reads']}")
    lines += ["", "every run (side, run, position in its pair, computed s)"]
    for t in trials:
        lines.append(f"  {t['side']:12s} run {t['run']} pos {t['position']} "
                     f"{'warm-up ' if t['warmup'] else ''}{t['computed']:.2f}")
    for key, value in extra.items():
        lines.append(f"{key}: {value}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per side")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per side first")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cpu", default="500m", help="CPU of the scheduler and of each worker")
    parser.add_argument("--memory", default="1Gi", help="memory of the scheduler and of each worker")
    parser.add_argument("--plain-check", action="store_true",
                        help="first, try a plain KubeCluster(...) (its default scheduler command) once")
    parser.add_argument("--json", type=Path, help="write the raw result here")
    parser.add_argument("--text", type=Path, help="write the printed report here")
    parser.add_argument("--work-dir", type=Path, help="the tier's state and logs (default: a temp dir)")
    parser.add_argument("--from-json", type=Path, metavar="FILE",
                        help="measure nothing (no root needed): print the report of a kept raw file "
                             "with the rule of spread.py")
    args = parser.parse_args()
    if args.from_json:
        kept = json.loads(args.from_json.read_text())
        trials = kept["metrics"]["trials"]
        machine = kept["machine"]
        print(report(trials, summarise(trials), {
            "load average before / after": f"{machine['load_average_before']} / {machine['load_average_after']}",
            "re-evaluated from": args.from_json.as_posix()}))
        return 0

    facts = RunFacts()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="k8s-start-"))
    cp, node = bring_up(work)
    try:
        cp.start_operator()  # the tier as the tests run it (kwok namespaces; makes its credentials)
        node.start_operator()  # the unpatched one, for real-* namespaces
        node.real_namespace(NAMESPACE)
        grant_our_manifests(cp)
        settings = {"namespace": NAMESPACE, "nb_prefix": NB_PREFIX, "image": node.dask_image,
                    "workers": args.workers, "cpu": args.cpu, "memory": args.memory,
                    "runs": args.runs, "warmup": args.warmup, "plain_check": args.plain_check}
        image = node.notebook_image
        began = time.monotonic()
        run = node.run_pod(NAMESPACE, "bench", ["python", "-c", TRIALS.read_text(), json.dumps(settings)],
                           image=image, env={"NB_PREFIX": NB_PREFIX},
                           timeout=600 + 240 * 2 * (args.runs + args.warmup))
        pod_s = time.monotonic() - began
        if run.phase != "Succeeded":
            print(run.log, file=sys.stderr)
        trials = [json.loads(line[6:]) for line in run.log.splitlines() if line.startswith("TRIAL ")]
        plain = [json.loads(line[6:]) for line in run.log.splitlines() if line.startswith("PLAIN ")]
        failed = [json.loads(line[7:]) for line in run.log.splitlines() if line.startswith("FAILED ")]
        if not trials:
            raise SystemExit(f"no trial finished (the trials pod ended {run.phase}): {failed}")
    finally:
        node.stop()
        cp.stop()
    left = leftovers(node)
    summary = summarise(trials)
    extra = {"trials pod (notebook image)": image, "trials pod ran": f"{pod_s:.0f} s",
             "load average before / after": f"{facts.load_before} / {facts.finish()['load_average_after']}",
             "node leftovers after stop": left or "none"}
    if plain:
        extra["plain KubeCluster(...)"] = plain[0]["plain_kubecluster"]
    if failed or run.phase != "Succeeded":
        extra["failed trials"] = f"{failed} (trials pod {run.phase})"
    text = report(trials, summary, extra)
    print(text)
    if args.text:
        args.text.write_text(text + "\n")
    facts.write(args.json, "k8s_start", settings=dict(vars(args) | settings, json=str(args.json),
                                                        text=str(args.text), work_dir=str(work)),
                metrics={"summary": summary, "trials": trials, "failed": failed, "plain": plain,
                         "leftovers": left})
    return 0


if __name__ == "__main__":
    sys.exit(main())
