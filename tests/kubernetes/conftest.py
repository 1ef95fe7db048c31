"""Kubernetes API-tier fixtures: the emulator on 127.0.0.1 and a Jupyter server pointed at it."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

import pytest

from .emulator import Emulator

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


@pytest.fixture
def k8s_config() -> dict[str, Any]:
    """Override to add c.RapidsKF options for one module."""
    return {}


@pytest.fixture
def rapids_kf_config(k8s, k8s_config) -> dict[str, Any]:
    return {"backend": "kubernetes", "namespace": k8s.namespace, **k8s_config}


async def until(predicate: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
