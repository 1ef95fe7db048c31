"""A stand-in for the Dask schedulers of clusters whose pods run no process (the emulator's and
kwok's): their Service addresses are data, never dialled (the network rule), so the backend's
one question to a scheduler, which workers it lists, is answered here from the pods instead.

`registers_ready_pods` answers as a real scheduler does once every running worker has joined:
each Ready worker pod's worker is listed. Tests of registration itself install their own answer
(`listing`), or use the real node, where a real scheduler answers.
"""

from __future__ import annotations

from typing import Callable

from jupyter_rapids_kf.backends.kubernetes.clusters import KubernetesBackend
from jupyter_rapids_kf.backends.kubernetes.status import _pod_ready, worker_name


def ready_worker_names(backend: KubernetesBackend, cluster: str) -> frozenset[str]:
    pods = backend._pods.get(cluster, {}).values()
    return frozenset(worker_name(p) or p["metadata"]["name"] for p in pods
                     if (p["metadata"].get("labels") or {}).get("dask.org/component") == "worker"
                     and _pod_ready(p))


async def _registers_ready_pods(self: KubernetesBackend, name: str, address: str) -> frozenset[str]:
    return ready_worker_names(self, name)


async def _log_not_readable(self: KubernetesBackend, cluster) -> None:
    return None  # no process, no log: the timeline says "unknown"


def registers_ready_pods(monkeypatch) -> None:
    monkeypatch.setattr(KubernetesBackend, "_ask_workers", _registers_ready_pods)
    monkeypatch.setattr(KubernetesBackend, "registration_times", _log_not_readable)


def listing(monkeypatch, answer: Callable[[KubernetesBackend, str], frozenset[str]]) -> None:
    """The stand-in scheduler lists `answer(backend, cluster)`; raising means unreachable."""

    async def ask(self: KubernetesBackend, name: str, address: str) -> frozenset[str]:
        return answer(self, name)

    monkeypatch.setattr(KubernetesBackend, "_ask_workers", ask)
