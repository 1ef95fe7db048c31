"""A bounded property-based run of the whole API against openapi.yaml (schemathesis).

A real Jupyter server with the extension (local backend) in a process of its own gets requests
that schemathesis draws from the document: valid ones and ones that break it on purpose
(wrong types, out-of-range numbers, bad names); what is checked is in tests/fuzzing.py.

Bounded: a fixed number of examples (deterministic, so CI sees the same run), max_clusters 1
and max_workers 1 so that at most one real cluster of one worker can exist, and every cluster
is deleted afterwards. The event stream and the dashboard route are included: the running
cluster's own dashboard is behind the proxy in the last two passes.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from schemathesis import GenerationMode

from benchmarks.benchmark_server import JupyterServer

from ..fuzzing import Fuzz, dashboard_pages, document, operations_of

EXAMPLES = int(os.environ.get("RAPIDS_KF_FUZZ_EXAMPLES", "1000"))  # per pass (four passes)

schema = document()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fuzz")
    jupyter = JupyterServer(
        workdir,
        extensions=["jupyter_rapids_kf"],
        args=[
            "--RapidsKF.backend=local",
            "--RapidsKF.max_clusters=1",
            "--RapidsKF.max_workers=1",
            "--RapidsKF.default_workers=1",
            "--RapidsKF.local_standby=False",
            "--RapidsKF.stop_local_clusters_on_exit=True",
        ],
    )
    try:
        yield jupyter
    finally:
        _delete_all(jupyter)
        jupyter.stop()
        for spec in (workdir / "runtime" / "rapids-kf-clusters").glob("*.spec.json"):
            try:  # only if the server could not stop its clusters itself
                os.killpg(json.loads(spec.read_text())["pid"], signal.SIGKILL)
            except (OSError, ValueError, KeyError):
                pass


def _delete_all(jupyter: JupyterServer, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, listing, _ = jupyter.request("GET", "/rapids-kf/clusters")
        if not listing["clusters"]:
            return
        for cluster in listing["clusters"]:
            jupyter.request("DELETE", f"/rapids-kf/clusters/{cluster['name']}")
        time.sleep(0.5)


def _wait_running(jupyter: JupyterServer, name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, cluster, _ = jupyter.request("GET", f"/rapids-kf/clusters/{name}")
        if cluster.get("phase") == "Running":
            return
        time.sleep(0.25)
    raise AssertionError(f"{name} is not Running: {cluster}")


@pytest.mark.timeout(600)
def test_the_server_answers_every_request_the_document_allows_or_forbids_as_documented(server):
    fuzz = Fuzz(f"http://127.0.0.1:{server.port}", server.token, EXAMPLES)
    try:
        fuzz.run(schema.as_strategy(GenerationMode.POSITIVE))
        fuzz.run(schema.as_strategy(GenerationMode.NEGATIVE))
        # Random names rarely hit a cluster: once more with every {name} a real, running one.
        _delete_all(server)
        status, _, _ = server.request("POST", "/rapids-kf/clusters", {"name": "fuzz", "workers": 1})
        assert status == 202
        _wait_running(server, "fuzz")
        kept = schema.exclude(method="DELETE")  # so that it lives through the pass
        fuzz.run(kept.as_strategy(GenerationMode.POSITIVE, path_parameters={"name": "fuzz"}))
        fuzz.run(dashboard_pages(schema, "fuzz"))
    finally:
        print("\n" + fuzz.summary())
    total = fuzz.total
    assert total >= EXAMPLES, f"only {total} requests were made"
    assert fuzz.operations == operations_of(schema)
