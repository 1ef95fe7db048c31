"""Kubernetes API-tier fixtures: the emulator on 127.0.0.1 and a Jupyter server pointed at it."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Callable

import pytest

from .emulator import Emulator
from .stand_in import registers_ready_pods

NOTEBOOK_IMAGE = "kubeflownotebookswg/jupyter-rapids:v26.10"


@pytest.fixture
def k8s(tmp_path, monkeypatch) -> Emulator:
    """The emulator, with this test's kubeconfig in KUBECONFIG and the notebook's own pod."""
    emu = Emulator()
    emu.serve()
    monkeypatch.setenv("KUBECONFIG", str(emu.write_kubeconfig(tmp_path / "kubeconfig")))
    monkeypatch.setenv("HOSTNAME", "notebook-0")
    emu.put("pods", {"metadata": {"name": "notebook-0", "labels": {"notebook-name": "notebook"}},
                     "spec": {"containers": [{"name": "notebook", "image": NOTEBOOK_IMAGE}]},
                     "status": {"phase": "Running"}})
    yield emu
    emu.stop()
    # Whatever the extension sent, in any test: valid for the operator's CRDs, GPUs on workers only.
    assert emu.validation == [], emu.validation
    for plural, body in emu.received:
        if plural == "daskclusters" and "spec" in body:
            assert "nvidia.com/gpu" not in json.dumps(body["spec"].get("scheduler", {})), body


@pytest.fixture(autouse=True)
def schedulers_stand_in(monkeypatch) -> None:
    """The emulator's pods run no scheduler: stand_in.py answers for them (every Ready worker
    pod has joined); tests of registration replace the answer."""
    registers_ready_pods(monkeypatch)


@pytest.fixture
def k8s_config() -> dict[str, Any]:
    """Override to add c.RapidsKF options for one module."""
    return {}


@pytest.fixture
def rapids_kf_config(k8s, k8s_config) -> dict[str, Any]:
    # GPU readings off: they would resolve the emulated clusters' scheduler Service names.
    return {"backend": "kubernetes", "namespace": k8s.namespace, "gpu_metrics_interval": 0, **k8s_config}


async def until(predicate: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class EventStream:
    """Reads `rapids-kf/events` (Server-Sent Events) of the server under test as they arrive."""

    def __init__(self):
        self.events: list[tuple[str, Any]] = []
        self._buffer = ""
        self._client = None

    def feed(self, chunk: bytes) -> None:
        import json

        self._buffer += chunk.decode()
        while "\n\n" in self._buffer:
            block, self._buffer = self._buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
            if "event" in fields:
                self.events.append((fields["event"], json.loads(fields["data"])))

    async def wait(self, predicate: Callable[[str, Any], bool], timeout: float = 10, what: str = "event") -> Any:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for kind, data in self.events[seen:]:
                if predicate(kind, data):
                    return data
            seen = len(self.events)
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {what} in {self.events}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@pytest.fixture
def events(jp_serverapp, jp_base_url, jp_auth_header, jp_http_port):
    from jupyter_server.utils import url_path_join
    from tornado.httpclient import AsyncHTTPClient

    stream = EventStream()

    def open_stream() -> EventStream:
        stream._client = AsyncHTTPClient(force_instance=True)
        url = f"http://127.0.0.1:{jp_http_port}" + url_path_join(jp_base_url, "rapids-kf/events")
        stream._future = stream._client.fetch(url, headers=jp_auth_header, streaming_callback=stream.feed,
                                              request_timeout=120, raise_error=False)
        return stream

    yield open_stream
    stream.close()
