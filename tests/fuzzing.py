"""What the two schema-driven runs share: requests drawn from openapi.yaml by schemathesis, sent to a
running server, every answer checked against the document (tests/api/test_fuzz.py on the local
backend, tests/controlplane/test_api_fuzz.py on the Kubernetes backend).

Every answer must match the document (status, content type, schema) and none may be a 5xx other
than a documented 503 `unavailable` (or, on the dashboard route, 502 `unavailable`: the dashboard
failed on its own page); a request that breaks the document must be refused with a
4xx. Two routes are read differently, because of what they are:

- the event stream never ends: its head is read (status, content type, the `clusters` snapshot,
  checked as the list route's answer) and the connection closed;
- a proxied dashboard's own pages (HTML, JSON of its own) are the Dask dashboard's, not ours:
  they are only held to "no 5xx"; our own answers on that route (the Error JSON) are checked
  like any other.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from . import openapi_check

DOCUMENT = Path(__file__).resolve().parents[1] / "jupyter_rapids_kf" / "openapi.yaml"
EVENTS = "/rapids-kf/events"
DASHBOARD = "/rapids-kf/clusters/{name}/dashboard/{path}"
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
# Pages and API routes a real Dask dashboard serves, for a pass that has one behind the proxy.
DASHBOARD_PATHS = ["status", "workers", "tasks", "system", "info/main/workers.html", "json/counts.json",
                   "json/identity.json", "health", "metrics", "sitemap.json", "api/v1",
                   "api/v1/get_workers", "api/v1/adaptive_target", "api/v1/check_idle",
                   "api/v1/retire_workers", "statics/css/base.css", "individual-plots.json"]
STREAM_SECONDS = 10.0  # the snapshot comes at once; a stream that sends nothing fails the case


def document():
    return schemathesis.openapi.from_path(str(DOCUMENT))


def dashboard_pages(schema, name: str):
    """Cases for the dashboard route of cluster `name`, every method, on pages it really has."""
    dashboard = schema.include(path=DASHBOARD)
    return st.sampled_from(DASHBOARD_PATHS).flatmap(lambda page: dashboard.as_strategy(
        GenerationMode.POSITIVE, path_parameters={"name": name, "path": page}))


class Fuzz:
    """Sends cases to one server and counts every answer by route and status."""

    def __init__(self, base_url: str, token: str, examples: int):
        self.base_url = base_url.rstrip("/")
        self.auth = {"Authorization": f"token {token}"}
        self.examples = examples
        self.seen: Counter = Counter()
        self.dashboard_pages = 0  # answers on the dashboard route that are not our Error object
        self.started = time.monotonic()
        self.session = requests.Session()
        # Jupyter answers a token request with a login cookie; keeping it would authenticate the
        # requests that are meant to have no credentials.
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def run(self, strategy, examples: int | None = None) -> None:
        @settings(
            max_examples=examples or self.examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def check(case):
            # A negative case may break the document only with an unknown query parameter that
            # has no value ([]): nothing of it is sent, so the request on the wire is a valid one
            # (seen on GET image-nodes, which has no other parameter to break).
            assume(not any(value == [] for value in (case.query or {}).values()))
            self.one(case)

        check()

    def one(self, case) -> None:
        if case.operation.path == EVENTS:
            response = self._stream_head(case)
        else:
            response = case.call(base_url=self.base_url, headers=self.auth, session=self.session, timeout=30)
        self.seen[(f"{case.method} {case.operation.path}", response.status_code)] += 1
        error = _error_of(response)
        if response.status_code >= 500:
            # 503: what the server needs cannot be reached; 502: a dashboard's own failure, in words.
            expected = {503} | ({502} if case.operation.path == DASHBOARD else set())
            assert response.status_code in expected and (error or {}).get("code") == "unavailable", (
                f"{case.method} {case.formatted_path} answered {response.status_code}: {response.text[:500]}"
            )
        if case.operation.path == DASHBOARD and error is None:
            # The dashboard's own page (or our redirect of its root): "no 5xx" is all we hold it to.
            self.dashboard_pages += 1
            return
        if case.operation.path == EVENTS and response.status_code == 200:
            return  # _stream_head checked it
        case.validate_response(response, checks=CHECKS, headers=self.auth,
                               transport_kwargs={"base_url": self.base_url})

    def _stream_head(self, case):
        """GET the event stream, read up to its first event, close it."""
        kwargs = case.as_transport_kwargs(base_url=self.base_url, headers=self.auth)
        kwargs.pop("timeout", None)
        response = self.session.request(**kwargs, stream=True, timeout=STREAM_SECONDS)
        if response.status_code != 200:
            response._content = response.raw.read(decode_content=True)
            return response
        try:
            assert response.headers["Content-Type"].startswith("text/event-stream"), response.headers
            head = ""
            deadline = time.monotonic() + STREAM_SECONDS
            for chunk in response.iter_content(chunk_size=None):
                head += chunk.decode()
                if "event: clusters" in head and head.rstrip(" ").endswith("\n\n"):
                    break
                assert time.monotonic() < deadline, f"no snapshot within {STREAM_SECONDS} s: {head!r}"
        finally:
            response.close()
        blocks = [b for b in head.split("\n\n") if b.strip()]
        assert blocks[0] == "retry: 2000", blocks
        kind, data = blocks[1].split("\n", 1)
        assert kind == "event: clusters" and data.startswith("data: "), blocks[1]
        openapi_check.check("GET", "/rapids-kf/clusters", "", None, 200, data[6:].encode(), "application/json")
        return response

    def summary(self) -> str:
        total = sum(self.seen.values())
        counts = {f"{route} -> {status}": n for (route, status), n in sorted(self.seen.items())}
        return (f"fuzz: {total} requests in {time.monotonic() - self.started:.0f} s "
                f"({self.dashboard_pages} dashboard pages, not our Error objects)\n" + json.dumps(counts, indent=1))

    @property
    def total(self) -> int:
        return sum(self.seen.values())

    @property
    def operations(self) -> set[str]:
        return {route for route, _ in self.seen}


def _error_of(response) -> dict | None:
    """The Error object of an answer, or None when the answer is not one."""
    try:
        error = json.loads(response.content)["error"]
    except (ValueError, KeyError, TypeError):
        return None
    return error if isinstance(error, dict) else None


def operations_of(schema) -> set[str]:
    return {f"{op.ok().method.upper()} {op.ok().path}" for op in schema.get_all_operations()}
