"""Faults, seen through the extension's REST API: the real operator stopped and started
again, the real kube-apiserver restarted under a running Jupyter server."""

from __future__ import annotations

import asyncio

import pytest

from .conftest import DASK_API, daskcluster_body, eventually, in_thread

NAMESPACE = "cp-faults"
pytestmark = [pytest.mark.controlplane,
              pytest.mark.usefixtures("dask_rights", "clean_namespace")]
FINALIZER = "kopf.zalando.org/KopfFinalizerMarker"


@pytest.fixture
def rapids_kf_options():
    # Shorter than the 60 s defaults, so the tier does not wait a minute per fault.
    return {"operator_timeout": 5, "deletion_timeout": 5}


def named(name: str, phase: str | None = None):
    return lambda c: c["name"] == name and (phase is None or c["phase"] == phase)


async def seen(stream, predicate, timeout: float) -> dict:
    """The first `cluster` event on the stream, so far or to come, that matches."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for kind, data in stream.seen:
            if kind == "cluster" and predicate(data):
                return data
        await asyncio.sleep(0.1)
    raise AssertionError(f"no matching cluster event in {timeout}s: "
                         f"{[(d.get('name'), d.get('phase')) for k, d in stream.seen if k == 'cluster']}")


def operator_check(env: dict) -> dict:
    return next(c for c in env["checks"] if c["name"] == "operator")


async def running(api, name: str, workers: int = 1) -> dict:
    code, cluster = await api.call("POST", "clusters", {"name": name, "workers": workers})
    assert code == 202, cluster
    return await api.wait_for(name, lambda c: c["phase"] == "Running", 90, "Running")


async def test_a_cluster_the_operator_does_not_act_on_is_reported(api, control_plane):
    await api.get("clusters")
    await in_thread(control_plane.stop_operator)
    try:
        code, cluster = await api.call("POST", "clusters", {"name": "ignored", "workers": 1})
        assert code == 202, cluster
        assert cluster["reasons"] == [
            "waiting for the dask-kubernetes operator to create the scheduler and workers"]
        cluster = await api.wait_for(
            "ignored", lambda c: any("has not acted on this cluster within 5 s" in r
                                     for r in c["reasons"]), 30, "the silent operator named")
        assert cluster["phase"] == "Creating" and cluster["workers"]["ready"] == 0
        assert "jupyter rapids-kf doctor" in cluster["reasons"][0]
        check = operator_check(await api.get("environment"))
        assert check["ok"] is False and "ignored" in check["message"]
    finally:
        await in_thread(control_plane.start_operator)
    # Once the operator runs, the same cluster comes up and the reason goes away.
    cluster = await api.wait_for("ignored", lambda c: c["phase"] == "Running", 90, "Running")
    assert cluster["reasons"] == []
    assert operator_check(await api.get("environment"))["ok"] is True


async def test_a_delete_stuck_on_the_finalizer_is_reported_and_completes(
        api, events, control_plane, api_namespace):
    await running(api, "stuck")
    await in_thread(control_plane.stop_operator)
    try:
        code, cluster = await api.call("DELETE", "clusters/stuck")
        assert code == 202 and cluster["phase"] == "Deleting", cluster
        cluster = await api.wait_for(
            "stuck", lambda c: any("finalizer" in r for r in c["reasons"]), 30,
            "the stuck deletion named")
        assert cluster["phase"] == "Deleting"
        [reason] = cluster["reasons"]
        assert FINALIZER in reason and "the operator seems not to be running" in reason
        assert f"kubectl patch daskcluster stuck -n {api_namespace}" in reason
        check = operator_check(await api.get("environment"))
        assert check["ok"] is False and "stuck" in check["message"]
        dc = await in_thread(control_plane.api.get,
                             f"{DASK_API}/namespaces/{api_namespace}/daskclusters/stuck")
        assert dc["metadata"]["deletionTimestamp"] and dc["metadata"]["finalizers"] == [FINALIZER]
    except BaseException:
        await in_thread(control_plane.start_operator)
        raise
    async with events() as stream:
        snapshot = await stream.next("clusters")
        assert [c["name"] for c in snapshot["clusters"]] == ["stuck"]
        await in_thread(control_plane.start_operator)
        gone = await stream.next("deleted", lambda d: d["name"] == "stuck", timeout=60)
    assert gone["namespace"] == api_namespace
    code, _ = await api.call("GET", "clusters/stuck")
    assert code == 404
    # The stuck cluster no longer fails the check; with no cluster left it cannot tell.
    check = operator_check(await api.get("environment"))
    assert check["status"] == "unknown" and check["message"].startswith("no cluster yet"), check


async def test_the_cache_recovers_from_an_api_server_restart(
        api, events, jp_serverapp, control_plane, api_namespace, caplog):
    await running(api, "survivor")
    service = jp_serverapp.web_app.settings["rapids_kf_service"]
    backend = service._backend
    dask_path = f"{DASK_API}/namespaces/{api_namespace}"
    async with events() as stream:
        await stream.next("clusters")
        restart = asyncio.ensure_future(in_thread(control_plane.restart, "kube-apiserver", 3.0))
        # While it is down, reads are served from the cache.
        await eventually(lambda: not control_plane.procs["kube-apiserver"].running or None, 30,
                         "the API server to stop")
        listed = (await api.get("clusters"))["clusters"]
        assert [(c["name"], c["phase"]) for c in listed] == [("survivor", "Running")]
        await restart
        # Right after it is back (before the backend's watches have reconnected), someone
        # else makes a cluster and scales ours, as a notebook's KubeCluster.scale(2) does.
        await in_thread(control_plane.api.request, "POST", f"{dask_path}/daskclusters",
                        json=daskcluster_body("meanwhile", api_namespace, workers=1))
        await in_thread(control_plane.api.request, "PATCH",
                        f"{dask_path}/daskworkergroups/survivor-default",
                        json={"spec": {"worker": {"replicas": 2}}},
                        headers={"Content-Type": "application/merge-patch+json"})
        made = await seen(stream, named("meanwhile", "Running"), 90)
        scaled = await seen(stream, lambda c: c["name"] == "survivor" and c["workers"]["ready"] == 2, 90)
    assert made["managed"] is False
    assert scaled["phase"] == "Running" and scaled["workers"]["desired"] == 2
    # The same server and backend throughout: it noticed the outage and recovered.
    assert service._backend is backend
    outage = [r.getMessage() for r in caplog.get_records("call")
              if r.getMessage().startswith("rapids-kf: watching")]
    assert outage, "the watches never noticed the API server going away"
    assert all(w.error is None for w in backend.watched.values())
    env = await api.get("environment")
    cache = next(c for c in env["checks"] if c["name"] == "cache")
    assert cache["ok"] is True, cache
    listed = {c["name"]: c for c in (await api.get("clusters"))["clusters"]}
    assert sorted(listed) == ["meanwhile", "survivor"]
    assert listed["survivor"]["workers"] == {"desired": 2, "ready": 2, "pending": 0}
