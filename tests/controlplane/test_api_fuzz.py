"""The schema-driven run of tests/api/test_fuzz.py, on the Kubernetes backend: a Jupyter server
acting as the profile's `default-editor` on the real control plane (API server, operator, kwok's
GPU nodes), the event stream and the dashboard routes included (what is checked: tests/fuzzing.py).

kwok's pods run no process, so the cluster's scheduler is stood in for twice: its worker list by
tests/kubernetes/stand_in.py (conftest.py installs it), its dashboard by a real `dask scheduler`
on 127.0.0.1 with the routes our scheduler pods get (the scheduler's HTTP API included). Requests
that our proxy lets through to `<cluster>-scheduler.<namespace>:8787` go there and nowhere else:
no name is resolved and nothing leaves loopback.

Bounded: RAPIDS_KF_FUZZ_K8S_EXAMPLES examples per pass (four passes, deterministic), max_clusters 1
and max_workers 1; every cluster is deleted afterwards (clean_namespace).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from jupyter_server_proxy.handlers import ProxyHandler
from schemathesis import GenerationMode

from jupyter_rapids_kf.backends.kubernetes.spec import ROUTES_ENV, scheduler_routes

from ..fuzzing import Fuzz, dashboard_pages, document, operations_of
from .conftest import in_thread

NAMESPACE = "cp-fuzz"
pytestmark = [pytest.mark.controlplane,
              pytest.mark.usefixtures("dask_rights", "clean_namespace")]
EXAMPLES = int(os.environ.get("RAPIDS_KF_FUZZ_K8S_EXAMPLES", "250"))  # per pass (four passes)
schema = document()


@pytest.fixture
def rapids_kf_options():
    return {"max_clusters": 1, "max_workers": 1, "default_workers": 1}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def scheduler_dashboard():
    """A real Dask scheduler on 127.0.0.1, started as our scheduler pods are (their routes):
    the dashboard that the proxied requests reach. Yields its dashboard port."""
    port, dashboard = _free_port(), _free_port()
    env = {**os.environ, ROUTES_ENV: json.dumps(scheduler_routes())}
    proc = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--dashboard-address", f"127.0.0.1:{dashboard}", "--no-show"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{dashboard}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "the stand-in scheduler's dashboard did not answer"
                time.sleep(0.25)
        yield dashboard
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


@pytest.fixture
def dashboards_on_loopback(scheduler_dashboard, monkeypatch):
    """What our proxy lets through goes to the stand-in dashboard; the hosts it meant are kept."""
    meant: list[tuple[str, int]] = []
    original = ProxyHandler.get_client_uri

    def to_stand_in(self, protocol, host, port, proxied_path):
        meant.append((host, int(port)))
        return original(self, protocol, "127.0.0.1", scheduler_dashboard, proxied_path)

    monkeypatch.setattr(ProxyHandler, "get_client_uri", to_stand_in)
    return meant


async def _delete_all(api, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = (await api.get("clusters"))["clusters"]
        if not listed:
            return
        for cluster in listed:
            if cluster["phase"] != "Deleting":
                await api.call("DELETE", f"clusters/{cluster['name']}")
        await in_thread(time.sleep, 0.5)
    raise AssertionError(f"clusters left after {timeout} s: {listed}")


@pytest.mark.timeout(900)
async def test_the_kubernetes_backend_answers_every_request_as_documented(
        api, jp_http_port, jp_base_url, jp_auth_header, dashboards_on_loopback, api_namespace):
    await api.get("clusters")  # the server is up and its watches synced
    token = jp_auth_header["Authorization"].split(" ", 1)[1]
    fuzz = Fuzz(f"http://127.0.0.1:{jp_http_port}{jp_base_url}", token, EXAMPLES)
    # The server shares this event loop: the blocking requests run in a thread.
    try:
        await in_thread(fuzz.run, schema.as_strategy(GenerationMode.POSITIVE))
        await in_thread(fuzz.run, schema.as_strategy(GenerationMode.NEGATIVE))
        # Random names rarely hit a cluster: again with every {name} a real, running one, and
        # every dashboard {address} its scheduler's.
        await _delete_all(api)
        code, cluster = await api.call("POST", "clusters", {"name": "fuzz", "workers": 1})
        assert code == 202, cluster
        await api.wait_for("fuzz", lambda c: c["phase"] == "Running", 90, "Running")
        address = f"fuzz-scheduler.{api_namespace}:8787"
        kept = schema.exclude(method="DELETE")  # so that it lives through the pass
        await in_thread(fuzz.run, kept.as_strategy(
            GenerationMode.POSITIVE, path_parameters={"name": "fuzz", "address": address}))
        # And the dashboard route, every method, on pages the dashboard really has.
        await in_thread(fuzz.run, dashboard_pages(schema, "fuzz"))
        reached = len(dashboards_on_loopback)
        code, _ = await api.call("DELETE", "clusters/fuzz")
        assert code == 202
    finally:
        print("\n" + fuzz.summary())
    assert fuzz.total >= 4 * EXAMPLES * 0.9, f"only {fuzz.total} requests were made"
    assert fuzz.operations == operations_of(schema)
    # The proxy had a real dashboard behind it, and meant only our cluster's scheduler.
    assert reached >= EXAMPLES / 2 and fuzz.dashboard_pages >= EXAMPLES / 2, (reached, fuzz.dashboard_pages)
    assert {host for host, _ in dashboards_on_loopback} == {f"fuzz-scheduler.{api_namespace}"}
    assert {port for _, port in dashboards_on_loopback} == {8787}
