"""ClusterService rules: defaults < profile < request, guardrails, and the change fan-out."""

from __future__ import annotations

import asyncio
import json

import pytest

from jupyter_rapids_kf.backends.base import BackendFacts, Check
from jupyter_rapids_kf.config import RapidsKF
from jupyter_rapids_kf.errors import Exists, Invalid, Limit
from jupyter_rapids_kf.models.cluster import Cluster, Workers
from jupyter_rapids_kf.clusters.service import SUBSCRIBER_QUEUE, ClusterService


class RecordingBackend:
    """Keeps clusters in memory and records what the service asked for."""

    name = "kubernetes"
    namespace = "team-a"

    def __init__(self, facts: BackendFacts | None = None):
        self._facts = facts or BackendFacts(namespace="team-a", default_image="nb-image:1")
        self.clusters: dict[str, Cluster] = {}
        self.created = []
        self.listeners = []

    async def start(self): ...
    async def stop(self): ...

    def add_listener(self, listener):
        self.listeners.append(listener)

    async def facts(self):
        return self._facts

    async def checks(self):
        return [Check("operator", False, "not running", "install it")]

    async def list(self):
        return list(self.clusters.values())

    async def get(self, name):
        return self.clusters[name]

    async def create(self, spec):
        self.created.append(spec)
        cluster = Cluster(name=spec.name, namespace="team-a", backend="kubernetes",
                          workers=Workers(desired=spec.workers))
        self.clusters[spec.name] = cluster
        return cluster


def make_service(backend=None, **config):
    backend = backend or RecordingBackend()
    settings = RapidsKF(**config)

    async def choose():
        return backend, "test"

    return ClusterService(settings, choose), backend


def run(coro):
    return asyncio.run(coro)


def test_defaults_come_from_the_notebook_image_and_the_admin_config():
    service, backend = make_service(default_workers=3, default_cpu="2", idle_timeout=600)
    run(service.create({"name": "etl"}))
    spec = backend.created[0]
    # a GPU worker (the default here) gets host memory sized to an 80Gi GPU (gpu_workers.py)
    assert (spec.image, spec.workers, spec.cpu, spec.memory, spec.idle_timeout) == ("nb-image:1", 3, "2", "100Gi", 600)
    assert (spec.gpus_per_worker, spec.worker_command) == (1, "dask-cuda-worker")


def test_a_profile_fills_in_and_the_user_overrides_it():
    profiles = [{"name": "large", "title": "4 x GPU large", "request": {"workers": 4, "gpus_per_worker": 2, "memory": "64Gi"}}]
    service, backend = make_service(profiles=profiles)
    run(service.create({"name": "etl", "profile": "large", "workers": 6}))
    spec = backend.created[0]
    assert (spec.workers, spec.gpus_per_worker, spec.memory, spec.profile) == (6, 2, "64Gi", "large")
    environment = run(service.environment())
    assert environment["profiles"][0]["title"] == "4 x GPU large"
    assert environment["checks"][0] == {"name": "operator", "ok": False, "status": "failed", "message": "not running",
                                        "fix": "install it"}


def test_a_suggested_name_is_used_when_none_is_given():
    service, backend = make_service()
    cluster = run(service.create({}))
    assert cluster.name.startswith("gpu-etl-")


@pytest.mark.parametrize(
    "config,body,error,field",
    [
        (dict(allowed_images=["nvcr.io/nvidia/rapidsai/*"]), {"image": "docker.io/evil:1"}, Limit, "image"),
        (dict(max_gpus_per_worker=2), {"gpus_per_worker": 4}, Limit, "gpus_per_worker"),
        (dict(max_workers=8), {"workers": 9}, Limit, "workers"),
        (dict(max_idle_timeout=3600), {"idle_timeout": 0}, Limit, "idle_timeout"),
        ({}, {"profile": "nope"}, Invalid, "profile"),
    ],
)
def test_guardrails(config, body, error, field):
    service, backend = make_service(**config)
    with pytest.raises(error) as info:
        run(service.create(body))
    assert info.value.field == field
    assert backend.created == [], "nothing is sent when a guardrail refuses"


def test_allowed_images_accept_matching_images():
    service, backend = make_service(allowed_images=["nvcr.io/nvidia/rapidsai/*"])
    run(service.create({"image": "nvcr.io/nvidia/rapidsai/base:26.10"}))
    assert backend.created[0].image == "nvcr.io/nvidia/rapidsai/base:26.10"


def test_max_clusters_and_taken_names():
    service, backend = make_service(max_clusters=2)
    run(service.create({"name": "one"}))
    with pytest.raises(Exists):
        run(service.create({"name": "one"}))
    run(service.create({"name": "two"}))
    with pytest.raises(Limit, match="limit is 2"):
        run(service.create({"name": "three"}))


def test_hardware_bounds_are_invalid_not_limits():
    facts = BackendFacts(namespace="local", max_workers=1, max_gpus_per_worker=1, accepts_image=False)
    service, _ = make_service(RecordingBackend(facts))
    with pytest.raises(Invalid, match="1 GPU"):
        run(service.create({"workers": 2}))
    with pytest.raises(Invalid, match="image applies only"):
        run(service.create({"image": "x"}))


def test_the_gpu_count_bounds_gpu_clusters_only():
    """On a local GPU machine a CPU cluster (gpus_per_worker 0) may have more workers than GPUs."""

    class ScalingBackend(RecordingBackend):
        async def create(self, spec):
            cluster = await super().create(spec)
            cluster.gpus_per_worker = spec.gpus_per_worker
            return cluster

        async def scale(self, name, workers):
            self.clusters[name].workers = Workers(desired=workers)
            return self.clusters[name]

    facts = BackendFacts(namespace="local", max_workers=1, max_gpus_per_worker=1, accepts_image=False)
    service, backend = make_service(ScalingBackend(facts), max_workers=16)
    run(service.create({"name": "cpu", "workers": 4, "gpus_per_worker": 0}))
    run(service.create({"name": "gpu", "workers": 1, "gpus_per_worker": 1}))
    assert run(service.patch("cpu", {"workers": 8})).workers.desired == 8
    with pytest.raises(Invalid, match="1 GPU"):
        run(service.patch("gpu", {"workers": 2}))
    with pytest.raises(Limit):
        run(service.create({"name": "big", "workers": 17, "gpus_per_worker": 0}))


def test_changes_are_fanned_out_once_and_slow_subscribers_are_dropped():
    async def scenario():
        service, backend = make_service()
        await service.create({"name": "a"})
        fast = await service.subscribe()
        slow = await service.subscribe()
        assert [c["name"] for c in fast.snapshot.data["clusters"]] == ["a"]
        notify = backend.listeners[0]
        cluster = backend.clusters["a"]
        notify("cluster", cluster)
        notify("cluster", cluster)  # the same state twice is sent once
        event = await fast.get(1)
        assert event.event == "cluster"
        # Encoded once for all subscribers: the text on the wire is the cluster's JSON.
        assert event.encode() == f"event: cluster\ndata: {event.text}\n\n"
        # ... with its GPU-hours, which the service counts (a CPU cluster: none held).
        sent = json.loads(event.text)
        assert (sent["gpu_hours"]["held"], sent["gpu_hours"]["busy_share"]) == (0, None)
        assert {**sent, "gpu_hours": None} == cluster.to_json()
        with pytest.raises(asyncio.TimeoutError):
            await fast.get(0.05)
        for n in range(SUBSCRIBER_QUEUE + 5):
            cluster.workers = Workers(desired=n)
            notify("cluster", cluster)
            if n % 10 == 0:
                while True:  # the fast one keeps up
                    try:
                        await fast.get(0.001)
                    except asyncio.TimeoutError:
                        break
        notify("deleted", cluster)
        events = []
        while (event := await slow.get(1)) is not None:
            events.append(event)
        # An overflowing subscriber's stream ends instead of skipping changes: what it got is
        # every change in order up to a full queue, never the later ones (its client relists).
        desired = [e.data["workers"]["desired"] for e in events]
        assert all(e.event == "cluster" for e in events)
        assert desired == list(range(desired[0], desired[0] + len(events))), "no change skipped"
        assert SUBSCRIBER_QUEUE - 1 <= len(events) <= SUBSCRIBER_QUEUE
        assert desired[-1] < SUBSCRIBER_QUEUE + 4  # the last changes and "deleted" never came
        with pytest.raises(asyncio.TimeoutError):  # and nothing comes after the end
            await slow.get(0.05)
        last = None
        while True:
            try:
                last = await fast.get(0.05)
            except asyncio.TimeoutError:
                break
        assert last.event == "deleted" and last.data == {"name": "a", "namespace": "team-a"}
        fast.close()

    run(scenario())


class CountingBackend(RecordingBackend):
    """Announces every change, as the real backends do, and counts the lists it is asked for."""

    announces_every_change = True
    lists = 0

    async def list(self):
        self.lists += 1
        return await super().list()


def test_the_list_is_encoded_once_per_change_and_never_stale():
    async def scenario():
        service, backend = make_service(CountingBackend())
        await service.create({"name": "b"})
        backend.listeners[0]("cluster", backend.clusters["b"])  # the backend announces it
        first = await service.list_text()
        assert [c["name"] for c in json.loads(first)["clusters"]] == ["b"]
        lists = backend.lists
        for _ in range(50):  # a burst: no listing, no encoding
            assert await service.list_text() is first
        subscription = await service.subscribe()  # a stream opening starts from the same list
        assert subscription.snapshot.encode() == f"event: clusters\ndata: {first}\n\n"
        assert backend.lists == lists
        await service.create({"name": "a"})
        backend.clusters["b"].workers = Workers(desired=7)
        backend.listeners[0]("cluster", backend.clusters["b"])
        after = json.loads(await service.list_text())["clusters"]
        assert [c["name"] for c in after] == ["a", "b"] and after[1]["workers"]["desired"] == 7
        subscription.close()

    run(scenario())


def test_a_backend_that_does_not_announce_every_change_is_listed_each_time():
    async def scenario():
        service, backend = make_service(CountingBackend())
        backend.announces_every_change = False  # the Kubernetes backend with list_from_cache off
        await service.list_text()
        await service.list_text()
        assert backend.lists == 2

    run(scenario())


def test_a_negative_gpu_metrics_interval_is_refused_with_the_option_named():
    with pytest.raises(ValueError, match="gpu_metrics_interval must be 0"):
        RapidsKF(gpu_metrics_interval=-1)
    assert RapidsKF(gpu_metrics_interval=0).gpu_metrics_interval == 0


def test_the_local_backend_explains_itself_in_plain_words(tmp_path):
    """The panel header shows these notes: no option names or class names."""
    from jupyter_rapids_kf.backends.local.clusters import LocalBackend

    backend = LocalBackend(tmp_path, standby=False)
    for gpus in ([], ["GPU-0", "GPU-1"]):
        backend._gpus = gpus
        notes = asyncio.run(backend.facts()).notes
        assert notes and not any("gpus_per_worker" in n or "LocalCluster" in n for n in notes), notes
