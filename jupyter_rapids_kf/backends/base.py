"""The interfaces every backend implements (local processes, Kubernetes via the operator): one
for clusters, one for batch jobs (local subprocesses, the operator's DaskJob).

The service never knows which backend it talks to; a backend never knows about HTTP.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Protocol, runtime_checkable

from ..models.cluster import Adapt, Cluster, ClusterSpec
from ..models.job import Job
from ..models.timeline import Timeline

ChangeKind = Literal["cluster", "deleted"]
# Called with ("cluster", cluster) when a cluster appears or changes, ("deleted", cluster) when gone.
ChangeListener = Callable[[ChangeKind, Cluster], None]


CheckStatus = Literal["ok", "failed", "unknown"]


@dataclass
class Check:
    """One preflight check as shown by the Environment route and `jupyter rapids-kf doctor`.

    `status` is "ok", "failed", or "unknown" when the check cannot tell (say, nodes that may
    not be read); `ok` is true only for "ok", so an unknown is never shown as passed.
    """

    name: str
    ok: bool
    message: str
    fix: str | None = None
    status: CheckStatus | None = None  # None: from `ok`

    def __post_init__(self) -> None:
        if self.status is None:
            self.status = "ok" if self.ok else "failed"
        self.ok = self.status == "ok"

    @classmethod
    def unknown(cls, name: str, message: str, fix: str | None = None) -> "Check":
        return cls(name, False, message, fix, status="unknown")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PodLogs:
    pod: str
    lines: list[str]
    component: str = "worker"

    def to_json(self) -> dict[str, Any]:
        return {"pod": self.pod, "component": self.component, "lines": self.lines}


@dataclass
class GPUInfo:
    name: str
    memory_total: int | None = None  # bytes


@dataclass
class BackendFacts:
    """What the backend knows about where it runs; shapes the defaults and limits users see."""

    namespace: str
    gpus_available: int | None = None  # free GPUs (None: cannot tell)
    gpus: list[GPUInfo] = field(default_factory=list)
    # Each default_* left None falls back to the admin's c.RapidsKF.default_*.
    default_image: str | None = None  # e.g. the notebook pod's own image
    default_worker_command: str | None = None
    default_gpus_per_worker: int | None = None
    default_cpu: str | None = None
    default_memory: str | None = None
    accepts_image: bool = True  # the local backend runs in this server's environment
    max_workers: int | None = None  # a hardware bound on GPU clusters (local: GPU count), None when unbounded
    max_gpus_per_worker: int | None = None
    notes: list[str] = field(default_factory=list)
    # Kubernetes: what new clusters end with ({"kind", "name"}), None when nothing was found;
    # can_tie False where clusters have no owner to end with (the local backend), which
    # also rules out a lifetime (a Kubernetes Job owns the clusters that have one).
    ends_with: dict[str, str] | None = None
    can_tie: bool = False
    # protocol "ucx": True/False where this server's Python runs the clusters (local: ucxx and
    # distributed-ucxx importable), None where the cluster image decides (Kubernetes)
    ucx_installed: bool | None = None
    queue: str | None = None  # Kubernetes with Kueue: the LocalQueue new clusters wait in


@dataclass
class ImageNodes:
    """On which GPU nodes an image is present (backends/kubernetes/image_nodes.py)."""

    image: str
    known: bool  # False when nodes may not be read
    nodes: list[str] = field(default_factory=list)  # GPU nodes that hold the image
    hostnames: list[str] = field(default_factory=list)  # their kubernetes.io/hostname labels
    gpu_nodes: int = 0
    sizes: dict[str, int] = field(default_factory=dict)  # node -> bytes
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"image": self.image, "known": self.known, "nodes": self.nodes,
                "gpu_nodes": self.gpu_nodes, "message": self.message}


@runtime_checkable
class Backend(Protocol):
    name: str  # "local" or "kubernetes"
    namespace: str
    # True when every change of what list() returns is announced to the listeners, so the
    # service may keep the encoded list from one announcement to the next.
    announces_every_change: bool

    async def start(self) -> None:
        """Connect, start watches, adopt existing clusters. Must not block the event loop."""

    async def stop(self) -> None: ...

    def add_listener(self, listener: ChangeListener) -> None: ...

    async def facts(self) -> BackendFacts: ...

    async def checks(self) -> list[Check]: ...

    async def list(self) -> list[Cluster]: ...

    async def get(self, name: str) -> Cluster:
        """Raises NotFound for an unknown cluster."""

    async def create(self, spec: ClusterSpec) -> Cluster:
        """Start creating and return at once (phase Creating). Raises Exists for a taken name."""

    async def scale(self, name: str, workers: int) -> Cluster: ...

    async def adapt(self, name: str, adapt: Adapt | None) -> Cluster: ...

    async def delete(self, name: str) -> Cluster:
        """Ask for deletion and return at once (phase Deleting)."""

    async def logs(self, name: str, component: str, tail: int) -> list[PodLogs]: ...

    async def timeline(self, name: str) -> "Timeline":
        """The cluster's start-up steps (models/timeline.py); raises NotFound for an unknown cluster."""

    async def dashboard_target(self, name: str) -> str:
        """Base URL ("http://host:port") of the cluster's Dask dashboard, for the proxy only."""

    async def image_nodes(self, image: str | None) -> ImageNodes:
        """On which GPU nodes `image` (None: the default of new clusters) is present; `known`
        False where the backend has no nodes to tell of."""

    def jobs_backend(self, root: Path) -> "JobsBackend":
        """The jobs backend that runs batch jobs where this backend runs clusters; `root` is the
        Jupyter server's root, where the users' files are."""

    def dashboard_owner(self, host: str, port: int) -> str | None:
        """The cluster whose dashboard a Client sees at host:port (its own address), else None.

        Synchronous and from memory: the generic-proxy guard asks it for every /proxy request."""


# Called with the job when it appears or changes, and with (name, None) when it is gone.
JobListener = Callable[[str, "Job | None"], None]


class JobsBackend(Protocol):
    """Made by a cluster backend (`Backend.jobs_backend`), which knows where its jobs run."""

    name: str
    namespace: str

    async def start(self, listener: JobListener) -> None: ...

    async def stop(self) -> None: ...

    async def list(self) -> list[Job]: ...

    async def get(self, name: str) -> Job:
        """Raises NotFound."""

    async def create(self, job: Job, spec: ClusterSpec, source: Path, image: str | None) -> Job:
        """Starts the job (its cluster has `spec`'s shape) and returns at once."""

    async def delete(self, name: str) -> Job:
        """Cancels a running job and removes it with everything it made (pods, cluster)."""

    async def logs(self, name: str, tail: int) -> list[str]: ...

    async def executed(self, name: str) -> tuple[str | None, str | None]:
        """(executed notebook text, error) of a finished job, from where the runner left them;
        (None, error) when the runner wrote its copy itself."""

    async def mark_saved(self, name: str, output: str | None, error: str | None) -> None:
        """Remember that the executed copy was saved, so it is saved only once."""
