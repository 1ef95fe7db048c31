"""A small Kubernetes API emulator on 127.0.0.1 for the API-tier tests and the benchmark.

Why not kmock 0.8's KubernetesEmulator: its lists carry the placeholder resourceVersion '...',
its objects none, and its watch replays every object as ADDED whatever version it is asked to
resume from, with no history and no 410 Gone. Those watch semantics are exactly what the
backend's cache must get right, so this emulator implements them (monotonic resourceVersions
on objects and lists, resume from a version, 410 after compaction, bookmarks) together with
what else the tests need: RBAC refusals, SelfSubjectAccessReview, pods/log, discovery with and
without the operator's CRDs, DaskCluster bodies validated against the operator's own CRD schema
(422 like the API server), and injected faults. State is changed directly by the tests (the
"operator" is the test), and every change is pushed to open watches.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tornado import httpserver, web
from tornado.iostream import StreamClosedError

from . import crd
from .emulator_util import merge, now, selects, status

DASK = "kubernetes.dask.org"
# (group, plural) -> (kind, namespaced)
KINDS: dict[tuple[str, str], tuple[str, bool]] = {
    ("", "pods"): ("Pod", True),
    ("", "services"): ("Service", True),
    ("", "events"): ("Event", True),
    ("", "nodes"): ("Node", False),
    (DASK, "daskclusters"): ("DaskCluster", True),
    (DASK, "daskworkergroups"): ("DaskWorkerGroup", True),
    (DASK, "daskautoscalers"): ("DaskAutoscaler", True),
}
VALIDATED = {"daskclusters", "daskworkergroups", "daskautoscalers"}
PATH = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[^/]+)/v1)(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[a-z]+)"
    r"(?:/(?P<name>[^/]+))?(?:/(?P<sub>[a-z]+))?/?$"
)


@dataclass
class Fault:
    method: str
    path: re.Pattern
    code: int = 500
    message: str = "injected fault"
    reason: str = "InternalError"
    times: int | None = None  # None: every time
    delay: float = 0.0
    text: str | None = None  # a non-Status body (e.g. '404 page not found')


@dataclass(eq=False)
class Watcher:
    key: tuple[str, str]
    namespace: str | None
    selector: str | None
    queue: asyncio.Queue


class Emulator:
    def __init__(self, namespace: str = "kubeflow-user", user: str = "system:serviceaccount:kubeflow-user:default-editor"):
        self.namespace = namespace
        self.user = user
        self.token = "emulator-token-" + uuid.uuid4().hex[:8]
        self.objects: dict[tuple[str, str], dict[tuple[str, str], dict]] = {k: {} for k in KINDS}
        self.rv = 100
        self.history: list[tuple[int, tuple[str, str], str, dict]] = []
        self.compacted = 0
        self.watchers: set[Watcher] = set()
        self.crd_served = True
        self.denied: set[tuple[str, str]] = set()  # (verb, plural or plural/sub)
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.logs: dict[str, str] = {}
        self.previous_logs: dict[str, str] = {}  # pod -> log of its crashed container (previous=true)
        self.received: list[tuple[str, dict]] = []  # (plural, body) of every create/patch result
        # Seconds the answer of a DELETE of an object with finalizers waits after the object
        # was marked and then removed (0: finalizers stay until a test removes the object).
        self.finalize_at_once = 0.0
        self.validation: list[str] = []  # schema errors of anything received
        self.server: httpserver.HTTPServer | None = None
        self.port = 0

    # --- serving ---------------------------------------------------------------------------

    def serve(self) -> int:
        app = web.Application([(r"/.*", Handler, {"emu": self})])
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        self.server = httpserver.HTTPServer(app)
        self.server.add_sockets([sock])
        self.port = sock.getsockname()[1]
        return self.port

    def stop(self) -> None:
        self.drop_watches()
        if self.server is not None:
            self.server.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_kubeconfig(self, path: Path, namespace: str | None = None) -> Path:
        context = {"cluster": "emulator", "user": "notebook"}
        if namespace:
            context["namespace"] = namespace
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "emulator",
            "clusters": [{"name": "emulator", "cluster": {"server": self.url}}],
            "users": [{"name": "notebook", "user": {"token": self.token}}],
            "contexts": [{"name": "emulator", "context": context}],
        }))
        return path

    # --- state ------------------------------------------------------------------------------

    def _next(self) -> str:
        self.rv += 1
        return str(self.rv)

    def _emit(self, key: tuple[str, str], kind: str, obj: dict) -> None:
        self.history.append((self.rv, key, kind, copy.deepcopy(obj)))
        for w in list(self.watchers):
            if w.key == key and w.namespace in (None, obj["metadata"].get("namespace")) and \
                    selects(w.selector, obj["metadata"].get("labels") or {}):
                w.queue.put_nowait({"type": kind, "object": copy.deepcopy(obj)})

    def put(self, plural: str, obj: dict, group: str | None = None) -> dict:
        """Create or replace an object (as a controller would), with a new resourceVersion."""
        key = (DASK if plural.startswith("dask") else "", plural) if group is None else (group, plural)
        kind, namespaced = KINDS[key]
        meta = obj.setdefault("metadata", {})
        if namespaced:
            meta.setdefault("namespace", self.namespace)
        store = self.objects[key]
        ident = (meta.get("namespace", ""), meta["name"])
        old = store.get(ident)
        meta.setdefault("uid", old["metadata"]["uid"] if old else str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", old["metadata"]["creationTimestamp"] if old else now())
        meta["resourceVersion"] = self._next()
        obj.setdefault("apiVersion", f"{key[0]}/v1" if key[0] else "v1")
        obj.setdefault("kind", kind)
        store[ident] = obj
        self._emit(key, "MODIFIED" if old else "ADDED", obj)
        return obj

    def get(self, plural: str, name: str, namespace: str | None = None) -> dict | None:
        key = (DASK if plural.startswith("dask") else "", plural)
        ns = "" if not KINDS[key][1] else (namespace or self.namespace)
        return self.objects[key].get((ns, name))

    def remove(self, plural: str, name: str, namespace: str | None = None) -> dict | None:
        key = (DASK if plural.startswith("dask") else "", plural)
        ns = "" if not KINDS[key][1] else (namespace or self.namespace)
        obj = self.objects[key].pop((ns, name), None)
        if obj is not None:
            obj["metadata"]["resourceVersion"] = self._next()
            self._emit(key, "DELETED", obj)
        return obj

    def expire(self) -> None:
        """Compact history: every watch resumed from an older version gets 410 Gone."""
        self.compacted = self.rv
        self.history.clear()
        self.drop_watches(gone=True)

    def drop_watches(self, gone: bool = False) -> None:
        for w in list(self.watchers):
            if gone:
                w.queue.put_nowait({"type": "ERROR", "object": status(410, "Expired", "too old resource version")})
            w.queue.put_nowait(None)

    def fail(self, method: str, path: str, code: int = 500, message: str = "injected fault", **kwargs) -> Fault:
        fault = Fault(method, re.compile(path), code, message, **kwargs)
        self.faults.append(fault)
        return fault

    def deny(self, verb: str, resource: str) -> None:
        self.denied.add((verb, resource))

    def count(self, method: str, pattern: str) -> int:
        rx = re.compile(pattern)
        return sum(1 for m, p in self.requests if m == method and rx.search(p))


class Handler(web.RequestHandler):
    def initialize(self, emu: Emulator) -> None:
        self.emu = emu
        self._watcher: Watcher | None = None

    def check_xsrf_cookie(self) -> None:  # an API server, not a web page
        pass

    def reply(self, code: int, body: Any) -> None:
        self.set_status(code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    async def prepare(self) -> None:
        emu = self.emu
        path = self.request.path
        emu.requests.append((self.request.method, self.request.uri))
        if self.request.headers.get("Authorization") != f"Bearer {emu.token}":
            self.reply(401, status(401, "Unauthorized", "Unauthorized"))
            return
        for fault in emu.faults:
            if fault.method in (self.request.method, "*") and fault.path.search(path) and fault.times != 0:
                if fault.times is not None:
                    fault.times -= 1
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.text is not None:
                    self.set_status(fault.code)
                    self.set_header("Content-Type", "text/plain")
                    self.finish(fault.text)
                elif fault.code:
                    self.reply(fault.code, status(fault.code, fault.reason, fault.message))
                return

    async def get(self) -> None:
        await self.route("GET")

    async def post(self) -> None:
        await self.route("POST")

    async def patch(self) -> None:
        await self.route("PATCH")

    async def delete(self) -> None:
        await self.route("DELETE")

    def on_connection_close(self) -> None:
        if self._watcher is not None:
            self._watcher.queue.put_nowait(None)

    async def route(self, method: str) -> None:
        emu, path = self.emu, self.request.path
        if path.rstrip("/") == "/version":
            return self.reply(200, {"major": "1", "minor": "34", "gitVersion": "v1.34.0-emulator"})
        if path == f"/apis/{DASK}/v1":
            if not emu.crd_served:
                return self.not_found_page()
            return self.reply(200, {"kind": "APIResourceList", "groupVersion": f"{DASK}/v1", "resources": [
                {"name": p, "namespaced": True, "kind": KINDS[(DASK, p)][0]}
                for g, p in KINDS if g == DASK]})
        if path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" and method == "POST":
            return self.access_review()
        match = PATH.match(path)
        if not match:
            return self.not_found_page()
        group, ns, plural, name, sub = (match.group(k) for k in ("group", "ns", "plural", "name", "sub"))
        key = (group or "", plural)
        if key not in KINDS or (group == DASK and not emu.crd_served):
            return self.not_found_page()
        watch = self.get_query_argument("watch", "") in ("true", "1")
        verb = {"GET": "watch" if watch else ("get" if name else "list"), "POST": "create",
                "PATCH": "patch", "DELETE": "delete"}[method]
        resource = f"{plural}/{sub}" if sub else plural
        if (verb, resource) in emu.denied:
            where = f' in the namespace "{ns}"' if ns else " at the cluster scope"
            return self.reply(403, status(
                403, "Forbidden",
                f'{plural}{"." + group if group else ""}{" " + repr(name) if name else ""} is forbidden: User '
                f'"{emu.user}" cannot {verb} resource "{resource}" in API group "{group or ""}"{where}',
                kind=plural, name=name or ""))
        store = emu.objects[key]
        if sub == "log":
            return self.pod_log(ns or "", name or "")
        if method == "GET" and watch:
            return await self.watch(key, ns)
        if method == "GET" and not name:
            selector = self.get_query_argument("labelSelector", None)
            items = [o for (ons, _), o in sorted(store.items()) if (not ns or ons == ns)
                     and selects(selector, o["metadata"].get("labels") or {})]
            return self.reply(200, {"kind": KINDS[key][0] + "List", "apiVersion": "v1",
                                    "metadata": {"resourceVersion": str(emu.rv)}, "items": items})
        ident = (ns or "", name or "")
        if method == "POST":
            body = json.loads(self.request.body)
            body.setdefault("metadata", {})["namespace"] = ns
            ident = (ns or "", body["metadata"].get("name", ""))
            if ident in store:
                return self.reply(409, status(409, "AlreadyExists",
                                              f'{plural}.{group} "{ident[1]}" already exists', name=ident[1], kind=plural))
            if not self.valid(plural, body):
                return
            return self.reply(201, emu.put(plural, body, group=key[0]))
        obj = store.get(ident)
        if obj is None:
            return self.reply(404, status(404, "NotFound", f'{plural}{"." + group if group else ""} "{name}" not found',
                                          name=name, kind=plural))
        if method == "GET":
            return self.reply(200, obj)
        if method == "PATCH":
            updated = merge(obj, json.loads(self.request.body))
            updated["metadata"]["uid"] = obj["metadata"]["uid"]
            if not self.valid(plural, updated):
                return
            return self.reply(200, emu.put(plural, updated, group=key[0]))
        options = json.loads(self.request.body) if self.request.body else {}
        emu.received.append(("delete:" + plural, options))
        if obj["metadata"].get("finalizers"):
            obj = copy.deepcopy(obj)
            obj["metadata"].setdefault("deletionTimestamp", now())
            marked = emu.put(plural, obj, group=key[0])
            if emu.finalize_at_once:
                # An operator that drops its finalizer at once: the watch says DELETED
                # before the client has read the DELETE's answer (the object, marked).
                answer = copy.deepcopy(marked)
                emu.remove(plural, name, ns)
                await asyncio.sleep(emu.finalize_at_once)
                return self.reply(200, answer)
            return self.reply(200, marked)
        return self.reply(200, emu.remove(plural, name, ns))

    def valid(self, plural: str, body: dict) -> bool:
        self.emu.received.append((plural, copy.deepcopy(body)))
        if plural in VALIDATED:
            problems = crd.errors(plural, body)
            if problems:
                self.emu.validation.extend(problems)
                kind = KINDS[(DASK, plural)][0]
                self.reply(422, status(422, "Invalid",
                                       f'{kind}.{DASK} "{body["metadata"].get("name")}" is invalid: ' + "; ".join(problems)))
                return False
        return True

    def not_found_page(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "text/plain")
        self.finish("404 page not found\n")

    def access_review(self) -> None:
        body = json.loads(self.request.body)
        attrs = body["spec"]["resourceAttributes"]
        resource = attrs["resource"] + (f"/{attrs['subresource']}" if attrs.get("subresource") else "")
        body["status"] = {"allowed": (attrs["verb"], resource) not in self.emu.denied}
        self.reply(201, body)

    def pod_log(self, ns: str, name: str) -> None:
        if (ns, name) not in self.emu.objects[("", "pods")]:
            return self.reply(404, status(404, "NotFound", f'pods "{name}" not found', name=name, kind="pods"))
        previous = self.get_query_argument("previous", "") == "true"
        logs = self.emu.previous_logs if previous else self.emu.logs
        if name not in logs:
            return self.reply(400, status(400, "BadRequest", (
                f'previous terminated container "worker" in pod "{name}" not found' if previous else
                f'container "worker" in pod "{name}" is waiting to start: ContainerCreating')))
        lines = logs[name].splitlines()
        tail = int(self.get_query_argument("tailLines", "0") or 0)
        text = "".join(line + "\n" for line in (lines[-tail:] if tail else lines))
        limit = int(self.get_query_argument("limitBytes", "0") or 0)
        self.set_header("Content-Type", "text/plain")
        self.finish(text.encode()[:limit] if limit else text.encode())

    async def watch(self, key: tuple[str, str], ns: str | None) -> None:
        emu = self.emu
        since = int(self.get_query_argument("resourceVersion", "0") or 0)
        timeout = float(self.get_query_argument("timeoutSeconds", "300"))
        selector = self.get_query_argument("labelSelector", None)
        self.set_header("Content-Type", "application/json")
        watcher = Watcher(key, ns, selector, asyncio.Queue())
        self._watcher = watcher
        if since and since < emu.compacted:
            watcher.queue.put_nowait({"type": "ERROR", "object": status(410, "Expired", "too old resource version")})
            watcher.queue.put_nowait(None)
        else:
            for rv, k, kind, obj in emu.history:
                if k == key and rv > since and (ns is None or obj["metadata"].get("namespace") == ns) \
                        and selects(selector, obj["metadata"].get("labels") or {}):
                    watcher.queue.put_nowait({"type": kind, "object": obj})
        emu.watchers.add(watcher)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            self.flush()
            while True:
                try:
                    event = await asyncio.wait_for(watcher.queue.get(), max(0.01, deadline - loop.time()))
                except asyncio.TimeoutError:
                    break
                if event is None:
                    break
                self.write(json.dumps(event) + "\n")
                await self.flush()
        except StreamClosedError:
            pass
        finally:
            emu.watchers.discard(watcher)
        if not self._finished:
            self.finish()
