"""Shared fixtures: a real Jupyter server (pytest-jupyter) with the extension loaded."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Callable

from urllib.parse import urlencode

import pytest

from . import openapi_check

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def rapids_kf_config() -> dict[str, Any]:
    """Override in a test module to set c.RapidsKF options."""
    # No cluster started in advance: it would cost every test's server a scheduler and two
    # workers on a 2-core CI machine; tests/api/test_warm_cluster.py tests it.
    return {"backend": "local", "stop_local_clusters_on_exit": True, "local_warm_cluster": False}


@pytest.fixture
def jp_server_config(rapids_kf_config):
    return {
        "ServerApp": {
            "jpserver_extensions": {
                "jupyter_rapids_kf": True,
                "jupyter_server_proxy": True,  # kernels' dashboard links go through /proxy
                "jupyter_server_terminals": False,
            },
            # Every route must work with authentication required everywhere.
            "allow_unauthenticated_access": False,
        },
        "RapidsKF": rapids_kf_config,
    }


class API:
    """Calls the extension's routes on the server under test and decodes the answers.

    Every answer is checked against the package's OpenAPI document.
    """

    def __init__(self, fetch, check_openapi: bool = True):
        self._fetch = fetch
        self.check_openapi = check_openapi

    async def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, **params) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method, "raise_error": False}
        if params:
            kwargs["params"] = params
        if raw is not None:
            kwargs["body"] = raw
        elif body is not None:
            kwargs["body"] = json.dumps(body)
        elif method in ("POST", "PATCH", "PUT"):
            kwargs["body"] = b""
        response = await self._fetch("rapids-kf", *path.strip("/").split("/"), **kwargs)
        if self.check_openapi:
            request_body = kwargs.get("body")
            openapi_check.check(
                method,
                "/rapids-kf/" + path.strip("/"),
                urlencode(params),
                request_body.encode() if isinstance(request_body, str) else request_body,
                response.code,
                response.body or b"",
                response.headers.get("Content-Type", "application/json"),
            )
        text = response.body.decode() if response.body else ""
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = text
        return response.code, data

    async def get(self, path: str, **params) -> Any:
        code, data = await self.call("GET", path, **params)
        assert code == 200, (code, data)
        return data

    async def wait_for(
        self,
        name: str,
        predicate: Callable[[dict], bool],
        timeout: float = 90,
        what: str = "condition",
    ) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            code, last = await self.call("GET", f"clusters/{name}")
            if code == 200 and predicate(last):
                return last
            await asyncio.sleep(0.25)
        raise AssertionError(f"timed out waiting for {what} on {name}: last={last}")

    async def wait_gone(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, _ = await self.call("GET", f"clusters/{name}")
            if code == 404:
                return
            await asyncio.sleep(0.25)
        raise AssertionError(f"{name} still exists after {timeout}s")


@pytest.fixture
def api(jp_fetch) -> API:
    return API(jp_fetch)


class EventStream:
    """Reads the extension's Server-Sent Events from the live server, as a browser would."""

    def __init__(self, url: str, headers: dict[str, str]):
        self.url = url
        self.headers = headers
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.seen: list[tuple[str, Any]] = []
        self._buffer = ""
        self._task: asyncio.Future | None = None

    def _on_chunk(self, chunk: bytes) -> None:
        self._buffer += chunk.decode()
        while "\n\n" in self._buffer:
            block, self._buffer = self._buffer.split("\n\n", 1)
            kind, data = "message", []
            for line in block.split("\n"):
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
            if data:
                event = (kind, json.loads("\n".join(data)))
                self.seen.append(event)
                self.events.put_nowait(event)

    async def __aenter__(self) -> "EventStream":
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest

        request = HTTPRequest(
            self.url, headers=self.headers, streaming_callback=self._on_chunk, request_timeout=3600
        )
        self._task = asyncio.ensure_future(AsyncHTTPClient(force_instance=True).fetch(request, raise_error=False))
        return self

    async def __aexit__(self, *exc) -> None:
        if self._task:
            self._task.cancel()

    async def next(self, kind: str, predicate: Callable[[Any], bool] = lambda _: True, timeout: float = 60) -> Any:
        """The next event of this kind matching the predicate; earlier ones are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind!r} event matched within {timeout}s; seen {[k for k, _ in self.seen]}")
            try:
                got, data = await asyncio.wait_for(self.events.get(), remaining)
            except asyncio.TimeoutError:
                continue
            if got == kind and predicate(data):
                return data


@pytest.fixture
def events(jp_fetch, jp_http_port, jp_base_url, jp_auth_header):
    # jp_fetch starts the HTTP server that the stream connects to.
    def open_stream() -> EventStream:
        url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}rapids-kf/events"
        return EventStream(url, dict(jp_auth_header))

    return open_stream


@pytest.fixture
def raw_get(jp_fetch, jp_http_port, jp_auth_header):
    """GET a server path exactly as given (jp_fetch escapes ':' in paths), with the token."""
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    async def get(path: str, **kwargs):
        request = HTTPRequest(f"http://127.0.0.1:{jp_http_port}{path}", headers=dict(jp_auth_header), **kwargs)
        return await AsyncHTTPClient(force_instance=True).fetch(request, raise_error=False)

    return get
