"""What the API server held for a namespace over time, and what it holds when a wait fails.

    with ApiTimeline(api, "real-browser") as timeline:   # polls twice a second
        ...
    timeline.pods             # every pod seen: node, image, cluster, component, phases
    timeline.lines()          # each DaskCluster's changes: made, marked for deletion
                              # (finalizers), each new version, gone; seconds from the start
    held(api, ns, cluster)    # the DaskCluster, its worker groups, Deployments and pods now

A card that stays "Deleting" has three places to be stuck: the API server (a finalizer the
operator has not removed), our server's watch cache (the object gone, the cache not told),
or the browser (our server says 404, the card not told). The report names each.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

DASK_API = "/apis/kubernetes.dask.org/v1"


class ApiTimeline:
    """Pods and DaskClusters of one namespace on the API server, polled every 0.5 s."""

    def __init__(self, api, namespace: str):
        self.api, self.namespace = api, namespace
        self.t0 = time.monotonic()
        self.pods: dict[str, dict] = {}
        self.changes: list[tuple[float, str, str]] = []  # (seconds, cluster, what)
        self._last: dict[str, tuple] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(0.5):
            try:
                pods = self.api.get(f"/api/v1/namespaces/{self.namespace}/pods")["items"]
                clusters = self.api.get(f"{DASK_API}/namespaces/{self.namespace}/daskclusters")["items"]
            except Exception:  # noqa: BLE001 - a missed sample only
                continue
            now = time.monotonic() - self.t0
            for pod in pods:
                labels = pod["metadata"].get("labels") or {}
                seen = self.pods.setdefault(pod["metadata"]["name"], {"phases": set()})
                seen.update(node=pod["spec"].get("nodeName"), image=pod["spec"]["containers"][0]["image"],
                            cluster=labels.get("dask.org/cluster-name"),
                            component=labels.get("dask.org/component"))
                seen["phases"].add(pod["status"].get("phase"))
            present = set()
            for dc in clusters:
                meta = dc["metadata"]
                present.add(meta["name"])
                state = (meta.get("deletionTimestamp"), tuple(meta.get("finalizers") or ()),
                         (dc.get("status") or {}).get("phase"))
                if self._last.get(meta["name"]) != state:
                    self._last[meta["name"]] = state
                    self.changes.append((now, meta["name"], (
                        f"rv {meta.get('resourceVersion')} phase {state[2]} finalizers {list(state[1])}"
                        + (f" deletionTimestamp {state[0]}" if state[0] else ""))))
            for name in set(self._last) - present:
                if self._last[name] is not None:
                    self._last[name] = None
                    self.changes.append((now, name, "gone from the API server"))

    def lines(self, cluster: str | None = None) -> list[str]:
        return [f"  {t:7.1f} s  {name}: {what}" for t, name, what in self.changes
                if cluster is None or name == cluster]

    def marked_at(self, cluster: str) -> float | None:
        """Seconds (from the start) at which the cluster was first seen marked for deletion."""
        return next((t for t, name, what in self.changes
                     if name == cluster and "deletionTimestamp" in what), None)

    def gone_at(self, cluster: str) -> float | None:
        return next((t for t, name, what in self.changes
                     if name == cluster and what == "gone from the API server"), None)

    def __enter__(self) -> ApiTimeline:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def held(api, namespace: str, cluster: str) -> str:
    """What the API server holds now for ``cluster``, one line per object."""
    out = []
    dc = api.http.get(f"{DASK_API}/namespaces/{namespace}/daskclusters/{cluster}")
    if dc.status_code == 404:
        out.append(f"DaskCluster {cluster}: 404 (gone)")
    else:
        meta = dc.json().get("metadata") or {}
        annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if "kopf" in k}
        out.append(f"DaskCluster {cluster}: rv {meta.get('resourceVersion')} deletionTimestamp "
                   f"{meta.get('deletionTimestamp')} finalizers {meta.get('finalizers')} "
                   f"kopf annotations {json.dumps(annotations)[:1500]}")
    selector = {"labelSelector": f"dask.org/cluster-name={cluster}"}
    for kind, path in (("DaskWorkerGroup", f"{DASK_API}/namespaces/{namespace}/daskworkergroups"),
                       ("Deployment", f"/apis/apps/v1/namespaces/{namespace}/deployments"),
                       ("Pod", f"/api/v1/namespaces/{namespace}/pods")):
        items = api.get(path, **({} if kind == "DaskWorkerGroup" else selector))["items"]
        if kind == "DaskWorkerGroup":
            items = [i for i in items if (i.get("spec") or {}).get("cluster") == cluster]
        for item in items:
            meta = item["metadata"]
            phase = (item.get("status") or {}).get("phase", "")
            out.append(f"{kind} {meta['name']}: {phase} deletionTimestamp {meta.get('deletionTimestamp')} "
                       f"finalizers {meta.get('finalizers')}")
        if not items:
            out.append(f"{kind}: none")
    return "\n".join(out)


def operator_lines(log: Path, namespace: str, cluster: str, last: int = 80) -> list[str]:
    """The operator's log lines that name the cluster (kopf prefixes `[ns/name]`), the last ones."""
    if not log.exists():
        return [f"(no {log})"]
    lines = [line for line in log.read_text(errors="replace").splitlines()
             if f"{namespace}/{cluster}" in line or f"={cluster}" in line]
    return lines[-last:]
