"""KubernetesBackend: DaskClusters in the user's namespace, reconciled by the dask-kubernetes operator.

Reads come from the watch-fed cache (no API call per request); writes go to the API and their
answers are put into the cache at once, so a GET right after a POST sees the new cluster.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ...config import RapidsKF
from ...errors import Exists, Invalid, NoQueue, NotFound, RapidsKFError, Unavailable
from ...models.gpu_workers import GPUWorkerSettings
from ...models.cluster import Adapt, Cluster, ClusterSpec, iso_time
from ..base import BackendFacts, ChangeListener, Check, ImageNodes, PodLogs
from . import checks as preflight
from . import image_nodes, lifetime, notebook_owner, pod_logs, scaling
from . import proxy_allowlist
from . import timeline as kube_timeline
from .api_lists import list_from_api
from .cache import Watched
from .client import (
    DASKAUTOSCALERS,
    DASKCLUSTERS,
    DASKWORKERGROUPS,
    DEPLOYMENTS,
    EVENTS,
    PODS,
    Kube,
    Resource,
    detect_namespace,
)
from .crash_logs import CrashLogs, crashes
from .jobs import KubernetesJobs
from .queue.labels import mark_cluster
from .queue.watch import KueueWatch
from .kept_facts import KeptFacts
from .readings.gpu import GpuReadings
from .readings.idle import IdleReadings
from .readings.versions import SchedulerVersions
from .scale_down import ScaleDownRepair
from .spec import build_daskcluster, drop_none
from .status import CLUSTER_LABEL, Objects, Timeouts, cluster_status, event_cluster
from .operator_lag import ScaleWaits
from .what_happened import WhatHappened
from .worker_lists import WorkerLists

log = logging.getLogger(__name__)

TICK_SECONDS = 2.0  # re-evaluates time-based reasons (operator silent, deletion stuck)
START_WAIT = 5.0  # how long start() waits for the first lists (or a refusal) before serving errors
REQUIRED = (DASKCLUSTERS, DASKWORKERGROUPS, PODS)  # lists served only once these are read
READABLE = ("Running", "Scaling")  # phases in which a GPU cluster's scheduler is asked for GPU readings


class KubernetesBackend:
    name = "kubernetes"

    def __init__(self, config: RapidsKF, serverapp: Any = None, *, kube: Kube | None = None):
        self.config = config
        self.namespace, self.namespace_source = detect_namespace(config.namespace)
        self.kube = kube or Kube(self.namespace, timeout=config.kubernetes_timeout)
        self.timeouts = Timeouts(operator=config.operator_timeout, deletion=config.deletion_timeout)
        self._serverapp = serverapp
        self._listeners: list[ChangeListener] = []
        self._clusters: dict[str, Cluster] = {}
        self._delete_requested: set[str] = set()
        self._pods: dict[str, dict[str, dict]] = {}  # cluster name -> pod name -> pod
        self._groups: dict[str, dict[str, dict]] = {}  # cluster name -> worker group name -> group
        self._ticker: asyncio.Task | None = None
        self.kept_facts = KeptFacts(self.kube, config, self.namespace, lambda: preflight.free_gpus(self))
        self.allowlist = proxy_allowlist.SchedulerAllowlist(self.namespace, lambda: self._clusters.keys())
        self.allowlist_state = "not configured yet"
        self.gpu_readings = GpuReadings(config.gpu_metrics_interval, self._gpu_targets, self._recompute)
        self.versions = SchedulerVersions(config.gpu_metrics_interval, self._running_schedulers, self._recompute)
        self.idle = IdleReadings(config.gpu_metrics_interval, self._idle_targets, self._recompute)
        # Who counts as ready: read whatever gpu_metrics_interval says (see worker_lists.py).
        self.worker_lists = WorkerLists(config.worker_list_interval, self._worker_list_targets,
                                        self._recompute, ask=self._ask_workers)
        self.crash_logs = CrashLogs(self.kube, self._recompute)
        self.scale_down = ScaleDownRepair(self._delete_worker)
        self.what_happened = WhatHappened()
        self.scale_waits = ScaleWaits()
        # Kueue (docs/kueue.md): only watched when the admin turned it on.
        self.queue = KueueWatch(self.kube, config.kueue_queue, self._recompute_all) \
            if config.kueue_queue else None

        def watched(resource: Resource, **kwargs) -> Watched:
            return Watched(self.kube, resource, self._on_object, **kwargs)

        self.watched = {
            DASKCLUSTERS: watched(DASKCLUSTERS),
            DASKWORKERGROUPS: watched(DASKWORKERGROUPS),
            DASKAUTOSCALERS: watched(DASKAUTOSCALERS),
            PODS: watched(PODS, label_selector=CLUSTER_LABEL),
            # Only warnings are kept: they are what `reasons` quote.
            EVENTS: watched(EVENTS, keep=lambda e: e.get("type") == "Warning"),
        }

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        for watched in self.watched.values():
            watched.start()
        try:
            await asyncio.wait_for(
                asyncio.gather(*(self.watched[r].settled.wait() for r in REQUIRED)),
                min(START_WAIT, self.config.kubernetes_timeout),
            )
        except asyncio.TimeoutError:
            log.warning("rapids-kf: Kubernetes not readable yet: %s", self.not_ready().message)
        self._recompute_all()
        self._ticker = asyncio.ensure_future(self._tick())
        self.gpu_readings.start()
        self.versions.start()
        self.idle.start()
        self.worker_lists.start()
        if self.queue is not None:
            self.queue.start()
        if self.config.configure_proxy_allowlist:
            self.allowlist_state = proxy_allowlist.install(self._serverapp, self.allowlist)
        else:
            self.allowlist_state = "not configured (c.RapidsKF.configure_proxy_allowlist is False)"

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        await self.gpu_readings.stop()
        await self.versions.stop()
        await self.idle.stop()
        await self.worker_lists.stop()
        await self.crash_logs.stop()
        await self.scale_down.stop()
        if self.queue is not None:
            await self.queue.stop()
        await asyncio.gather(*(w.stop() for w in self.watched.values()))

    @property
    def announces_every_change(self) -> bool:
        # The cache changes only in _recompute, which emits; a list from the API is new each time.
        return self.config.list_from_cache

    def add_listener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def watched_clusters(self) -> list[dict]:
        return list(self.watched[DASKCLUSTERS].objects.values())

    # --- read-only, for the checks and the timeline (view.py) ------------------------------

    def known_clusters(self) -> Mapping[str, Cluster]:
        return MappingProxyType(self._clusters)

    def cluster_pods(self, name: str) -> list[dict]:
        return list(self._pods.get(name, {}).values())

    def cached_pods(self) -> list[dict]:
        return [p for group in self._pods.values() for p in group.values()]

    @property
    def in_server(self) -> bool:
        return self._serverapp is not None

    @property
    def synced(self) -> bool:
        return all(self.watched[r].synced.is_set() for r in REQUIRED)

    def not_ready(self) -> RapidsKFError:
        for resource in REQUIRED:
            watched = self.watched[resource]
            if not watched.synced.is_set() and watched.error is not None:
                return watched.error
        return Unavailable("still reading the clusters of namespace "
                           f"{self.namespace} from the Kubernetes API; try again in a moment")

    # --- facts and checks ------------------------------------------------------------------

    async def facts(self) -> BackendFacts:
        image, image_source = await self.notebook_image()
        gpus, gpu_notes = await self.free_gpus()
        tie = await self.notebook_tie()
        owner = tie.owner
        return BackendFacts(
            namespace=self.namespace,
            gpus_available=gpus,
            default_image=image,
            default_worker_command=self.config.default_worker_command,
            accepts_image=True,
            notes=[f"namespace {self.namespace} (from {self.namespace_source})",
                   f"default image from {image_source}", *gpu_notes, *self._queue_notes()],
            ends_with={"kind": owner.kind, "name": owner.name} if owner else None,
            can_tie=True,
            queue=self.queue_choice()[0] if self.queue is not None else None,
        )

    def queue_choice(self) -> tuple[str | None, str]:
        """The Kueue LocalQueue new clusters and jobs go to, and why; (None, why) when none."""
        if self.queue is None:
            return None, "Kueue is not used (c.RapidsKF.kueue_queue is empty)"
        return self.queue.choice()

    def _queue_notes(self) -> list[str]:
        if self.queue is None:
            return []
        name, why = self.queue.choice()
        return [f"new clusters wait for quota in Kueue: {why}" if name else why]

    def _queue_for_new(self) -> str | None:
        """The LocalQueue to mark a new cluster or job with; refuses when Kueue is on and none fits."""
        if self.queue is None:
            return None
        name, why = self.queue.choice()
        if name is None:
            raise NoQueue(why, fix="ask your administrator to create a LocalQueue in this namespace "
                                   "or to name one in c.RapidsKF.kueue_queue (docs/kueue.md)")
        return name

    async def checks(self) -> list[Check]:
        return await preflight.run(self)

    async def notebook_image(self) -> tuple[str | None, str]:
        return await self.kept_facts.notebook_image()

    async def notebook_tie(self) -> notebook_owner.Tie:
        return await self.kept_facts.notebook_tie()

    async def free_gpus(self) -> tuple[int | None, list[str]]:
        return await self.kept_facts.free_gpus()

    async def nodes(self) -> list[dict]:
        return await self.kept_facts.nodes()

    # --- reads -----------------------------------------------------------------------------

    async def list(self) -> list[Cluster]:
        if not self.config.list_from_cache:
            return await list_from_api(self.kube, self.timeouts, self.worker_lists.get)
        if not self.synced:
            raise self.not_ready()
        return list(self._clusters.values())

    async def get(self, name: str) -> Cluster:
        if not self.synced:
            raise self.not_ready()
        cluster = self._clusters.get(name)
        if cluster is None:
            raise NotFound(f"no cluster named {name!r} in namespace {self.namespace}", field="name")
        return cluster

    # --- writes ----------------------------------------------------------------------------

    async def create(self, spec: ClusterSpec) -> Cluster:
        if spec.name in self._clusters:
            raise Exists(f"a cluster named {spec.name!r} already exists", field="name")
        image = spec.image or (await self.notebook_image())[0] or self.config.default_image
        owner = (await self.notebook_tie()).owner if spec.tie_to_notebook else None
        body = build_daskcluster(
            spec,
            image=image,
            scheduler_cpu=self.config.scheduler_cpu,
            scheduler_memory=self.config.scheduler_memory,
            tolerations=self.config.worker_tolerations,
            owner=owner,
            gpu_workers=GPUWorkerSettings.from_config(self.config),
            mesh_sidecars=self.config.mesh_sidecars,
        )
        queue = self._queue_for_new()
        if queue:
            mark_cluster(body["spec"], queue)
        if spec.gpus_per_worker > 0:  # workers prefer GPU nodes that already hold the image
            found = await image_nodes.find(self.nodes, image)
            image_nodes.prefer(body["spec"]["worker"]["spec"], found.hostnames)
        job = await lifetime.create_job(self.kube, spec, image, owner) if spec.lifetime else None
        if job is not None:
            lifetime.mark(body, spec.lifetime, job, owner)
        try:
            created = await self.kube.request("POST", DASKCLUSTERS, verb="create", body=drop_none(body))
        except RapidsKFError:
            if job is not None:
                await scaling.restore(lambda: lifetime.delete_job(self.kube, spec.name))
            raise
        self._delete_requested.discard(spec.name)
        self.watched[DASKCLUSTERS].put(created)
        return self._clusters[spec.name]

    async def scale(self, name: str, workers: int) -> Cluster:
        self._usable(name)
        autoscaler = self.watched[DASKAUTOSCALERS].objects.get(name)
        if autoscaler is not None:
            # A fixed size replaces adaptive scaling, as KubeCluster.scale does.
            await scaling.delete_autoscaler(self.kube, self.watched, name)
        try:
            await scaling.set_replicas(self.kube, self.watched, name, workers)
        except RapidsKFError:
            if autoscaler is not None:  # leave the cluster as it was
                spec = autoscaler.get("spec") or {}
                await scaling.restore(lambda: scaling.create_autoscaler(
                    self.kube, self.watched, name, spec.get("minimum", 0), spec.get("maximum", 0)))
            raise
        return self._clusters[name]

    async def adapt(self, name: str, adapt: Adapt | None) -> Cluster:
        self._usable(name)
        existing = self.watched[DASKAUTOSCALERS].objects.get(name)
        if adapt is None:
            if existing is not None:
                await scaling.delete_autoscaler(self.kube, self.watched, name)
        elif existing is not None:
            await scaling.patch_autoscaler(self.kube, self.watched, name, adapt.minimum, adapt.maximum)
        else:
            await scaling.create_autoscaler(self.kube, self.watched, name, adapt.minimum, adapt.maximum)
        self._recompute(name)
        return self._clusters[name]

    async def delete(self, name: str) -> Cluster:
        if not self.synced:
            raise self.not_ready()
        if name not in self._clusters:
            raise NotFound(f"no cluster named {name!r} in namespace {self.namespace}", field="name")
        had_lifetime = self._clusters[name].lifetime > 0  # read first: the watch may drop it meanwhile
        options = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
        answer = await self.kube.request("DELETE", DASKCLUSTERS, name, verb="delete", body=options)
        self._delete_requested.add(name)
        if had_lifetime:  # its timer has nothing left to end
            await scaling.restore(lambda: lifetime.delete_job(self.kube, name))
        if isinstance(answer, dict) and answer.get("kind") == "DaskCluster" and \
                (answer.get("metadata") or {}).get("deletionTimestamp"):
            self.watched[DASKCLUSTERS].put(answer)
        self._recompute(name)
        return self._clusters.get(name) or Cluster(name=name, namespace=self.namespace, backend=self.name, phase="Deleting")

    def _usable(self, name: str) -> Cluster:
        if not self.synced:
            raise self.not_ready()
        cluster = self._clusters.get(name)
        if cluster is None:
            raise NotFound(f"no cluster named {name!r} in namespace {self.namespace}", field="name")
        if cluster.phase == "Deleting":
            raise Invalid(f"cluster {name!r} is being deleted", field="name")
        return cluster

    # --- logs and dashboard ----------------------------------------------------------------

    async def logs(self, name: str, component: str, tail: int) -> list[PodLogs]:
        await self.get(name)
        return await pod_logs.read(self.kube, list(self._pods.get(name, {}).values()), component, tail)

    async def image_nodes(self, image: str | None) -> ImageNodes:
        chosen = image or (await self.notebook_image())[0] or self.config.default_image
        return await image_nodes.find(self.nodes, chosen)

    async def timeline(self, name: str):
        return await kube_timeline.for_cluster(self, await self.get(name))

    def jobs_backend(self, root: Path) -> KubernetesJobs:
        # The file travels in a ConfigMap: the server's root is not needed on Kubernetes.
        return KubernetesJobs(self.kube, self.config, tie=self.notebook_tie, queue=self._queue_for_new)

    async def dashboard_target(self, name: str) -> str:
        await self.get(name)
        return f"http://{name}-scheduler.{self.namespace}:8787"

    def dashboard_owner(self, host: str, port: int) -> str | None:
        if port != proxy_allowlist.DASHBOARD_PORT:
            return None
        return self.allowlist.cluster_of(host)

    # --- from objects to clusters ----------------------------------------------------------

    def _on_object(self, resource: Resource, kind: str, old: dict | None, new: dict | None) -> None:
        obj = new or old or {}
        if resource is DASKCLUSTERS:
            self._recompute(obj["metadata"]["name"])
        elif resource in (DASKWORKERGROUPS, DASKAUTOSCALERS):
            cluster = (obj.get("spec") or {}).get("cluster") or obj["metadata"]["name"].removesuffix("-default")
            if resource is DASKWORKERGROUPS:
                groups = self._groups.setdefault(cluster, {})
                if new is None:
                    groups.pop(obj["metadata"]["name"], None)
                else:
                    groups[obj["metadata"]["name"]] = new
            self._recompute(cluster)
        elif resource is PODS:
            self.kept_facts.gpus_changed()
            names = set()
            for pod, add in ((old, False), (new, True)):
                if pod is None:
                    continue
                cluster = (pod["metadata"].get("labels") or {}).get(CLUSTER_LABEL)
                if cluster is None:
                    continue
                names.add(cluster)
                pods = self._pods.setdefault(cluster, {})
                if add:
                    pods[pod["metadata"]["name"]] = pod
                    self.crash_logs.notice(cluster, pod)
                else:
                    pods.pop(pod["metadata"]["name"], None)
                    if new is None:
                        self.crash_logs.forget(pod["metadata"]["name"])
            cluster = (obj["metadata"].get("labels") or {}).get(CLUSTER_LABEL)
            if cluster is not None:
                self.what_happened.pod_changed(cluster, old, new, self._deleting(cluster))
            for cluster in names:
                self.worker_lists.due(cluster)
                self._recompute(cluster)
        elif resource is EVENTS:
            cluster = event_cluster(obj, set(self.watched[DASKCLUSTERS].objects))
            if cluster:
                self._recompute(cluster)

    def _objects(self, name: str, dc: dict, reasons: bool = True) -> Objects:
        """What the cache holds about one cluster; `reasons` False leaves out what only the
        card's reasons need (the namespace's events, crash lines), for the 2 s tick."""
        events = []
        if reasons:
            names = set(self.watched[DASKCLUSTERS].objects)
            events = [e for e in self.watched[EVENTS].objects.values() if event_cluster(e, names) == name]
        groups = self._groups.get(name, {})
        pods = list(self._pods.get(name, {}).values())
        return Objects(
            cluster=dc,
            worker_group=groups.get(f"{name}-default"),
            other_groups=[g for group_name, g in groups.items() if group_name != f"{name}-default"],
            autoscaler=self.watched[DASKAUTOSCALERS].objects.get(name),
            pods=pods,
            events=events,
            delete_requested=name in self._delete_requested,
            crash_lines=self._crash_lines(pods) if reasons else {},
            worker_list=self.worker_lists.get(name),
            happened=self.what_happened.of(name, pods) if reasons else [],
            scale_undone_since=self.scale_waits.since(name, groups.get(f"{name}-default")),
        )

    def _deleting(self, name: str) -> bool:
        """The cluster is being deleted (or gone): its pods going is no news."""
        dc = self.watched[DASKCLUSTERS].objects.get(name)
        return dc is None or bool(dc["metadata"].get("deletionTimestamp")) or name in self._delete_requested

    def _crash_lines(self, pods: list[dict]) -> dict:
        lines = {}
        for pod in pods:
            for crash in crashes(pod):
                line = self.crash_logs.line(crash)
                if line is not None:
                    lines[crash] = line
        return lines

    def _recompute(self, name: str) -> None:
        dc = self.watched[DASKCLUSTERS].objects.get(name)
        if dc is None:
            gone = self._clusters.pop(name, None)
            self._delete_requested.discard(name)
            self.what_happened.forget(name)
            self.scale_waits.forget(name)
            if gone is not None:
                self._emit("deleted", gone)
            return
        cluster = cluster_status(self._objects(name, dc), self.namespace, self.timeouts)
        if self.queue is not None:
            cluster.queue = self.queue.state(name, self.cluster_pods(name), self._cluster_of_pod)
            if cluster.queue is not None:
                cluster.reasons = cluster.queue.lines() + cluster.reasons
        reading = self.gpu_readings.get(name)
        if reading is not None and _readable(cluster):
            cluster.gpus = replace(cluster.gpus, **reading)
        if _running(cluster):
            cluster.version_skew = self.versions.get(self.scheduler_address(cluster))
            if cluster.idle_timeout:
                cluster.idle_since = iso_time(self.idle.get(name))
        if self._clusters.get(name) != cluster:
            self._clusters[name] = cluster
            self._emit("cluster", cluster)

    def _cluster_of_pod(self, pod: str | None) -> str | None:
        for cluster, pods in self._pods.items():
            if pod in pods:
                return cluster
        return None

    def _gpu_targets(self) -> dict[str, str]:
        return {name: self.scheduler_address(c) for name, c in self._clusters.items() if _readable(c)}

    def _running_schedulers(self) -> dict[str, str]:
        return {name: self.scheduler_address(c) for name, c in self._clusters.items() if _running(c)}

    def _idle_targets(self) -> dict[str, str]:
        return {name: self.scheduler_address(c) for name, c in self._clusters.items()
                if _running(c) and c.idle_timeout}

    def _worker_list_targets(self) -> dict[str, tuple[str, bool]]:
        """Clusters whose scheduler container runs: address, and whether to read it often."""
        return {name: (self.scheduler_address(c), bool(getattr(c, "settling", False)))
                for name, c in self._clusters.items()
                if getattr(c, "scheduler_running", False) and c.phase != "Deleting"}

    async def _ask_workers(self, name: str, address: str) -> frozenset[str]:
        """The names of the workers the cluster's scheduler lists (tests of clusters whose
        pods run no process, kwok's and the emulator's, stand in for it here)."""
        return await self.worker_lists.ask_scheduler(address)

    async def registration_times(self, cluster: Cluster) -> dict[str, float] | None:
        """Worker name -> when the scheduler registered it (its own log); None if not known."""
        return await kube_timeline.registrations(self.scheduler_address(cluster))

    def scheduler_address(self, cluster: Cluster) -> str:
        """Where the server reaches a cluster's scheduler over Dask's comm (as the snippet does)."""
        return cluster.scheduler.address

    def _recompute_all(self) -> None:
        for name in list(self.watched[DASKCLUSTERS].objects):
            self._recompute(name)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            for name, cluster in list(self._clusters.items()):
                if cluster.phase in ("Creating", "Deleting") or cluster.happened or self.scale_waits.waiting(name):
                    self._recompute(name)  # time-based reasons; notes that expire
                elif cluster.phase in READABLE:
                    dc = self.watched[DASKCLUSTERS].objects.get(name)
                    if dc is not None:
                        self.scale_down.check(self._objects(name, dc, reasons=False), cluster.scheduler.address)

    async def _delete_worker(self, deployment: str) -> None:
        try:
            await self.kube.request("DELETE", DEPLOYMENTS, deployment, verb="delete")
        except NotFound:
            pass  # the operator got there after all

    def _emit(self, kind: str, cluster: Cluster) -> None:
        for listener in self._listeners:
            try:
                listener(kind, cluster)  # type: ignore[arg-type]
            except Exception:
                log.exception("rapids-kf: change listener failed")


def _running(cluster: Cluster) -> bool:
    return cluster.phase in READABLE and cluster.scheduler.ready


def _readable(cluster: Cluster) -> bool:
    return _running(cluster) and cluster.gpus_per_worker > 0
