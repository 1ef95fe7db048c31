"""One profile namespace's part of benchmarks/load_real_pods.py: `at_once` slots, each making a
cluster through our server, computing on it, deleting it, again and again until the deadline.

    python benchmarks/load_real_pods_loop.py '<settings JSON>'

Run by load_real_pods.py in a mount namespace whose resolv.conf names only the tier's CoreDNS
(as a notebook's kernel would resolve `<cluster>-scheduler.<namespace>`). Prints one JSON line per
event (`EVENT {...}`) and a last `DONE {...}` with the counts.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter

import httpx

RUNNING_WITHIN = 300  # seconds from the create request to Running on a busy 2-core node
GONE_WITHIN = 180


def square(x: int) -> int:
    return x * x


class Slot(threading.Thread):
    def __init__(self, loop: "NamespaceLoop", index: int):
        super().__init__(daemon=True, name=f"slot-{index}")
        self.loop, self.index = loop, index

    def run(self) -> None:
        n = 0
        while time.monotonic() < self.loop.deadline:
            name = f"{self.loop.tag}-{self.index}-{n}"
            n += 1
            try:
                self.loop.one_cluster(name)
            except Exception as err:  # counted and reported; the slot goes on with a new cluster
                self.loop.event("error", name, error=f"{type(err).__name__}: {err}"[:500])
                self.loop.delete_quietly(name)


class NamespaceLoop:
    def __init__(self, settings: dict):
        self.s = settings
        self.tag = settings["tag"]
        self.deadline = time.monotonic() + settings["seconds"]
        self.http = httpx.Client(base_url=settings["url"], timeout=60,
                                 headers={"Authorization": f"token {settings['token']}"})
        self.counts: Counter = Counter()
        self.lock = threading.Lock()
        self.started = time.monotonic()

    def event(self, kind: str, name: str, **fields) -> None:
        with self.lock:
            self.counts[kind] += 1
            line = {"t": round(time.monotonic() - self.started, 1), "ns": self.s["namespace"], "event": kind,
                    "cluster": name, **fields}
            print("EVENT " + json.dumps(line), flush=True)

    def api(self, method: str, path: str, body: dict | None = None) -> httpx.Response:
        with self.lock:  # httpx.Client is not shared across threads without it
            return self.http.request(method, f"/rapids-kf/{path}", json=body)

    def one_cluster(self, name: str) -> None:
        body = {"name": name, "workers": self.s["workers"], "cpu": self.s["cpu"], "memory": self.s["memory"]}
        began = time.monotonic()
        resp = self.api("POST", "clusters", body)
        assert resp.status_code == 202, f"create answered {resp.status_code}: {resp.text[:300]}"
        self.event("created", name)
        cluster = self.wait(name, lambda c: c["phase"] == "Running", RUNNING_WITHIN, "Running")
        self.event("running", name, after_s=round(time.monotonic() - began, 1))
        self.compute(name, cluster["scheduler"]["address"])
        resp = self.api("DELETE", f"clusters/{name}")
        assert resp.status_code == 202, f"delete answered {resp.status_code}: {resp.text[:300]}"
        self.wait_gone(name)
        self.event("deleted", name, lifetime_s=round(time.monotonic() - began, 1))

    def compute(self, name: str, address: str) -> None:
        from distributed import Client

        rounds, n = self.s["rounds"], self.s["tasks"]
        expected = (n - 1) * n * (2 * n - 1) // 6  # sum of squares of 0..n-1
        with Client(address, timeout=60) as client:
            for r in range(rounds):
                futures = client.map(square, range(n), key=[f"sq-{name}-{r}-{i}" for i in range(n)])
                total = client.submit(sum, futures).result(timeout=120)
                assert total == expected, f"round {r}: {total} != {expected}"
                with self.lock:
                    self.counts["tasks"] += n + 1
        self.event("computed", name, rounds=rounds, tasks=rounds * (n + 1))

    def wait(self, name: str, check, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            resp = self.api("GET", f"clusters/{name}")
            last = resp.json() if resp.status_code == 200 else resp.text[:300]
            if resp.status_code == 200 and check(last):
                return last
            time.sleep(1)
        raise AssertionError(f"{name} not {what} within {timeout} s; last: {last}")

    def wait_gone(self, name: str) -> None:
        deadline = time.monotonic() + GONE_WITHIN
        while time.monotonic() < deadline:
            if self.api("GET", f"clusters/{name}").status_code == 404:
                return
            time.sleep(1)
        raise AssertionError(f"{name} still listed {GONE_WITHIN} s after its delete")

    def delete_quietly(self, name: str) -> None:
        try:
            if self.api("DELETE", f"clusters/{name}").status_code == 202:
                self.wait_gone(name)
        except Exception as err:
            self.event("error", name, error=f"clean-up: {type(err).__name__}: {err}"[:300])

    def run(self) -> int:
        slots = [Slot(self, i) for i in range(self.s["at_once"])]
        for slot in slots:
            slot.start()
            time.sleep(2)  # not all creates in the same second
        for slot in slots:
            slot.join()
        listed = [c["name"] for c in self.api("GET", "clusters").json()["clusters"]]
        print("DONE " + json.dumps({"ns": self.s["namespace"], "counts": dict(self.counts),
                                    "listed_at_end": listed}), flush=True)
        return 0


if __name__ == "__main__":
    sys.exit(NamespaceLoop(json.loads(sys.argv[1])).run())
