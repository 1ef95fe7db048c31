"""A watch-fed cache of one namespace: list once, then follow the watch from that version.

Each kind has its own loop: list (remember `metadata.resourceVersion`), watch from there,
apply ADDED/MODIFIED/DELETED and BOOKMARK events, resume from the last version after a
dropped connection or an error (with backoff), and list again when the version is too old
(410 Gone). Readers never wait for the API: they read `objects` as it is.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any, Callable

from ...errors import RapidsKFError
from .client import Kube, Resource, is_gone, kube_status, map_error

log = logging.getLogger(__name__)

WATCH_SECONDS = 290  # server-side timeout of one watch request; it is then resumed
BACKOFF_MAX = 10.0
GONE_KEPT = 256  # names of deleted objects remembered (see Watched._gone)
HANDLED = "kopf.zalando.org/last-handled-configuration"  # what the operator (kopf) last finished

# (resource, event type, old object or None, new object or None)
Listener = Callable[[Resource, str, "dict | None", "dict | None"], None]


class Gone(Exception):
    """The watch's resourceVersion is too old: list again."""


def slim(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop what no reader uses and what costs the most memory."""
    meta = obj.get("metadata")
    if meta:
        meta.pop("managedFields", None)
        annotations = meta.get("annotations")
        if annotations:
            annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
            handled = annotations.pop(HANDLED, None)
            replicas = handled_replicas(handled)
            if replicas is not None:  # all scale_down.py reads of it: what the operator finished
                annotations[HANDLED] = json.dumps({"spec": {"worker": {"replicas": replicas}}})
    return obj


def handled_replicas(text: str | None) -> int | None:
    """The worker replica count in a kopf last-handled annotation, if there is one."""
    try:
        replicas = json.loads(text)["spec"]["worker"]["replicas"]  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return None
    return replicas if isinstance(replicas, int) else None


class Watched:
    """The objects of one kind in the namespace, kept current by list + watch."""

    def __init__(
        self,
        kube: Kube,
        resource: Resource,
        listener: Listener,
        *,
        label_selector: str | None = None,
        keep: Callable[[dict], bool] | None = None,
    ):
        self.kube = kube
        self.resource = resource
        self.label_selector = label_selector
        self.keep = keep or (lambda obj: True)
        self.objects: dict[str, dict[str, Any]] = {}
        self.resource_version: str | None = None
        self.synced = asyncio.Event()
        # Set once listed, or once the API refused for good (401/403/404: no permission, no
        # CRD), so that the first request reports the refusal instead of waiting for a retry.
        self.settled = asyncio.Event()
        self.error: RapidsKFError | None = None
        self.lists = 0  # how many times the full list was read (410 Gone, start)
        self._listener = listener
        self._task: asyncio.Task | None = None
        # name -> resourceVersion at which the watch (or a list) saw it go: a write's answer
        # read after that (the DELETE's own, marked for deletion) is older and must not
        # bring it back. Only the most recent are kept.
        self._gone: dict[str, int] = {}

    @staticmethod
    def key(obj: dict[str, Any]) -> str:
        meta = obj.get("metadata", {})
        return meta.get("name") or meta.get("uid", "")

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None

    def put(self, obj: dict[str, Any]) -> None:
        """Record an object a write just returned, unless the watch already has a newer one."""
        key = self.key(obj)
        old = self.objects.get(key)
        if old is not None and _newer_or_same(old, obj):
            return
        gone = self._gone.get(key)
        if old is None and gone is not None and (_version(obj) or 0) <= gone:
            return  # already deleted since this answer was made
        self._apply("MODIFIED" if old else "ADDED", slim(obj))

    # --- the loop --------------------------------------------------------------------------

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                if self.resource_version is None:
                    await self._list()
                await self._watch()
                delay = 0.5  # a watch that ended normally (server timeout): resume at once
            except asyncio.CancelledError:
                raise
            except Gone:
                log.info("rapids-kf: %s watch expired (410 Gone): listing again", self.resource.plural)
                self.resource_version = None
                continue
            except Exception as err:
                if is_gone(err):
                    self.resource_version = None
                    continue
                mapped = map_error(err, "watch", self.resource, self.kube.namespace)
                self.error = mapped
                if refused(err):
                    self.settled.set()
                log.warning("rapids-kf: watching %s: %s; retrying in %.1fs", self.resource.plural,
                            mapped.message, delay)
                await asyncio.sleep(delay * (0.8 + 0.4 * random.random()))
                delay = min(BACKOFF_MAX, delay * 2)

    def _params(self) -> dict[str, Any]:
        return {"labelSelector": self.label_selector} if self.label_selector else {}

    async def _list(self) -> None:
        data = await self.kube.request("GET", self.resource, verb="list", params=self._params() or None)
        self.lists += 1
        fresh = {}
        for obj in data.get("items") or []:
            if self.keep(obj):
                fresh[self.key(obj)] = slim(obj)
        listed = _version(data) or 0
        for key in list(self.objects):
            if key not in fresh:
                self._apply("DELETED", self.objects[key], at=listed)
        for obj in fresh.values():
            old = self.objects.get(self.key(obj))
            if old is None or not _newer_or_same(old, obj):
                self._apply("MODIFIED" if old else "ADDED", obj)
        self.resource_version = (data.get("metadata") or {}).get("resourceVersion") or "0"
        self.error = None
        self.synced.set()
        self.settled.set()

    async def _watch(self) -> None:
        params = {
            **self._params(),
            "watch": "true",
            "resourceVersion": self.resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": WATCH_SECONDS,
        }
        async with self.kube.stream(self.resource, params) as response:
            self.error = None
            async for line in response.aiter_lines():
                if not line.strip():
                    continue
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise Gone()
                    raise RuntimeError(f"watch error: {obj.get('message', obj)}")
                version = (obj.get("metadata") or {}).get("resourceVersion")
                if kind != "BOOKMARK":
                    if kind == "DELETED" or not self.keep(obj):
                        old = self.objects.get(self.key(obj))
                        if old is not None:
                            self._apply("DELETED", old, at=_version(obj))
                    else:
                        old = self.objects.get(self.key(obj))
                        if old is None or not _newer_or_same(old, obj):  # a write we recorded may be newer
                            self._apply(kind, slim(obj))
                if version:
                    self.resource_version = version

    def _apply(self, kind: str, obj: dict[str, Any], at: int | None = None) -> None:
        key = self.key(obj)
        old = self.objects.get(key)
        if kind == "DELETED":
            self.objects.pop(key, None)
            new = None
            self._gone[key] = max(at or 0, _version(obj) or 0)
            while len(self._gone) > GONE_KEPT:
                del self._gone[next(iter(self._gone))]
        else:
            self.objects[key] = obj
            self._gone.pop(key, None)
            new = obj
        try:
            self._listener(self.resource, kind, old, new)
        except Exception:  # a bad listener must not end the watch
            log.exception("rapids-kf: cache listener failed")


def refused(err: BaseException) -> bool:
    """An answer that waiting will not change: credentials, permission, or no such resource."""
    return kube_status(err) in (401, 403, 404)


def _version(obj: dict[str, Any]) -> int | None:
    """An object's (or a list's) resourceVersion as a number, None when it is opaque."""
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion"))
    except (TypeError, ValueError):
        return None


def _newer_or_same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether `old` is at least as recent as `new` (resourceVersions of one object only grow)."""
    a = (old.get("metadata") or {}).get("resourceVersion")
    b = (new.get("metadata") or {}).get("resourceVersion")
    if a is None or b is None:
        return False
    try:
        return int(a) >= int(b)
    except ValueError:  # opaque versions: trust the newest write
        return a == b
