"""The timed trials of benchmarks/k8s_start.py, run inside a pod of the profile namespace
(the notebook image, service account `default-editor`), as a notebook would run them.

    python k8s_start_trials.py '<settings JSON>'

Starts this extension's Jupyter server in the pod (in-cluster config, under NB_PREFIX), then
alternates the two ways to a computing cluster:

- ours: POST rapids-kf/clusters, poll the card until a worker is ready, a Client on the
  card's scheduler address computes;
- KubeCluster: dask_kubernetes.operator.KubeCluster(...) with the same image, worker count
  and resources, a Client on it waits for one worker, then computes.

Then scale-up, alternating too: from 1 registered worker to `scale_to` (4), ours by PATCH
until the card counts 4 ready (registered), KubeCluster by `cluster.scale(4)` until its client
has 4 workers; both then compute. Lines `SCALE {json}`.

Each trial prints one line `TRIAL {json}`: seconds from the request to each step, from the
pods' conditions and container start times (the API's times have 1 s resolution) and from
the scheduler's own log (when the worker registered). Only the namespace's own API, Services
and pods are contacted.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime

PORT = 8888


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def iso_seconds(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class OurServer:
    """This extension's Jupyter server in the pod, as the notebook pod runs it."""

    def __init__(self, settings: dict):
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{PORT}{settings['nb_prefix'].rstrip('/')}/"
        config = {
            "ServerApp": {"ip": "127.0.0.1", "port": PORT, "open_browser": False, "allow_root": True,
                          "root_dir": "/tmp", "base_url": settings["nb_prefix"]},
            "IdentityProvider": {"token": self.token},
            "RapidsKF": {"backend": "kubernetes", "namespace": settings["namespace"],
                         "default_image": settings["image"], "use_notebook_image": False,
                         "default_worker_command": "dask worker", "default_gpus_per_worker": 0,
                         "scheduler_cpu": settings.get("scheduler_cpu", settings["cpu"]),
                         "scheduler_memory": settings.get("scheduler_memory", settings["memory"]),
                         "gpu_metrics_interval": 0},
        }
        with open("/tmp/jupyter_server_config.json", "w") as f:
            json.dump(config, f)
        env = dict(os.environ, JUPYTER_CONFIG_DIR="/tmp/jcfg", JUPYTER_RUNTIME_DIR="/tmp/jrt")
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyter_server",
                                      "--config=/tmp/jupyter_server_config.json"],
                                     env=env, stdout=open("/tmp/jupyter.log", "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if self.call("GET", "rapids-kf/clusters")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError("our Jupyter server did not serve rapids-kf/clusters: "
                           + open("/tmp/jupyter.log").read()[-2000:])

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"token {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def pods_of(namespace: str, cluster: str) -> list[dict]:
    import kr8s

    return [p.raw for p in kr8s.get("pods", namespace=namespace,
                                    label_selector={"dask.org/cluster-name": cluster})]


def wait_pods_gone(namespace: str, cluster: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while pods_of(namespace, cluster) and time.monotonic() < deadline:
        time.sleep(1)


def clean_up(namespace: str, cluster: str) -> None:
    """Deletes what a failed trial left (its DaskCluster) and waits for its pods."""
    import kr8s

    try:
        for dc in kr8s.get("daskclusters.kubernetes.dask.org", cluster, namespace=namespace):
            dc.delete()
        wait_pods_gone(namespace, cluster)
    except Exception as err:
        log("clean-up of", cluster, "failed:", err)


def steps(namespace: str, cluster: str, client, t0: float) -> dict:
    """Seconds after the request: pods scheduled, containers started, pods Ready (API times,
    whole seconds), the worker's registration (the scheduler's log, exact)."""
    found: dict = {}
    for pod in pods_of(namespace, cluster):
        component = pod["metadata"]["labels"].get("dask.org/component")
        conditions = {c["type"]: c.get("lastTransitionTime") for c in pod["status"].get("conditions") or []}
        started = ((pod["status"].get("containerStatuses") or [{}])[0].get("state") or {}) \
            .get("running", {}).get("startedAt")
        for step, value in (("created", pod["metadata"].get("creationTimestamp")),
                            ("scheduled", conditions.get("PodScheduled")),
                            ("started", started), ("ready", conditions.get("Ready"))):
            at = iso_seconds(value)
            key = f"{component}_{step}"
            if at is not None and (key not in found or at - t0 < found[key]):
                found[key] = round(at - t0, 3)
    registered = [at for at, msg in client.get_events("all")
                  if isinstance(msg, dict) and msg.get("action") == "add-worker"]
    if registered:
        found["worker_registered"] = round(min(registered) - t0, 3)
    return found


def trial_ours(server: OurServer, settings: dict, name: str) -> dict:
    from distributed import Client

    ns = settings["namespace"]
    body = {"name": name, "workers": settings["workers"], "image": settings["image"], "gpus_per_worker": 0,
            "worker_command": "dask worker", "cpu": settings["cpu"], "memory": settings["memory"],
            "idle_timeout": 0}
    t0 = time.time()
    code, card = server.call("POST", "rapids-kf/clusters", body)
    accepted = time.time()
    if code != 202:
        raise RuntimeError(f"create answered {code}: {card}")
    while card.get("workers", {}).get("ready", 0) < 1:
        time.sleep(0.1)
        code, card = server.call("GET", f"rapids-kf/clusters/{name}")
        if card.get("phase") == "Failed" or time.time() - t0 > 300:
            raise RuntimeError(f"not ready: {card}")
    ready = time.time()
    client = Client(card["scheduler"]["address"], timeout=120)
    assert client.submit(lambda: 6 * 7).result() == 42
    computed = time.time()
    result = {"side": "ours", "name": name, "accepted": round(accepted - t0, 3),
              "first_worker_ready_seen": round(ready - t0, 3), "computed": round(computed - t0, 3),
              **steps(ns, name, client, t0)}
    client.close()
    server.call("DELETE", f"rapids-kf/clusters/{name}")
    wait_pods_gone(ns, name)
    return result


def cluster_spec(settings: dict, name: str) -> dict:
    """make_cluster_spec with the same image, size and resources. Its scheduler command,
    `dask-scheduler`, is not installed by distributed >= 2026.8 (the scheduler crash-loops):
    `dask scheduler` instead, the one change a user of this image has to make."""
    from dask_kubernetes.operator import make_cluster_spec

    resources = {"requests": {"cpu": settings["cpu"], "memory": settings["memory"]},
                 "limits": {"cpu": settings["cpu"], "memory": settings["memory"]}}
    spec = copy.deepcopy(make_cluster_spec(name=name, image=settings["image"], n_workers=settings["workers"],
                                           resources=resources, worker_command="dask worker"))
    scheduler = spec["spec"]["scheduler"]["spec"]["containers"][0]
    if scheduler["args"][:1] == ["dask-scheduler"]:
        scheduler["args"] = ["dask", "scheduler"] + scheduler["args"][1:]
    cpu = settings.get("scheduler_cpu", settings["cpu"])
    memory = settings.get("scheduler_memory", settings["memory"])
    scheduler["resources"] = {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}}
    return spec


def trial_kubecluster(settings: dict, name: str) -> dict:
    from dask_kubernetes.operator import KubeCluster
    from distributed import Client

    ns = settings["namespace"]
    t0 = time.time()
    cluster = KubeCluster(custom_cluster_spec=cluster_spec(settings, name), namespace=ns,
                          shutdown_on_close=True, quiet=True)
    returned = time.time()
    client = Client(cluster)
    client.wait_for_workers(1, timeout=300)
    ready = time.time()
    assert client.submit(lambda: 6 * 7).result() == 42
    computed = time.time()
    result = {"side": "kubecluster", "name": name, "accepted": None,
              "kubecluster_returned": round(returned - t0, 3),
              "first_worker_ready_seen": round(ready - t0, 3), "computed": round(computed - t0, 3),
              **steps(ns, name, client, t0)}
    client.close()
    cluster.close()
    wait_pods_gone(ns, name)
    return result


def registrations(client, t0: float) -> list[float]:
    return sorted(round(at - t0, 3) for at, msg in client.get_events("all")
                  if isinstance(msg, dict) and msg.get("action") == "add-worker")


def scale_ours(server: OurServer, settings: dict, name: str) -> dict:
    """From 1 worker Running (card 1/1), PATCH workers 4 until the card says 4 ready (which
    counts only workers the scheduler lists), and the scheduler has them."""
    from distributed import Client

    ns, n = settings["namespace"], settings["scale_to"]
    body = {"name": name, "workers": 1, "image": settings["image"], "gpus_per_worker": 0,
            "worker_command": "dask worker", "cpu": settings["scale_cpu"], "memory": settings["scale_memory"],
            "idle_timeout": 0}
    code, card = server.call("POST", "rapids-kf/clusters", body)
    if code != 202:
        raise RuntimeError(f"create answered {code}: {card}")
    deadline = time.time() + 300
    while not (card.get("phase") == "Running" and card["workers"]["ready"] == 1):
        if card.get("phase") == "Failed" or time.time() > deadline:
            raise RuntimeError(f"not Running with 1 worker: {card}")
        time.sleep(0.2)
        card = server.call("GET", f"rapids-kf/clusters/{name}")[1]
    client = Client(card["scheduler"]["address"], timeout=120)
    client.wait_for_workers(1, timeout=60)
    t0 = time.time()
    code, card = server.call("PATCH", f"rapids-kf/clusters/{name}", {"workers": n})
    if code != 202:
        raise RuntimeError(f"scale answered {code}: {card}")
    while card.get("workers", {}).get("ready", 0) < n:
        time.sleep(0.1)
        card = server.call("GET", f"rapids-kf/clusters/{name}")[1]
        if card.get("phase") == "Failed" or time.time() - t0 > 300:
            raise RuntimeError(f"not {n} ready: {card}")
    seen = time.time()
    client.wait_for_workers(n, timeout=60)
    assert client.submit(lambda: 6 * 7).result() == 42
    result = {"side": "ours", "name": name, "card_ready_seen": round(seen - t0, 3),
              "all_registered": registrations(client, t0)[-1], "computed": round(time.time() - t0, 3)}
    client.close()
    server.call("DELETE", f"rapids-kf/clusters/{name}")
    wait_pods_gone(ns, name)
    return result


def scale_kubecluster(settings: dict, name: str) -> dict:
    """KubeCluster(n_workers=1) up with its worker, then cluster.scale(4) until the client has 4."""
    from dask_kubernetes.operator import KubeCluster
    from distributed import Client

    ns, n = settings["namespace"], settings["scale_to"]
    small = dict(settings, cpu=settings["scale_cpu"], memory=settings["scale_memory"], workers=1)
    cluster = KubeCluster(custom_cluster_spec=cluster_spec(small, name), namespace=ns,
                          shutdown_on_close=True, quiet=True)
    client = Client(cluster)
    client.wait_for_workers(1, timeout=300)
    t0 = time.time()
    cluster.scale(n)
    client.wait_for_workers(n, timeout=300)
    seen = time.time()
    assert client.submit(lambda: 6 * 7).result() == 42
    result = {"side": "kubecluster", "name": name, "card_ready_seen": None, "client_has_all": round(seen - t0, 3),
              "all_registered": registrations(client, t0)[-1], "computed": round(time.time() - t0, 3)}
    client.close()
    cluster.close()
    wait_pods_gone(ns, name)
    return result


def plain_kubecluster(settings: dict, timeout: float = 90) -> str:
    """What a plain `KubeCluster(...)` call does with this image (its default scheduler command)."""
    import asyncio

    import kr8s
    from dask_kubernetes.operator import KubeCluster

    resources = {"requests": {"cpu": settings["cpu"], "memory": settings["memory"]},
                 "limits": {"cpu": settings["cpu"], "memory": settings["memory"]}}

    async def start() -> None:
        cluster = await KubeCluster(name="plain", namespace=settings["namespace"], image=settings["image"],
                                    n_workers=settings["workers"], resources=resources,
                                    worker_command="dask worker", shutdown_on_close=True, quiet=True,
                                    asynchronous=True)
        await cluster.close()

    def scheduler_state() -> list:
        return [(cs.get("restartCount"), cs.get("state"), cs.get("lastState"))
                for pod in pods_of(settings["namespace"], "plain")
                if pod["metadata"]["labels"].get("dask.org/component") == "scheduler"
                for cs in pod["status"].get("containerStatuses") or []]

    t0 = time.time()
    try:
        asyncio.run(asyncio.wait_for(start(), timeout))
        outcome = f"started in {time.time() - t0:.1f} s"
    except asyncio.TimeoutError:
        outcome = f"still waiting after {timeout:.0f} s; its scheduler container: {scheduler_state()}"
    except Exception as err:  # what the user sees
        outcome = (f"raised after {time.time() - t0:.0f} s: {type(err).__name__}: {err}; "
                   f"its scheduler container: {scheduler_state()}")
    for dc in kr8s.get("daskclusters.kubernetes.dask.org", namespace=settings["namespace"]):
        dc.delete()
    wait_pods_gone(settings["namespace"], "plain")
    return outcome


def main() -> None:
    settings = json.loads(sys.argv[1])
    server = OurServer(settings)
    sides = {"ours": lambda name: trial_ours(server, settings, name),
             "kubecluster": lambda name: trial_kubecluster(settings, name)}
    try:
        if settings.get("plain_check"):
            print("PLAIN " + json.dumps({"plain_kubecluster": plain_kubecluster(settings)}), flush=True)
        for i in range(settings["warmup"] + settings["runs"]):
            order = ["ours", "kubecluster"] if i % 2 == 0 else ["kubecluster", "ours"]
            for side in order:
                name = f"{'ours' if side == 'ours' else 'kube'}-{i}"
                try:
                    result = sides[side](name)
                except Exception as err:  # one broken trial is reported, the others still run
                    print("FAILED " + json.dumps({"side": side, "run": i, "error": f"{type(err).__name__}: {err}"}),
                          flush=True)
                    clean_up(settings["namespace"], name)
                    continue
                result.update(run=i, warmup=i < settings["warmup"], position=order.index(side))
                print("TRIAL " + json.dumps(result), flush=True)
                log(side, i, result["computed"])
        scales = {"ours": lambda name: scale_ours(server, settings, name),
                  "kubecluster": lambda name: scale_kubecluster(settings, name)}
        for i in range(settings.get("scale_runs", 0)):
            order = ["ours", "kubecluster"] if i % 2 == 0 else ["kubecluster", "ours"]
            for side in order:
                name = f"{'sours' if side == 'ours' else 'skube'}-{i}"
                try:
                    result = scales[side](name)
                except Exception as err:
                    print("FAILED " + json.dumps({"side": side, "run": i, "scale": True,
                                                  "error": f"{type(err).__name__}: {err}"}), flush=True)
                    clean_up(settings["namespace"], name)
                    continue
                result.update(run=i, position=order.index(side))
                print("SCALE " + json.dumps(result), flush=True)
                log("scale", side, i, result["computed"])
    finally:
        server.stop()


if __name__ == "__main__":
    main()
