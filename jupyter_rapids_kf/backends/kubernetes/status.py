"""A Cluster from the objects behind it: phase from pods and the scheduler's worker list,
reasons in plain words.

The operator's `status.phase` says Running as soon as the scheduler Service exists, so it is
only used to tell whether the operator acted at all. Everything a user sees comes from pods,
the worker group, the autoscaler, Warning events and the scheduler's own list of registered
workers (worker_lists.py): a worker is ready once the scheduler lists it, never because its
pod is Ready.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ...models.cluster import (
    Adapt,
    Cluster,
    EndsWith,
    Happening,
    GPUUsage,
    Scheduler,
    WorkerGroup,
    Workers,
    dashboard_path,
    derive_phase,
    parse_iso,
)
from ...models.protocols import kubernetes_ucx_address, protocol_of_args
from .crash_logs import Crash, crashes
from .lifetime import ENDS_WITH_ANNOTATION, LIFETIME_ANNOTATION
from .notebook_stop import stopped_with_notebook
from .spec import GPU_RESOURCE, MANAGED_LABEL, MANAGED_VALUE
from .worker_lists import WorkerList

CLUSTER_LABEL = "dask.org/cluster-name"
COMPONENT_LABEL = "dask.org/component"
GROUP_LABEL = "dask.org/workergroup-name"
# Container states that will not get better by waiting.
FAILED_WAITING = {
    "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName",
    "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
}
# Warning events already told through pod conditions and container states.
EVENTS_SHOWN_ELSEWHERE = {"FailedScheduling", "BackOff", "Failed", "Unhealthy"}
# Warnings of the API server's own ClusterIP / NodePort repair loops: bookkeeping it heals
# by itself (a busy API server warns "Cluster IP ... is not allocated; repairing" about a
# Service it has just made), nothing a user can act on.
REPAIR_CONTROLLERS = {"ipallocator-repair-controller", "portallocator-repair-controller"}
REPAIR_REASONS = {
    "ClusterIPNotAllocated", "ClusterIPAlreadyAllocated", "ClusterIPOutOfRange", "ClusterIPNotValid",
    "IPAddressNotAllocated", "IPAddressWrongReference",
    "PortNotAllocated", "PortAlreadyAllocated", "PortOutOfRange",
}
MAX_EVENT_REASONS = 3


def _age(seconds: float) -> str:
    return f"{int(seconds)} s" if seconds < 120 else f"{int(seconds // 60)} min"


class KubeCluster(Cluster):
    """A Cluster the backend never changes after making it: its JSON is built once.

    Each change of the objects behind a cluster makes a new instance, so lists served from the
    cache pay neither `dataclasses.asdict` nor JSON encoding on every request (500 clusters:
    15-30 ms on a busy 2-core machine).
    """

    _json: dict[str, Any] | None = None
    _text: str | None = None
    # Worker pods running that the scheduler has not listed yet: its list is read often then.
    settling: bool = False
    scheduler_running: bool = False  # its container runs (it may listen before its probe passes)

    def to_json(self) -> dict[str, Any]:
        if self._json is None:
            self._json = super().to_json()
        return self._json

    def to_json_text(self) -> str:
        if self._text is None:
            self._text = super().to_json_text()
        return self._text


@dataclass
class Objects:
    """Everything the cache holds about one cluster."""

    cluster: dict[str, Any]
    worker_group: dict[str, Any] | None = None  # the default one, `<name>-default`
    autoscaler: dict[str, Any] | None = None
    pods: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    delete_requested: bool = False
    other_groups: list[dict[str, Any]] = field(default_factory=list)  # add_worker_group's
    crash_lines: dict[Crash, str] = field(default_factory=dict)  # last log line of crashed runs
    worker_list: WorkerList | None = None  # the scheduler's registered workers; None: not read
    happened: list[Happening] = field(default_factory=list)  # what_happened.py's notes
    scale_undone_since: float | None = None  # operator_lag.py: the operator has not done the scale


@dataclass
class Timeouts:
    operator: float = 60.0  # seconds before "the operator is not acting" is said
    deletion: float = 60.0  # seconds before "deletion is stuck on the finalizer" is said


def _pod_ready(pod: dict[str, Any]) -> bool:
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


WORKER_NAME_ENV = "DASK_WORKER_NAME"  # the operator names each worker after its Deployment


def worker_name(pod: dict[str, Any]) -> str | None:
    for container in (pod.get("spec") or {}).get("containers") or []:
        for env in container.get("env") or []:
            if env.get("name") == WORKER_NAME_ENV and env.get("value"):
                return env["value"]
    return None


def _joined(pod: dict[str, Any], names: frozenset[str]) -> bool:
    """The scheduler lists this pod's worker (by its Dask name, else the pod name's prefix)."""
    if pod.get("metadata", {}).get("deletionTimestamp") or not names:
        return False
    name = worker_name(pod)
    if name is not None:
        return name in names
    pod_name = pod["metadata"].get("name", "")
    return any(n and (pod_name == n or pod_name.startswith(n + "-")) for n in names)


def _pod_running(pod: dict[str, Any]) -> bool:
    return not pod.get("metadata", {}).get("deletionTimestamp") and \
        (pod.get("status") or {}).get("phase") == "Running"


def _container_problems(pod: dict[str, Any]) -> list[tuple[str, str]]:
    """(reason, message) of containers that are waiting for a reason that will not pass.
    Crash loops of the pod's containers are `_crash_reasons`', with their last log line."""
    status = pod.get("status") or {}
    found = []
    for init, statuses in ((True, status.get("initContainerStatuses")), (False, status.get("containerStatuses"))):
        for cs in statuses or []:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason")
            if reason in FAILED_WAITING and (init or reason != "CrashLoopBackOff"):
                found.append((reason, waiting.get("message") or ""))
    return found


def _crash_reasons(pod: dict[str, Any], who: str, lines: dict[Crash, str], fix: str,
                   group: str = "") -> list[tuple[bool, str]]:
    """(failed, reason) for each container of the pod whose last run ended with an error:
    a crash loop fails the cluster, a run that has just exited is only said."""
    found = []
    for crash in crashes(pod):
        how = [crash.reason]
        if crash.terminated_reason == "OOMKilled" and crash.reason != "OOMKilled":
            how.append("OOMKilled")
        if crash.exit_code is not None:
            how.append(f"exit code {crash.exit_code}")
        verb = "keeps crashing" if crash.previous else "exited with an error"
        text = f"{who} pod {crash.pod}{f' (group {group})' if group else ''} {verb} ({', '.join(how)})"
        line = lines.get(crash)
        if line:
            text += f": {line}"
        elif line == "":
            text += ", printing nothing"
        if crash.terminated_reason == "OOMKilled":
            text += ". It ran out of memory: give it more memory"
        else:
            text += f". {fix}"
        found.append((crash.previous, text))
    return found


def _unschedulable(pod: dict[str, Any]) -> str | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False" and cond.get("reason") == "Unschedulable":
            return cond.get("message") or "no node can run this pod"
    return None


def _main_container(pod_spec: dict[str, Any] | None, name: str) -> dict[str, Any]:
    containers = (pod_spec or {}).get("containers") or [{}]
    return next((c for c in containers if c.get("name") == name), containers[0])


def _worker_command(container: dict[str, Any]) -> str:
    words = list(container.get("command") or []) + list(container.get("args") or [])
    if "--name" in words:
        words = words[: words.index("--name")]
    return " ".join(words) or "dask worker"


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def cluster_status(objs: Objects, namespace: str, timeouts: Timeouts, now: float | None = None) -> Cluster:
    now = time.time() if now is None else now
    dc = objs.cluster
    meta, spec = dc.get("metadata") or {}, dc.get("spec") or {}
    name = meta.get("name", "")
    created = meta.get("creationTimestamp") or ""
    age = now - (parse_iso(created) or now)

    worker_spec = spec.get("worker") or {}
    worker = _main_container(worker_spec.get("spec"), "worker")
    scheduler_container = _main_container((spec.get("scheduler") or {}).get("spec"), "scheduler")
    resources = worker.get("resources") or {}
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    gpus_per_worker = _int(limits.get(GPU_RESOURCE))
    protocol = protocol_of_args(list(worker.get("command") or []) + list(worker.get("args") or []))

    desired = _int(((objs.worker_group or {}).get("spec") or {}).get("worker", {}).get("replicas"),
                   _int(worker_spec.get("replicas")))
    default_group = f"{name}-default"
    schedulers, workers, other_workers = [], [], []
    ready_by_group: dict[str, int] = {}
    listing = objs.worker_list
    listed = listing.names if listing is not None and listing.names is not None else frozenset()
    waiting = 0  # worker pods running that the scheduler does not list
    for pod in objs.pods:
        labels = pod.get("metadata", {}).get("labels") or {}
        if labels.get(COMPONENT_LABEL) == "scheduler":
            schedulers.append(pod)
        elif labels.get(COMPONENT_LABEL) == "worker":
            group = labels.get(GROUP_LABEL, default_group)
            if group == default_group:
                workers.append(pod)
            else:
                other_workers.append(pod)
                if _joined(pod, listed):
                    ready_by_group[group] = ready_by_group.get(group, 0) + 1
                elif _pod_ready(pod):
                    waiting += 1
    other_groups = [_worker_group(g, name, ready_by_group) for g in objs.other_groups]
    scheduler_running = any(_pod_running(p) for p in schedulers)
    answered = listing is not None and listing.names is not None
    # Ready: its probe passed, or it answered the server (the comm port listens) already.
    scheduler_ready = any(_pod_ready(p) for p in schedulers) or (scheduler_running and answered)
    ready = sum(1 for p in workers if _joined(p, listed))
    started = sum(1 for p in workers if _pod_ready(p) and not _joined(p, listed))
    waiting += started
    holding = sum(1 for p in workers if _pod_ready(p))  # pods that hold their GPUs

    reasons: list[str] = []
    failed = False
    if (dc.get("status") or {}).get("phase") == "Error":
        failed = True
        reasons.append("the dask-kubernetes operator rejected this cluster (status Error); "
                       "see its events: kubectl describe daskcluster " + name)
    fixes = {
        "scheduler": "Check that the image starts `dask scheduler`; the scheduler logs have the whole output",
        "worker": f"Check the worker command ({_worker_command(worker)}) and the image; "
                  "the worker logs have the whole output",
    }
    for pod in schedulers + workers:
        component = pod["metadata"].get("labels", {}).get(COMPONENT_LABEL, "")
        for reason, message in _container_problems(pod):
            failed = True
            reasons.append(f"{component} pod {pod['metadata']['name']}: {reason}"
                           + (f": {message}" if message else ""))
        for crash_loop, text in _crash_reasons(pod, component, objs.crash_lines, fixes.get(component, "")):
            failed = failed or crash_loop
            reasons.append(text)
    unschedulable: dict[str, list[str]] = {}
    for pod in schedulers + workers:
        message = _unschedulable(pod)
        if message:
            component = pod["metadata"].get("labels", {}).get(COMPONENT_LABEL, "")
            unschedulable.setdefault(message, []).append(component)
    for message, components in unschedulable.items():
        who = (f"the {components[0]} pod" if len(components) == 1
               else _plural(len(components), components[0] + " pod") if len(set(components)) == 1
               else _plural(len(components), "pod"))
        reasons.append(f"{who} cannot be scheduled: {message}")
    reasons.extend(_other_group_problems(other_workers, name, objs.crash_lines, fixes["worker"]))

    deleting = bool(meta.get("deletionTimestamp")) or objs.delete_requested
    exists = bool(schedulers) or bool(workers)
    operator_acted = bool((dc.get("status") or {}).get("phase")) or objs.worker_group is not None or exists

    if deleting:
        since = parse_iso(meta.get("deletionTimestamp"))
        waiting = now - since if since else 0
        finalizers = meta.get("finalizers") or []
        if finalizers and waiting > timeouts.deletion:
            reasons = [
                f"deletion has waited more than {_age(timeouts.deletion)} for the dask-kubernetes operator to remove its "
                f"finalizer ({', '.join(finalizers)}): the operator seems not to be running. An "
                f"administrator can start it, or remove the finalizer: kubectl patch daskcluster {name} "
                f"-n {namespace} --type merge -p '{{\"metadata\":{{\"finalizers\":[]}}}}'"
            ]
        else:
            reasons = []
    elif not operator_acted:
        if age > timeouts.operator:
            reasons.append(
                f"the dask-kubernetes operator has not acted on this cluster within {_age(timeouts.operator)}: it is "
                "probably not running or not watching this namespace (ask your administrator; "
                "`jupyter rapids-kf doctor` checks it)"
            )
        else:
            reasons.append("waiting for the dask-kubernetes operator to create the scheduler and workers")

    phase = derive_phase(
        deleting=deleting, failed=failed, started=exists,
        scheduler_ready=scheduler_ready, desired=desired, ready=ready,
    )
    if phase in ("Creating", "Pending", "Scaling") and operator_acted and not deleting:
        if phase == "Creating":
            reasons.append("waiting for the scheduler pod to be created")
        elif not scheduler_ready and not unschedulable:
            reasons.append("the scheduler pod is starting")
        if scheduler_ready and desired > ready:
            if listing is None:
                reasons.append("asking the scheduler which workers have joined it")
            elif listing.error is not None:
                reasons.append(f"the server cannot reach the scheduler at {_address(name, namespace)} to "
                               f"see which workers have joined it ({listing.error}); no worker counts as "
                               "ready until it can")
        since = objs.scale_undone_since
        if phase == "Scaling" and since is not None and now - since > timeouts.operator:
            reasons.append(
                f"the dask-kubernetes operator has not finished the scale to {_plural(desired, 'worker')} "
                f"within {_age(timeouts.operator)}: it is probably not running (ask your administrator; "
                "`jupyter rapids-kf doctor` checks it). The workers already running keep computing"
            )
        if started and ready < desired:
            reasons.append(f"{_plural(started, 'worker')} started, waiting for "
                           f"{'it' if started == 1 else 'them'} to join the scheduler")
        if desired - ready - started > 0:
            reasons.append(f"{desired - ready - started} of {_plural(desired, 'worker')} not started yet")
        elif ready >= desired and len(workers) > desired:
            reasons.append(f"{_plural(len(workers) - desired, 'worker')} retiring")
        reasons.extend(_event_reasons(objs.events, parse_iso(created) or 0))

    stop = None if deleting else stopped_with_notebook(dc, desired, objs.autoscaler is not None, now)
    if stop is not None:
        reasons.insert(0, stop[1])
    adapt = None
    if objs.autoscaler is not None:
        a_spec = objs.autoscaler.get("spec") or {}
        adapt = Adapt(minimum=_int(a_spec.get("minimum")), maximum=_int(a_spec.get("maximum")))
    cluster = KubeCluster(
        name=name,
        namespace=namespace,
        backend="kubernetes",
        phase=phase,
        created=created,
        image=worker.get("image") or scheduler_container.get("image"),
        worker_command=_worker_command(worker),
        gpus_per_worker=gpus_per_worker,
        workers=Workers(desired=desired, ready=ready, pending=max(0, desired - ready)),
        scheduler=Scheduler(ready=scheduler_ready, address=_address(name, namespace),
                            ucx_address=kubernetes_ucx_address(_address(name, namespace))
                            if protocol == "ucx" else None),
        dashboard_url=dashboard_path(name),
        adapt=adapt,
        idle_timeout=_int(spec.get("idleTimeout")),
        reasons=_unique(reasons),
        managed=(meta.get("labels") or {}).get(MANAGED_LABEL) == MANAGED_VALUE,
        cpu=limits.get("cpu") or requests.get("cpu"),
        memory=limits.get("memory") or requests.get("memory"),
        gpus=GPUUsage(in_use=holding * gpus_per_worker + sum(g.ready * g.gpus_per_worker for g in other_groups)),
        worker_groups=other_groups,
        ends_with=_ends_with(meta),
        lifetime=_int((meta.get("annotations") or {}).get(LIFETIME_ANNOTATION)),
        stopped_with_notebook=stop[0] if stop else None,
        protocol=protocol,
        happened=[] if deleting else list(objs.happened),
    )
    cluster.scheduler_running = scheduler_running and not deleting
    group_gpus = {(g.get("metadata") or {}).get("name", ""): w.gpus_per_worker
                  for g, w in zip(objs.other_groups, other_groups)}
    held = [(p, gpus_per_worker) for p in workers if _pod_ready(p)] + [
        (p, group_gpus.get((p["metadata"].get("labels") or {}).get(GROUP_LABEL, ""), 0))
        for p in other_workers if _joined(p, listed)]
    cluster.gpus_held_since = tuple(
        (t, gpus) for t, gpus in ((_ready_time(p), gpus) for p, gpus in held) if t is not None)
    cluster.settling = cluster.scheduler_running and (waiting > 0 or not answered)
    return cluster


def _ready_time(pod: dict[str, Any]) -> float | None:
    """When the pod became Ready (it holds its GPUs from then: counted as GPU-hours)."""
    status = pod.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    return parse_iso(ready.get("lastTransitionTime")) or parse_iso(status.get("startTime"))


def _address(name: str, namespace: str) -> str:
    return f"tcp://{name}-scheduler.{namespace}:8786"


# Owners whose deletion means "the notebook is gone" (KubeFlow's Notebook, its StatefulSet).
NOTEBOOK_OWNERS = {("kubeflow.org", "Notebook"), ("apps", "StatefulSet")}


def _ends_with(meta: dict[str, Any]) -> EndsWith | None:
    """The notebook owning the cluster, or owning the lifetime Job that owns it."""
    annotations = meta.get("annotations") or {}
    for ref in meta.get("ownerReferences") or []:
        if ref.get("kind") == "Job" and ENDS_WITH_ANNOTATION in annotations:
            kind, _, name = annotations[ENDS_WITH_ANNOTATION].partition("/")
            if kind in ("Notebook", "StatefulSet") and name:
                return EndsWith(kind=kind, name=name)
        if (str(ref.get("apiVersion", "")).split("/")[0], ref.get("kind")) in NOTEBOOK_OWNERS:
            return EndsWith(kind=ref["kind"], name=ref.get("name", ""))
    return None


def _other_group_problems(pods: list[dict[str, Any]], cluster: str, lines: dict[Crash, str],
                          fix: str) -> list[str]:
    """Why workers of other groups are not running. Reasons only: the default group decides
    the phase, so a broken extra group does not fail a cluster whose own workers run."""
    found: list[str] = []
    stuck: dict[tuple[str, str], int] = {}
    for pod in pods:
        group = pod["metadata"]["labels"][GROUP_LABEL].removeprefix(f"{cluster}-")
        for reason, message in _container_problems(pod):
            found.append(f"worker pod {pod['metadata']['name']} (group {group}): {reason}"
                         + (f": {message}" if message else ""))
        found.extend(text for _, text in _crash_reasons(pod, "worker", lines, fix, group))
        message = _unschedulable(pod)
        if message:
            stuck[(group, message)] = stuck.get((group, message), 0) + 1
    for (group, message), n in stuck.items():
        found.append(f"{_plural(n, 'worker pod')} of group {group} cannot be scheduled: {message}")
    return found


def _worker_group(group: dict[str, Any], cluster: str, ready_by_group: dict[str, int]) -> WorkerGroup:
    """An extra worker group, named as the user named it (`add_worker_group("highmem")`)."""
    full_name = (group.get("metadata") or {}).get("name", "")
    worker = (group.get("spec") or {}).get("worker") or {}
    limits = (_main_container(worker.get("spec"), "worker").get("resources") or {}).get("limits") or {}
    return WorkerGroup(
        name=full_name.removeprefix(f"{cluster}-"),
        desired=_int(worker.get("replicas")),
        ready=ready_by_group.get(full_name, 0),
        gpus_per_worker=_int(limits.get(GPU_RESOURCE)),
    )


def _event_reasons(events: list[dict[str, Any]], since: float) -> list[str]:
    """Recent Warning events of the cluster's objects, newest first (quota refusals, ...)."""
    found = []
    for event in events:
        if event.get("type") != "Warning" or event.get("reason") in EVENTS_SHOWN_ELSEWHERE:
            continue
        source = event.get("reportingComponent") or (event.get("source") or {}).get("component")
        if source in REPAIR_CONTROLLERS or event.get("reason") in REPAIR_REASONS:
            continue
        when = parse_iso(event.get("lastTimestamp") or event.get("eventTime")
                          or (event.get("metadata") or {}).get("creationTimestamp"))
        if when is not None and when + 1 < since:
            continue  # about an earlier cluster of the same name
        obj = event.get("involvedObject") or {}
        found.append((when or 0, f"{event.get('reason')}: {obj.get('kind', '').lower()} "
                                 f"{obj.get('name', '')}: {event.get('message', '')}".strip()))
    found.sort(reverse=True)
    return [text for _, text in found[:MAX_EVENT_REASONS]]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def event_cluster(event: dict[str, Any], clusters: set[str]) -> str | None:
    """Which cluster an event is about: its DaskCluster, or objects named `<cluster>-...`."""
    name = (event.get("involvedObject") or {}).get("name") or ""
    if name in clusters:
        return name
    best = None
    parts = name.split("-")
    for i in range(len(parts) - 1, 0, -1):
        candidate = "-".join(parts[:i])
        if candidate in clusters:
            best = candidate
            break
    return best
