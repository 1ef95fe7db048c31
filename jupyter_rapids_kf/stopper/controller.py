"""The stopper's loop: watch KubeFlow Notebooks, carry out `decide.plan` for the clusters of
stopped ones. kr8s (async) for credentials and the HTTP session; plain dicts throughout.

Each pass lists the Notebooks (cluster-wide, or of each namespace given), then watches them for
`resync` seconds; a Notebook whose `kubeflow-resource-stopped` value is new to this process, or
one with clusters not yet released, is reconciled: its namespace's DaskClusters, worker groups,
autoscalers and worker Deployments are listed and each tied cluster's plan is carried out.
Everything is idempotent (the Record on the DaskCluster says how far a stop went), so a
restarted stopper simply reconciles every stopped notebook once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import kr8s.asyncio

from ..backends.kubernetes.notebook_stop import STOPPED_ANNOTATION
from .decide import Plan, plan, stopped_at

log = logging.getLogger("jupyter_rapids_kf.stopper")

DASK = "kubernetes.dask.org/v1"
MERGE = {"Content-Type": "application/merge-patch+json"}
FIX = ("apply manifests/stopper (kubectl apply -k manifests/stopper): its ClusterRole "
       "jupyter-rapids-kf-stopper grants exactly what the stopper does")


class StopperError(Exception):
    """A Kubernetes answer the stopper cannot act on, in words with the fix."""


def _message(resp) -> str:
    try:
        return resp.json().get("message") or resp.text
    except ValueError:
        return resp.text


class Stopper:
    def __init__(self, api, namespaces: list[str] | None = None, grace: float = 20.0,
                 resync: float = 10.0):
        self.api = api
        self.namespaces = namespaces or [None]  # None: every namespace
        self.grace, self.resync = grace, resync
        self.handled: dict[tuple[str, str], str] = {}  # (ns, notebook) -> stop fully released
        self.locks: dict[tuple[str, str], asyncio.Lock] = {}

    @classmethod
    async def connect(cls, **kwargs) -> Stopper:
        return cls(await kr8s.asyncio.api(), **kwargs)

    # --- requests ---------------------------------------------------------------------------
    async def _call(self, method: str, version: str, url: str, namespace: str | None = None,
                    what: str = "", ok: tuple[int, ...] = (), **kwargs) -> dict[str, Any] | None:
        async with self.api.call_api(method, version=version, namespace=namespace, url=url,
                                     raise_for_status=False, **kwargs) as resp:
            if resp.status_code in ok:
                return None
            if resp.status_code == 403:
                raise StopperError(f"the stopper may not {what or method + ' ' + url}"
                                   f"{f' in namespace {namespace}' if namespace else ''}: "
                                   f"{_message(resp)}. Fix: {FIX}")
            if resp.status_code == 404 and url.startswith("notebooks"):
                raise StopperError("KubeFlow's Notebook CRD (notebooks.kubeflow.org) is not served: "
                                   "the stopper is for KubeFlow clusters; install KubeFlow's notebook "
                                   "controller or do not deploy the stopper")
            if resp.status_code >= 400:
                raise StopperError(f"{method} {url}"
                                   f"{f' in namespace {namespace}' if namespace else ''}: "
                                   f"{resp.status_code} {_message(resp)}")
            return resp.json()

    async def _list(self, version: str, plural: str, namespace: str | None, **params) -> dict[str, Any]:
        return await self._call("GET", version, plural, namespace, what=f"list {plural}",
                                params=params) or {}

    # --- one notebook ---------------------------------------------------------------------
    async def reconcile(self, notebook: dict[str, Any]) -> list[Plan]:
        meta = notebook.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""))
        stop = stopped_at(notebook)
        if stop is None:
            self.handled.pop(key, None)
            return []
        if self.handled.get(key) == stop:
            return []
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            ns = key[0]
            clusters = (await self._list(DASK, "daskclusters", ns))["items"]
            groups = (await self._list(DASK, "daskworkergroups", ns))["items"]
            scalers = (await self._list(DASK, "daskautoscalers", ns))["items"]
            deployments = (await self._list("apps/v1", "deployments", ns,
                                            labelSelector="dask.org/component=worker"))["items"]
            plans, pending = [], False
            for dc in clusters:
                name = (dc.get("metadata") or {}).get("name", "")
                mine = [d for d in deployments
                        if ((d.get("metadata") or {}).get("labels") or {}).get("dask.org/cluster-name") == name]
                p = plan(notebook, dc, groups, scalers, mine, time.time(), self.grace)
                if not p.empty():
                    await self.carry_out(ns, p)
                    plans.append(p)
                    pending = pending or p.finish is None or not p.finish.released
                pending = pending or p.wait
            if not pending:
                self.handled[key] = stop
            return plans

    async def carry_out(self, ns: str, p: Plan) -> None:
        log.info("namespace %s, cluster %s: %s", ns, p.cluster, p.why)
        if p.record is not None:
            await self._annotate(ns, p.cluster, p.record.dump())
        for name in p.delete_autoscalers:
            log.info("  deleting DaskAutoscaler %s (it would scale the workers back up)", name)
            await self._call("DELETE", DASK, f"daskautoscalers/{name}", ns, what="delete daskautoscalers",
                             ok=(404,))
        for name in p.scale_groups:
            log.info("  scaling DaskWorkerGroup %s to 0", name)
            await self._call("PATCH", DASK, f"daskworkergroups/{name}", ns, what="patch daskworkergroups",
                             ok=(404,), headers=MERGE,
                             content=json.dumps({"spec": {"worker": {"replicas": 0}}}))
        for name in p.delete_deployments:
            log.info("  deleting worker Deployment %s, which the operator did not retire", name)
            await self._call("DELETE", "apps/v1", f"deployments/{name}", ns, what="delete deployments",
                             ok=(404,))
        if p.finish is not None:
            body: dict[str, Any] = {"metadata": {"annotations": {STOPPED_ANNOTATION: p.finish.dump()}}}
            if p.scale_cluster:  # in step with the worker group, as the notebook server keeps it
                body["spec"] = {"worker": {"replicas": 0}}
            await self._call("PATCH", DASK, f"daskclusters/{p.cluster}", ns, what="patch daskclusters",
                             ok=(404,), headers=MERGE, content=json.dumps(body))

    async def _annotate(self, ns: str, cluster: str, value: str) -> None:
        await self._call("PATCH", DASK, f"daskclusters/{cluster}", ns, what="patch daskclusters",
                         ok=(404,), headers=MERGE,
                         content=json.dumps({"metadata": {"annotations": {STOPPED_ANNOTATION: value}}}))

    # --- the loop ---------------------------------------------------------------------------
    async def _watch(self, namespace: str | None, version: str) -> AsyncIterator[tuple[str, dict]]:
        params = {"watch": "1", "resourceVersion": version, "timeoutSeconds": str(int(self.resync)),
                  "allowWatchBookmarks": "true"}
        async with self.api.call_api("GET", version="kubeflow.org/v1", namespace=namespace, url="notebooks",
                                     params=params, stream=True, raise_for_status=False,
                                     timeout=self.resync + 30) as resp:
            if resp.status_code >= 400:
                await resp.aread()
                raise StopperError(f"watching notebooks: {resp.status_code} {_message(resp)}")
            async for line in resp.aiter_lines():
                if line:
                    event = json.loads(line)
                    yield event.get("type", ""), event.get("object") or {}

    async def _safely(self, notebook: dict[str, Any]) -> None:
        try:
            await self.reconcile(notebook)
        except StopperError as err:
            log.error("%s", err)
        except Exception:  # one notebook's trouble must not stop the others
            log.exception("reconciling notebook %s", (notebook.get("metadata") or {}).get("name"))

    async def once(self, namespace: str | None) -> str:
        """One pass: list and reconcile; the list's resourceVersion."""
        listed = await self._call("GET", "kubeflow.org/v1", "notebooks", namespace, what="list notebooks")
        for nb in listed["items"]:
            await self._safely(nb)
        return listed["metadata"]["resourceVersion"]

    async def run_namespace(self, namespace: str | None) -> None:
        backoff = 1.0
        while True:
            try:
                version = await self.once(namespace)
                async with contextlib.aclosing(self._watch(namespace, version)) as events:
                    async for kind, obj in events:
                        if kind in ("ADDED", "MODIFIED"):
                            await self._safely(obj)
                        elif kind == "DELETED":
                            meta = obj.get("metadata") or {}
                            self.handled.pop((meta.get("namespace", ""), meta.get("name", "")), None)
                        elif kind == "ERROR":
                            break  # 410 Gone and the like: list again
                backoff = 1.0
            except StopperError as err:
                log.error("%s", err)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60)
            except Exception:
                log.exception("the watch of notebooks ended; listing again in %.0f s", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60)

    async def run(self) -> None:
        await asyncio.gather(*(self.run_namespace(ns) for ns in self.namespaces))
