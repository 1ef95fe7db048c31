"""Shared fixtures: a real Jupyter server (pytest-jupyter) with the extension loaded."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest
from tornado.httpclient import HTTPClientError

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def rapids_kf_config() -> dict[str, Any]:
    """Override in a test module to set c.RapidsKF options."""
    return {"backend": "local", "stop_local_clusters_on_exit": True}


@pytest.fixture
def jp_server_config(rapids_kf_config):
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_rapids_kf": True, "jupyter_server_terminals": False},
            # Every route must work with authentication required everywhere.
            "allow_unauthenticated_access": False,
        },
        "RapidsKF": rapids_kf_config,
    }


class API:
    """Calls the extension's routes on the server under test and decodes the answers."""

    def __init__(self, fetch):
        self._fetch = fetch

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
