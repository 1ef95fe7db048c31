"""ClusterService: reads, writes checked by rules.py, snippets and change fan-out; the only door
to the cluster backend (jobs and pipeline steps reserve their clusters here too).

It sits between the thin HTTP handlers and a Backend. No tornado here, so it can be used
by the doctor command and tested without a server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import textwrap
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

from .. import __version__
from ..backends.base import Backend, BackendFacts, ChangeKind, Check, JobsBackend
from ..config import RapidsKF
from ..errors import Exists, Failed, Invalid, Limit, RapidsKFError
from ..models.cluster import (
    Cluster,
    ClusterSpec,
    check_name,
    check_text,
    check_type,
    parse_cluster_request,
    parse_scale_request,
)
from ..models.limits import LOG_TAIL_MAX, query_int
from ..models.timeline import StartHistory
from ..models.versions import describe as describe_skew
from ..web.events import SUBSCRIBER_QUEUE, Event, Subscription
from . import rules as cluster_rules
from .gpu_hours import GpuHoursBook
from .snippets import snippet as make_snippet

log = logging.getLogger(__name__)

LOG_COMPONENTS = ("scheduler", "worker")
BackendChooser = Callable[[], Awaitable[tuple[Backend, str]]]


class ClusterService:
    def __init__(self, config: RapidsKF, choose_backend: BackendChooser):
        self.config = config
        self._choose_backend = choose_backend
        self._backend: Backend | None = None
        self.backend_reason = ""
        self._start_lock = asyncio.Lock()
        self._subscribers: set[asyncio.Queue[Event | None]] = set()
        self._last_sent: dict[str, str] = {}
        self._list_text: str | None = None  # the answer to GET clusters, until the next change
        self._changes = 0
        self.starts = StartHistory()  # recent start-up durations per image, for ETAs
        self.gpu_hours = GpuHoursBook(config.gpu_hour_price, config.gpu_hour_currency)

    # --- lifecycle -------------------------------------------------------------------------

    async def backend(self) -> Backend:
        """The chosen backend, started on first use (the server may not run start hooks)."""
        if self._backend is not None:
            return self._backend
        async with self._start_lock:
            if self._backend is None:
                backend, reason = await self._choose_backend()
                backend.add_listener(self._on_change)
                await backend.start()
                self.backend_reason = reason
                self._backend = backend
                log.info("rapids-kf: %s backend (%s)", backend.name, reason)
        return self._backend

    async def stop(self) -> None:
        for queue in list(self._subscribers):
            self._offer(queue, None)
        if self._backend is not None:
            await self._backend.stop()

    # --- reads -----------------------------------------------------------------------------

    async def list(self) -> list[Cluster]:
        clusters = await (await self.backend()).list()
        return sorted(clusters, key=lambda c: c.name)

    async def list_text(self) -> str:
        """`{"clusters": [...]}` encoded, kept until the backend announces a change: a burst of
        lists (or of event streams opening) costs one encoding, not one per request."""
        backend = await self.backend()
        text = self._list_text
        if text is None or not getattr(backend, "announces_every_change", False):
            changes = self._changes
            clusters = [self._counted(c) for c in await self.list()]
            text = '{"clusters": [' + ", ".join(c.to_json_text() for c in clusters) + "]}"
            if changes == self._changes:  # nothing changed while listing: still true
                self._list_text = text
        return text

    async def get(self, name: str) -> Cluster:
        check_name(name)
        return self._counted(await (await self.backend()).get(name))

    async def environment(self) -> dict[str, Any]:
        backend = await self.backend()
        facts = await backend.facts()
        checks = await backend.checks() + self._config_checks()
        return {
            "version": __version__,
            "backend": backend.name,
            "backend_reason": self.backend_reason,
            "namespace": backend.namespace,
            "gpus_available": facts.gpus_available,
            "gpus": [{"name": g.name, "memory_total": g.memory_total} for g in facts.gpus],
            "defaults": cluster_rules.defaults(self.config, facts, suggest_name=True),
            "limits": cluster_rules.limits(self.config, facts),
            "protocols": cluster_rules.offered_protocols(facts),
            "profiles": [
                {"name": p["name"], "title": p.get("title", p["name"]), "request": p.get("request", {})}
                for p in self.config.profiles
            ],
            "checks": [c.to_json() for c in checks],
            "notes": facts.notes,
            "ends_with": facts.ends_with,
            "queue": facts.queue,
        }

    # --- writes ----------------------------------------------------------------------------

    async def create(self, body: Any) -> Cluster:
        backend = await self.backend()
        facts = await backend.facts()
        spec = cluster_rules.resolve(self.config, parse_cluster_request(body), facts)
        await self.reserve(spec.name)
        return self._counted(await backend.create(spec))

    async def resolve(self, body: Any) -> tuple[ClusterSpec, BackendFacts]:
        """A ClusterRequest body with defaults, profile and guardrails applied, as `create` does;
        used by jobs and pipeline export so a batch run gets the same shape and limits."""
        facts = await (await self.backend()).facts()
        return cluster_rules.resolve(self.config, parse_cluster_request(body), facts), facts

    async def reserve(self, name: str, why: str = "") -> None:
        """The one check before a cluster is made (by this route, a job or a pipeline step): the
        name is free, and the namespace has room (the max_clusters guardrail). `why` follows the
        message when the name is taken (a job's cluster takes the job's name)."""
        existing = await (await self.backend()).list()
        if any(c.name == name for c in existing):
            raise Exists(f"a cluster named {name!r} already exists" + (f"; {why}" if why else ""), field="name")
        if len(existing) >= self.config.max_clusters:
            raise Limit(
                f"this namespace already has {len(existing)} clusters; the limit is "
                f"{self.config.max_clusters}",
                fix="delete a cluster you no longer need, or ask your administrator to raise "
                "c.RapidsKF.max_clusters",
            )

    async def patch(self, name: str, body: Any) -> Cluster:
        check_name(name)
        what, value = parse_scale_request(body)
        backend = await self.backend()
        facts = await backend.facts()
        gpus = (await backend.get(name)).gpus_per_worker
        if what == "workers":
            cluster_rules.check_workers(self.config, "workers", value, facts, gpus)
            return self._counted(await backend.scale(name, value))
        if value is not None:
            cluster_rules.check_workers(self.config, "adapt.minimum", value.minimum, facts, gpus)
            cluster_rules.check_workers(self.config, "adapt.maximum", value.maximum, facts, gpus)
            if value.minimum > value.maximum:
                raise Invalid("adapt.minimum must not be larger than adapt.maximum", field="adapt.minimum")
        return self._counted(await backend.adapt(name, value))

    async def delete(self, name: str) -> Cluster:
        check_name(name)
        return self._counted(await (await self.backend()).delete(name))

    def _counted(self, cluster: Cluster) -> Cluster:
        """The cluster with its GPU-hours (counted here: the book lives as long as the server)."""
        return self.gpu_hours.count(cluster, time.time())

    async def snippet(self, name: str, kind: str) -> dict[str, str]:
        cluster = await self.get(name)
        if cluster.phase == "Failed":  # its address is dead: code that cannot connect helps nobody
            raise Failed(
                f"cluster {name!r} has failed: " + ("; ".join(cluster.reasons) or "no reason was given"),
                field="name",
                fix="delete the cluster and create it again; its scheduler logs may say more",
            )
        code = make_snippet(cluster, kind)
        if cluster.version_skew:
            # Said where the user runs the code, before a Client fails with a cryptic error.
            defaults = cluster_rules.defaults(self.config, await (await self.backend()).facts())
            warning = describe_skew(cluster.version_skew, defaults["image"])
            code = "\n".join(textwrap.wrap(f"WARNING: {warning}", 92, initial_indent="# ",
                                             subsequent_indent="# ")) + "\n" + code
        return {"kind": kind, "code": code}

    async def logs(self, name: str, component: str, tail: str | int | None) -> list[dict[str, Any]]:
        check_name(name)
        if component not in LOG_COMPONENTS:
            raise Invalid(f"component must be one of {', '.join(LOG_COMPONENTS)}", field="component")
        lines = query_int("tail", None if tail is None else str(tail), 200, 1, LOG_TAIL_MAX)
        backend = await self.backend()
        await backend.get(name)
        return [p.to_json() for p in await backend.logs(name, component, lines)]

    async def image_nodes(self, body: Any) -> dict[str, Any]:
        """On which GPU nodes an image is present (Kubernetes, where nodes may be read).
        `body`: {"image": "..."} or {} for the default image of new clusters."""
        if not isinstance(body, dict):
            raise Invalid("the request body must be a JSON object")
        unknown = sorted(set(body) - {"image"})
        if unknown:
            raise Invalid(f"unknown field {unknown[0]!r}; allowed: image", field=unknown[0])
        image = body.get("image")
        if "image" in body:
            check_type("image", image, str)
            check_text("image", image)
            if not image.strip() or len(image) > 512:
                raise Invalid("image must be an image reference of at most 512 characters", field="image")
        return (await (await self.backend()).image_nodes(image)).to_json()

    async def timeline(self, name: str) -> dict[str, Any]:
        """Where the start-up time went, with an ETA from recent starts of the same image."""
        check_name(name)
        backend = await self.backend()
        timeline = await backend.timeline(name)
        self.starts.record(timeline)
        if timeline.ready is None:
            # Starts of this image that no timeline was asked for yet (a few, newest first).
            others = [c for c in await backend.list() if c.name != name and c.image == timeline.image
                      and c.phase == "Running"]
            for other in sorted(others, key=lambda c: c.created, reverse=True)[:3]:
                try:
                    self.starts.record(await backend.timeline(other.name))
                except RapidsKFError:
                    continue
            self.starts.estimate(timeline)
        return timeline.to_json()

    async def jobs_backend(self, root: Path) -> JobsBackend:
        """Where jobs run: made by the cluster backend, which knows (the service never asks which)."""
        return (await self.backend()).jobs_backend(root)

    async def dashboard_target(self, name: str) -> str:
        check_name(name)
        return await (await self.backend()).dashboard_target(name)

    def dashboard_owner(self, host: str, port: int) -> str | None:
        """The user's cluster whose dashboard is at host:port; None before the backend started."""
        return self._backend.dashboard_owner(host, port) if self._backend is not None else None

    # --- events ----------------------------------------------------------------------------

    async def subscribe(self) -> "Subscription":
        """A stream of changes plus, in `snapshot`, the full list it starts from."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self._subscribers.add(queue)  # before listing, so no change falls in between
        try:
            text = await self.list_text()
        except BaseException:
            self._subscribers.discard(queue)
            raise
        snapshot = Event("clusters", json.loads(text), text=text)
        return Subscription(snapshot, queue, self._subscribers)

    def _on_change(self, kind: ChangeKind, cluster: Cluster) -> None:
        self._changes += 1
        self._list_text = None
        if kind == "deleted":
            self.gpu_hours.forget(cluster.namespace, cluster.name)
            self._last_sent.pop(cluster.name, None)
            event = Event("deleted", {"name": cluster.name, "namespace": cluster.namespace})
        else:
            data = self._counted(cluster).to_json()
            encoded = json.dumps(data, sort_keys=True, separators=(",", ":"))
            if self._last_sent.get(cluster.name) == encoded:
                return  # backends may report the same state twice; users only see changes
            self._last_sent[cluster.name] = encoded
            event = Event("cluster", data, text=encoded)  # encoded once for every subscriber
        for queue in list(self._subscribers):
            self._offer(queue, event)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Another kind of change (a job) on the same event stream."""
        event = Event(kind, data)
        for queue in list(self._subscribers):
            self._offer(queue, event)

    def _offer(self, queue: asyncio.Queue[Event | None], event: Event | None) -> None:
        try:
            queue.put_nowait(event)
        except asyncio.QueueFull:
            # Too slow to keep up: end its stream; the client reconnects and relists.
            self._subscribers.discard(queue)
            queue.get_nowait()
            queue.put_nowait(None)

    def _config_checks(self) -> list[Check]:
        checks = []
        try:
            from importlib.metadata import version

            from packaging.version import Version

            proxy = version("jupyter-server-proxy")
            ok = Version(proxy) >= Version("4.2.0")
            checks.append(
                Check(
                    "proxy",
                    ok,
                    f"jupyter-server-proxy {proxy}"
                    + ("" if ok else ": older than 4.2.0, which fixes CVE-2024-28179"),
                    None if ok else "pip install 'jupyter-server-proxy>=4.2'",
                )
            )
        except Exception as err:  # a missing package is reported, not raised
            checks.append(Check("proxy", False, f"jupyter-server-proxy: {err}", "pip install jupyter-server-proxy"))
        return checks
