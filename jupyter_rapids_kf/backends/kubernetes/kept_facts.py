"""What the backend reads about the notebook's surroundings, each kept for a while: the
notebook pod's own image, the Notebook new clusters end with, free GPUs and the nodes."""

from __future__ import annotations

import os
import time
from typing import Awaitable, Callable

from ...config import RapidsKF
from ...errors import RapidsKFError
from . import notebook_owner
from .client import NODES, PODS, Kube

FreeGpus = Callable[[], Awaitable[tuple[int | None, list[str]]]]


class KeptFacts:
    def __init__(self, kube: Kube, config: RapidsKF, namespace: str, count_free_gpus: FreeGpus):
        self.kube, self.config, self.namespace = kube, config, namespace
        self._count_free_gpus = count_free_gpus
        self._image: tuple[float, str | None, str] | None = None  # (when, image, where from)
        self._gpus: tuple[float, int | None, list[str]] | None = None
        self._tie: tuple[float, notebook_owner.Tie] | None = None
        self._nodes: tuple[float, list[dict] | None, RapidsKFError | None] | None = None

    async def notebook_image(self) -> tuple[str | None, str]:
        """The image of the notebook pod this server runs in (read once), so versions match."""
        if not self.config.use_notebook_image:
            return None, "c.RapidsKF.default_image (use_notebook_image is off)"
        if self._image is not None and (self._image[1] or time.monotonic() - self._image[0] < 60):
            return self._image[1], self._image[2]
        pod_name = os.environ.get("HOSTNAME", "")
        image, source = None, "c.RapidsKF.default_image (no HOSTNAME to find the notebook pod)"
        if pod_name:
            try:
                pod = await self.kube.request("GET", PODS, pod_name, verb="get")
                containers = (pod.get("spec") or {}).get("containers") or [{}]
                image = containers[0].get("image")
                source = f"the notebook pod {pod_name}"
            except RapidsKFError as err:
                source = f"c.RapidsKF.default_image (notebook pod {pod_name} not readable: {err.message})"
        self._image = (time.monotonic(), image, source)
        return image, source

    async def notebook_tie(self) -> notebook_owner.Tie:
        """What new clusters end with (read once; asked again after a minute while not found)."""
        if not self.config.tie_to_notebook:
            return notebook_owner.Tie(None, "c.RapidsKF.tie_to_notebook is off")
        if self._tie is None or (self._tie[1].owner is None and time.monotonic() - self._tie[0] > 60):
            self._tie = (time.monotonic(), await notebook_owner.find(self.kube, self.namespace))
        return self._tie[1]

    async def free_gpus(self) -> tuple[int | None, list[str]]:
        # Unknown capacity (nodes not readable) is asked again only every 5 minutes.
        if self._gpus is None or time.monotonic() - self._gpus[0] > (30 if self._gpus[1] is not None else 300):
            free, notes = await self._count_free_gpus()
            self._gpus = (time.monotonic(), free, notes)
        return self._gpus[1], self._gpus[2]

    def gpus_changed(self) -> None:
        if self._gpus is not None and self._gpus[1] is not None:
            self._gpus = None  # GPUs in use changed: count free GPUs again when asked

    async def nodes(self) -> list[dict]:
        """The cluster's nodes (GPU capacity, images held), read at most every 30 s; a refusal
        (notebooks may not read nodes without manifests/optional) is remembered for 5 minutes."""
        if self._nodes is None or time.monotonic() - self._nodes[0] > (30 if self._nodes[2] is None else 300):
            try:
                items = (await self.kube.request("GET", NODES, verb="list")).get("items") or []
                self._nodes = (time.monotonic(), items, None)
            except RapidsKFError as err:
                self._nodes = (time.monotonic(), None, err)
        if self._nodes[2] is not None:
            raise self._nodes[2]
        return self._nodes[1] or []
