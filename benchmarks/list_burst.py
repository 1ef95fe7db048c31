"""A burst of cluster lists: does it stall the Jupyter server for everyone else?

A real Jupyter server with the extension (local backend) on 127.0.0.1 holds a few clusters and
50 open event streams (`rapids-kf/events`, as 50 browser tabs would). Then, several times, 200
`GET rapids-kf/clusters` are sent at once, each on its own connection, while Jupyter's own
`GET /api/status` is asked one request after another on a connection of its own until the
burst has been answered (every connection is opened beforehand and kept alive, as browser tabs
keep theirs). The
`/api/status` p95 during the bursts is printed against its p95 on the same server, idle, just
before: the list must barely touch the event loop (goal: within 3x of idle). As a floor, the
same bursts are sent to `/api/status` itself, Jupyter's cheapest route: what any 200 requests
at once cost this server, whatever they ask. Every ratio goes through the rule of spread.py
(a headline only where its bootstrap interval, over the probes or the bursts, excludes 1);
`--from-json FILE...` re-evaluates kept files.

    python benchmarks/list_burst.py [--clusters 3] [--subscribers 50] [--burst 200] [--bursts 20]
                                    [--idle-samples 200] [--json PATH]

Bounded: fixed counts, every request times out after 60 s, loopback only; the clusters have no
workers (a scheduler process each) and are deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmark_server import JupyterServer  # noqa: E402
from run_facts import RunFacts  # noqa: E402
from spread import compare  # noqa: E402

TIMEOUT = 60.0
BURST_PATHS = ("/rapids-kf/clusters", "/api/status")


class Connection:
    """A kept-alive HTTP/1.1 connection, as an open browser tab has: no connect storm (200
    connects at once overflow the listen backlog and wait a second for a SYN retry)."""

    def __init__(self, port: int, token: str):
        self.port, self.token = port, token

    async def open(self) -> "Connection":
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def get(self, path: str) -> tuple[int, float]:
        """(status, seconds) of one GET on this connection."""
        start = time.perf_counter()
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Authorization: token {self.token}\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        await asyncio.wait_for(self.reader.readexactly(length), TIMEOUT)
        return int(head.split(b" ", 2)[1]), time.perf_counter() - start

    def close(self) -> None:
        self.writer.close()


async def subscribe(port: int, token: str, ready: asyncio.Event, count: list[int], total: int):
    """An open event stream, read until cancelled; counts itself once the first list came."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /rapids-kf/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: token {token}\r\n\r\n".encode()
    )
    try:
        seen = b""
        while b"event: clusters" not in seen:
            seen += await asyncio.wait_for(reader.read(65536), TIMEOUT)
        count[0] += 1
        if count[0] == total:
            ready.set()
        while await reader.read(65536):
            pass
    finally:
        writer.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def ms(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(1000 * statistics.median(values), 2),
        "p95_ms": round(1000 * pct(values, 95), 2),
        "max_ms": round(1000 * max(values), 2),
    }


async def probe_status(probe: Connection, until: asyncio.Future, out: list[float]) -> None:
    while not until.done():
        status, seconds = await probe.get("/api/status")
        assert status == 200, status
        out.append(seconds)


async def measure(jupyter: JupyterServer, args: argparse.Namespace) -> dict[str, Any]:
    port, token = jupyter.port, jupyter.token
    ready, count = asyncio.Event(), [0]
    streams = [asyncio.ensure_future(subscribe(port, token, ready, count, args.subscribers))
               for _ in range(args.subscribers)]
    await asyncio.wait_for(ready.wait(), TIMEOUT)
    probe = await Connection(port, token).open()
    clients = []
    for _ in range(args.burst):  # one by one: no connect storm
        clients.append(await Connection(port, token).open())
    try:
        idle: list[float] = []
        for _ in range(args.idle_samples):
            status, seconds = await probe.get("/api/status")
            assert status == 200, status
            idle.append(seconds)
            await asyncio.sleep(0.005)
        # Bursts of the list, and as the floor, bursts of Jupyter's own /api/status: the same
        # number of requests of the cheapest route there is, through the same auth and I/O.
        runs = {path: {"probes": [], "answers": [], "walls": []} for path in BURST_PATHS}
        for _ in range(args.bursts):
            for path, run in runs.items():
                await asyncio.sleep(0.5)  # let the previous burst drain
                started = time.perf_counter()
                burst = asyncio.gather(*(client.get(path) for client in clients))
                await probe_status(probe, burst, run["probes"])
                answers = await burst
                run["walls"].append(round(time.perf_counter() - started, 3))
                assert all(status == 200 for status, _ in answers), {s for s, _ in answers}
                run["answers"].extend(seconds for _, seconds in answers)
    finally:
        for connection in [probe, *clients]:
            connection.close()
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    idle_ms = ms(idle)
    idle_ms["samples_ms"] = [round(1000 * x, 3) for x in idle]
    result: dict[str, Any] = {"status_idle": idle_ms}
    for path, run in runs.items():
        key = "list_burst" if "clusters" in path else "status_burst"
        probes = ms(run["probes"])
        result[key] = {
            "burst_of": path,
            "status_probes": probes | {"samples_ms": [round(1000 * x, 3) for x in run["probes"]]},
            "status_p95_over_idle": round(probes["p95_ms"] / idle_ms["p95_ms"], 2),
            "answers": ms(run["answers"]),
            "burst_wall_s": run["walls"],
        }
    return result


def create_clusters(jupyter: JupyterServer, count: int) -> list[str]:
    names = [f"burst-{i}" for i in range(count)]
    for name in names:
        status, body, _ = jupyter.request("POST", "/rapids-kf/clusters", {"name": name, "workers": 0})
        assert status == 202, body
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        _, listing, _ = jupyter.request("GET", "/rapids-kf/clusters")
        if sum(c["phase"] == "Running" for c in listing["clusters"]) == count:
            return names
        time.sleep(0.5)
    raise RuntimeError(f"clusters not Running: {listing}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clusters", type=int, default=3)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--bursts", type=int, default=20)
    parser.add_argument("--idle-samples", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures and machine facts here")
    parser.add_argument("--from-json", type=Path, nargs="+", metavar="FILE",
                        help="measure nothing: print the rule's verdict on kept raw files")
    args = parser.parse_args()
    if args.from_json:
        for path in args.from_json:
            from_json(path)
        return

    facts = RunFacts()
    with tempfile.TemporaryDirectory() as scratch:
        jupyter = JupyterServer(
            Path(scratch), extensions=["jupyter_rapids_kf"],
            args=["--RapidsKF.backend=local", "--RapidsKF.local_standby=False",
                  f"--RapidsKF.max_clusters={args.clusters}", "--RapidsKF.stop_local_clusters_on_exit=True"],
        )
        try:
            names = create_clusters(jupyter, args.clusters)
            figures = asyncio.run(measure(jupyter, args))
        finally:
            for name in locals().get("names", []):
                jupyter.request("DELETE", f"/rapids-kf/clusters/{name}")
            jupyter.stop()
    figures["headlines"] = verdicts(figures)
    result = facts.write(args.json, "list_burst", settings=vars(args), metrics=figures)
    report(figures, args.burst)
    print(f"load average before/after: {result['machine']['load_average_before']} / "
          f"{result['machine']['load_average_after']}")


def verdicts(figures: dict) -> dict:
    """The ratios the docs quote, through the rule of spread.py (bootstrap over probes or bursts)."""
    out = {}
    idle = figures["status_idle"].get("samples_ms")
    lists, floor = figures["list_burst"], figures["status_burst"]
    for key, run in (("list_burst_over_idle_p95", lists), ("status_burst_over_idle_p95", floor)):
        if idle and run["status_probes"].get("samples_ms"):
            out[key] = compare(run["status_probes"]["samples_ms"], idle, q=0.95, unit="ms", what="probes")
    if lists["status_probes"].get("samples_ms") and floor["status_probes"].get("samples_ms"):
        out["list_over_floor_probe_p95"] = compare(lists["status_probes"]["samples_ms"],
                                                   floor["status_probes"]["samples_ms"], q=0.95, unit="ms",
                                                   what="probes")
    out["list_over_floor_burst_wall"] = compare(lists["burst_wall_s"], floor["burst_wall_s"], unit="s",
                                                what="bursts")
    return out


def report(figures: dict, burst: int) -> None:
    idle = figures["status_idle"]
    print(f"/api/status idle: p50 {idle['p50_ms']} ms, p95 {idle['p95_ms']} ms (n={idle['n']})")
    for key in ("list_burst", "status_burst"):
        run = figures[key]
        probes, answers = run["status_probes"], run["answers"]
        print(f"bursts of {burst} x GET {run['burst_of']}: /api/status p50 {probes['p50_ms']} ms, "
              f"p95 {probes['p95_ms']} ms (n={probes['n']}); "
              f"the burst's answers p50 {answers['p50_ms']} ms, p95 {answers['p95_ms']} ms; "
              f"bursts took {run['burst_wall_s']} s")
    labels = {
        "list_burst_over_idle_p95": "/api/status p95, list bursts / idle",
        "status_burst_over_idle_p95": "/api/status p95, /api/status bursts (floor) / idle",
        "list_over_floor_probe_p95": "/api/status p95, list bursts / floor bursts",
        "list_over_floor_burst_wall": "burst answered, median, list / floor",
    }
    headlines = figures.get("headlines") or {}
    for key, label in labels.items():
        reads = headlines[key]["reads"] if key in headlines else "no headline: the samples were not kept"
        print(f"{label}: {reads}")


def from_json(path: Path) -> None:
    data = json.loads(path.read_text())
    figures = data.get("metrics") or {k: data[k] for k in ("status_idle", "list_burst", "status_burst")}
    machine = data.get("machine", {})
    print(f"== {path.as_posix()} (load average {machine.get('load_average_before')} before, "
          f"{machine.get('load_average_after')} after)")
    figures["headlines"] = verdicts(figures)
    report(figures, data["settings"]["burst"])


if __name__ == "__main__":
    main()
