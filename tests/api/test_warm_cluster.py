"""The default local cluster, started in advance by the standby process, and quick deletes."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import psutil
import pytest
from distributed import Client
from jupyter_core.paths import jupyter_runtime_dir

from jupyter_rapids_kf.backends.local.clusters import LocalBackend


@pytest.fixture
def rapids_kf_config():
    # What a user gets by default (tests/conftest.py turns the cluster in advance off elsewhere).
    return {"backend": "local", "stop_local_clusters_on_exit": True, "local_warm_cluster": True}


async def advance_check(api, status: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        checks = {c["name"]: c for c in (await api.get("environment"))["checks"]}
        check = checks["cluster-in-advance"]
        if check["status"] == status:
            return check
        assert time.monotonic() < deadline, f"cluster-in-advance never {status}: {check}"
        await asyncio.sleep(0.2)


async def worker_facts(cluster: dict, what) -> dict:
    async with Client(cluster["scheduler"]["address"], asynchronous=True, timeout=30) as client:
        return await client.run(what)


def standby_processes() -> set[int]:
    """The standby runner of this test's server and every process of its group (the
    forkserver, the nannies' workers of the cluster it started in advance)."""
    state_dir = Path(jupyter_runtime_dir()) / "rapids-kf-clusters"
    standbys = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        cmdline = process.info["cmdline"] or []
        if "--standby" in cmdline and process.info["cwd"] == str(state_dir):
            standbys.append(process.pid)
    assert len(standbys) == 1, standbys
    return {p.pid for p in psutil.process_iter() if _group(p.pid) == standbys[0]}


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def test_a_default_cluster_is_handed_over_already_running(api):
    check = await advance_check(api, "ok")
    assert "2 workers" in check["message"] and "usable at once" in check["message"]
    prepared = standby_processes()
    status, created = await api.call("POST", "clusters", {"name": "quick", "workers": 2})
    assert status == 202
    try:
        running = await api.wait_for("quick", lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 2)
        assert running["cpu"] == "1" and running["workers"]["desired"] == 2
        workers = set((await worker_facts(running, os.getpid)).values())
        assert len(workers) == 2
        assert workers <= prepared, "the workers are those started before the request"
        async with Client(running["scheduler"]["address"], asynchronous=True, timeout=30) as client:
            assert await client.submit(sum, range(10)) == 45
        # The next one is prepared again.
        await advance_check(api, "ok")
    finally:
        await api.call("DELETE", "clusters/quick")
        await api.wait_gone("quick")


async def test_a_cluster_of_another_shape_or_with_env_starts_its_own(api):
    await advance_check(api, "ok")
    prepared = standby_processes()
    body = {"name": "own-env", "workers": 2, "env": {"ETL_STAGE": "mine"}}
    assert (await api.call("POST", "clusters", body))[0] == 202
    try:
        running = await api.wait_for("own-env", lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 2)
        stages = await worker_facts(running, lambda: __import__("os").environ.get("ETL_STAGE"))
        assert set(stages.values()) == {"mine"}, "the user's env reaches workers started for them"
        workers = set((await worker_facts(running, os.getpid)).values())
        assert len(workers) == 2 and not workers & prepared, "not the cluster started in advance"
    finally:
        await api.call("DELETE", "clusters/own-env")
        await api.wait_gone("own-env")

    assert (await api.call("POST", "clusters", {"name": "one", "workers": 1, "memory": "1Gi"}))[0] == 202
    try:
        running = await api.wait_for("one", lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 1)
        limits = await worker_facts(running, lambda dask_worker: dask_worker.memory_manager.memory_limit)
        assert list(limits.values()) == [2**30]
    finally:
        await api.call("DELETE", "clusters/one")
        await api.wait_gone("one")


async def test_a_deleted_cluster_is_gone_with_its_processes_and_its_name_is_free(api):
    for attempt in range(2):  # the same name again, at once
        assert (await api.call("POST", "clusters", {"name": "again", "workers": 2}))[0] == 202
        running = await api.wait_for("again", lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 2)
        spec = Path(jupyter_runtime_dir()) / "rapids-kf-clusters" / "again.spec.json"
        pids = [json.loads(spec.read_text())["pid"], *(await worker_facts(running, os.getpid)).values()]
        assert all(alive(pid) for pid in pids)
        assert (await api.call("DELETE", "clusters/again"))[0] == 202
        await api.wait_gone("again")
        # Gone from the list means gone from the machine: the runner and every worker ended.
        assert [pid for pid in pids if alive(pid)] == [], f"attempt {attempt}"


async def test_stopping_the_server_ends_the_standby_and_its_cluster(tmp_path):
    backend = LocalBackend(tmp_path, warm_workers=2)
    await backend.start()
    try:
        deadline = time.monotonic() + 120
        while (backend._launcher.warm_cluster() or {}).get("ready") is not True:
            assert time.monotonic() < deadline, "the cluster in advance never started"
            await asyncio.sleep(0.2)
        group = backend._launcher._standby.pid
        members = [p.pid for p in psutil.process_iter() if _group(p.pid) == group]
        assert len(members) >= 3, "the standby and the workers of its cluster"
    finally:
        await backend.stop()
    await asyncio.sleep(0.5)
    assert [pid for pid in members if alive(pid)] == []
    assert list(tmp_path.glob("_standby-*.json")) == []


def _group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None
