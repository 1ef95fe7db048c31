"""A bounded property-based run of the whole API against openapi.yaml (schemathesis).

A real Jupyter server with the extension (local backend) in a process of its own gets requests
that schemathesis draws from the document: valid ones and ones that break it on purpose
(wrong types, out-of-range numbers, bad names). Every answer must match the document (status,
content type, schema) and none may be a 5xx other than a documented 503 `unavailable`; a request
that breaks the document must be refused with a 4xx.

Bounded: a fixed number of examples (deterministic, so CI sees the same run), max_clusters 1
and max_workers 1 so that at most one real cluster of one worker can exist, and every cluster
is deleted afterwards. The event stream (it never ends) and the proxied dashboard (its answers
are the Dask dashboard's own pages) are left out.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from benchmarks.benchmark_server import JupyterServer

DOCUMENT = Path(__file__).resolve().parents[2] / "jupyter_rapids_kf" / "openapi.yaml"
EXAMPLES = int(os.environ.get("RAPIDS_KF_FUZZ_EXAMPLES", "1000"))  # per pass (three passes)
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]

schema = schemathesis.openapi.from_path(str(DOCUMENT)).exclude(path_regex=r"/(events|dashboard/)")


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


def _run(jupyter: JupyterServer, strategy, seen: Counter) -> None:
    base_url = f"http://127.0.0.1:{jupyter.port}"
    auth = {"Authorization": f"token {jupyter.token}"}
    session = requests.Session()
    # Jupyter answers a token request with a login cookie; keeping it would authenticate the
    # requests that are meant to have no credentials.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        # A negative case may break the document only with an unknown query parameter that has
        # no value ([]): nothing of it is sent, so the request on the wire is a valid one (seen
        # on GET image-nodes, which has no other parameter to break). No such request exists.
        assume(not any(value == [] for value in (case.query or {}).values()))
        response = case.call(base_url=base_url, headers=auth, session=session, timeout=30)
        seen[(f"{case.method} {case.operation.path}", response.status_code)] += 1
        if response.status_code >= 500:
            try:
                error = json.loads(response.content)["error"]
            except (ValueError, KeyError, TypeError):
                error = {}
            assert (response.status_code, error.get("code")) == (503, "unavailable"), (
                f"{case.method} {case.formatted_path} answered {response.status_code}: {response.text[:500]}"
            )
        case.validate_response(response, checks=CHECKS, headers=auth, transport_kwargs={"base_url": base_url})

    check()


@pytest.mark.timeout(600)
def test_the_server_answers_every_request_the_document_allows_or_forbids_as_documented(server):
    seen: Counter = Counter()
    started = time.monotonic()
    try:
        _run(server, schema.as_strategy(GenerationMode.POSITIVE), seen)
        _run(server, schema.as_strategy(GenerationMode.NEGATIVE), seen)
        # Random names rarely hit a cluster: once more with every {name} a real, running one.
        _delete_all(server)
        status, _, _ = server.request("POST", "/rapids-kf/clusters", {"name": "fuzz", "workers": 1})
        assert status == 202
        _wait_running(server, "fuzz")
        kept = schema.exclude(method="DELETE")  # so that it lives through the pass
        _run(server, kept.as_strategy(GenerationMode.POSITIVE, path_parameters={"name": "fuzz"}), seen)
    finally:
        total = sum(seen.values())
        summary = {f"{route} -> {status}": n for (route, status), n in sorted(seen.items())}
        print(f"\nfuzz: {total} requests in {time.monotonic() - started:.0f} s\n" + json.dumps(summary, indent=1))
    assert total >= EXAMPLES, f"only {total} requests were made"
    operations = {route for route, _ in seen}
    assert len(operations) == len(list(schema.get_all_operations())), operations
