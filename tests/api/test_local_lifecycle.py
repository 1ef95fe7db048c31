"""Local clusters over their life: adaptive scaling, failures, idle timeout, server restarts."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir

from jupyter_rapids_kf.backends.local.clusters import LocalBackend
from jupyter_rapids_kf.models.cluster import ClusterSpec


async def test_adaptive_scaling_shrinks_an_idle_cluster_and_can_be_turned_off(api):
    status, _ = await api.call("POST", "clusters", {"name": "adaptive", "workers": 3})
    assert status == 202
    try:
        await api.wait_for("adaptive", lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 3)
        status, cluster = await api.call("PATCH", "clusters/adaptive", {"adapt": {"minimum": 1, "maximum": 3}})
        assert status == 202 and cluster["adapt"] == {"minimum": 1, "maximum": 3}
        # No work to do: the adaptive policy retires workers down to the minimum.
        shrunk = await api.wait_for(
            "adaptive", lambda c: c["workers"]["desired"] == 1 and c["workers"]["ready"] == 1, what="scale-down"
        )
        assert shrunk["adapt"] == {"minimum": 1, "maximum": 3}
        status, cluster = await api.call("PATCH", "clusters/adaptive", {"adapt": None})
        assert status == 202 and cluster["adapt"] is None
        # A manual scale after adapt is off sticks.
        await api.call("PATCH", "clusters/adaptive", {"workers": 2})
        cluster = await api.wait_for("adaptive", lambda c: c["workers"]["ready"] == 2 and c["phase"] == "Running")
        assert cluster["adapt"] is None
        logs = await api.get("clusters/adaptive/logs", component="scheduler", tail="500")
        lines = logs["logs"][0]["lines"]
        assert any("Retire worker" in line or "retire" in line.lower() for line in lines), lines[-20:]
    finally:
        await api.call("DELETE", "clusters/adaptive")
        await api.wait_gone("adaptive")


async def test_a_cluster_that_cannot_start_is_failed_with_the_reason_and_can_be_deleted(api):
    # A Dask setting that does not parse makes the scheduler refuse to start.
    body = {"name": "broken", "workers": 1, "env": {"DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING_INTERVAL": "banana"}}
    status, _ = await api.call("POST", "clusters", body)
    assert status == 202
    failed = await api.wait_for("broken", lambda c: c["phase"] == "Failed", what="Failed")
    # The card's reason says what happened and names the value that broke it.
    reason = failed["reasons"][0]
    assert reason.startswith("the cluster process exited with code 1: "), reason
    assert "banana" in reason, reason
    logs = await api.get("clusters/broken/logs", component="scheduler")
    assert any("banana" in line for line in logs["logs"][0]["lines"])
    status, error = await api.call("PATCH", "clusters/broken", {"workers": 2})
    assert status == 400 and "failed" in error["error"]["message"]
    status, _ = await api.call("DELETE", "clusters/broken")
    assert status == 202
    await api.wait_gone("broken")


async def test_a_killed_cluster_says_so_in_plain_words_and_gives_no_snippet(api):
    status, _ = await api.call("POST", "clusters", {"name": "killed", "workers": 1})
    assert status == 202
    try:
        await api.wait_for("killed", lambda c: c["phase"] == "Running", what="Running")
        spec = Path(jupyter_runtime_dir()) / "rapids-kf-clusters" / "killed.spec.json"
        os.killpg(json.loads(spec.read_text())["pid"], signal.SIGKILL)  # as the OOM killer would
        failed = await api.wait_for("killed", lambda c: c["phase"] == "Failed", what="Failed")
        reason = failed["reasons"][0]
        assert "killed by signal 9 (SIGKILL)" in reason, reason
        assert "create it again" in reason, "the reason says what to do"
        status, error = await api.call("GET", "clusters/killed/snippet")
        assert status == 409, error
        assert error["error"]["code"] == "failed"
        assert "killed by signal 9" in error["error"]["message"]
        assert "delete" in error["error"]["fix"]
    finally:
        await api.call("DELETE", "clusters/killed")
        await api.wait_gone("killed")


async def test_an_idle_cluster_stops_itself_after_its_idle_timeout(api, events):
    async with events() as stream:
        await stream.next("clusters")
        started = time.monotonic()
        status, _ = await api.call("POST", "clusters", {"name": "sleepy", "workers": 1, "idle_timeout": 5})
        assert status == 202
        # Nobody deletes it: a clean self-close is a `deleted` event (a crash would be Failed).
        await stream.next("deleted", lambda d: d["name"] == "sleepy", timeout=90)
        assert time.monotonic() - started >= 5, "closed before its idle timeout"
        assert not any(k == "cluster" and d["phase"] == "Failed" for k, d in stream.seen)


def _spec(name: str) -> ClusterSpec:
    return ClusterSpec(name=name, workers=1, gpus_per_worker=0, image=None, worker_command="dask worker",
                       cpu="1", memory="1Gi", idle_timeout=600, env={})


async def _until(predicate, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(0.25)
    raise AssertionError("timed out")


async def test_clusters_survive_a_server_restart_and_are_found_again(tmp_path: Path):
    first = LocalBackend(tmp_path, stop_on_exit=False, poll_seconds=0.2)
    await first.start()
    pid = None
    try:
        await first.create(_spec("keeper"))

        async def running(backend):
            cluster = await backend.get("keeper")
            return cluster if cluster.phase == "Running" else None

        before = await _until(lambda: running(first))
        pid = first._runners["keeper"].pid
        child = first._runners["keeper"].process  # reaped here: this test plays both servers
        await first.stop()  # the Jupyter server stops; the cluster does not

        second = LocalBackend(tmp_path, stop_on_exit=True, poll_seconds=0.2)
        await second.start()
        try:
            after = await _until(lambda: running(second))
            assert after.scheduler.address == before.scheduler.address
            assert after.created == before.created
            scaled = await second.scale("keeper", 2)
            assert scaled.workers.desired == 2
            await _until(lambda: _ready(second, 2))
        finally:
            await second.stop()  # stop_on_exit: this one takes its clusters down
        await _until(lambda: _exited(child), timeout=30)
        assert list(tmp_path.glob("keeper*")) == []
    finally:
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


async def _ready(backend, n):
    cluster = await backend.get("keeper")
    return cluster.workers.ready == n and cluster.phase == "Running"


async def _exited(process):
    return process.poll() is not None


async def test_a_scale_sent_while_the_cluster_starts_is_applied_when_it_is_up(api):
    status, _ = await api.call("POST", "clusters", {"name": "eager", "workers": 1})
    assert status == 202
    try:
        status, cluster = await api.call("PATCH", "clusters/eager", {"workers": 2})
        assert status == 202, cluster
        assert cluster["workers"]["desired"] == 2
        await api.wait_for("eager", lambda c: c["phase"] == "Running" and c["workers"]["ready"] == 2, what="2 workers")
    finally:
        await api.call("DELETE", "clusters/eager")
        await api.wait_gone("eager")
