"""What the checks and the timeline read of the Kubernetes backend: public, read-only members only
(never its private state), so checks.py, job_checks.py and timeline.py need not import clusters.py."""

from __future__ import annotations

from typing import Any, Mapping, Protocol

from ...config import RapidsKF
from ...errors import RapidsKFError
from ...models.cluster import Cluster
from .cache import Watched
from .client import Kube, Resource
from .status import Timeouts


class BackendView(Protocol):
    kube: Kube
    namespace: str
    namespace_source: str
    config: RapidsKF
    timeouts: Timeouts
    watched: Mapping[Resource, Watched]
    allowlist_state: str
    queue: Any  # queue/watch.py KueueWatch, None when c.RapidsKF.kueue_queue is empty

    @property
    def synced(self) -> bool: ...

    @property
    def in_server(self) -> bool:
        """False in `jupyter rapids-kf doctor` and the pipeline step: no Jupyter server to look at."""

    def known_clusters(self) -> Mapping[str, Cluster]: ...

    def cluster_pods(self, name: str) -> list[dict]: ...

    def cached_pods(self) -> list[dict]: ...

    def watched_clusters(self) -> list[dict]: ...

    def not_ready(self) -> RapidsKFError: ...

    def scheduler_address(self, cluster: Cluster) -> str: ...

    async def free_gpus(self) -> tuple[int | None, list[str]]: ...

    async def nodes(self) -> list[dict]: ...

    async def notebook_image(self) -> tuple[str | None, str]: ...

    async def notebook_tie(self) -> Any: ...

    async def image_nodes(self, image: str | None) -> Any: ...
