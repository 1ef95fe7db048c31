"""Export as pipeline, as the REST route does it: the request checked like a job's, then compiled."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..batch.files import user_file
from ..batch.request import parse_job_request
from ..clusters.service import ClusterService
from .export import Exported, export


class PipelineService:
    """What the pipelines route calls; no tornado here."""

    def __init__(self, clusters: ClusterService, root: Path):
        self.clusters = clusters
        self.root = root

    async def export(self, body: Any) -> Exported:
        return await export_pipeline(self.clusters, self.root, body)


async def export_pipeline(clusters: ClusterService, root: Path, body: Any) -> Exported:
    request = parse_job_request(body)
    source = user_file(root, request.path, (".ipynb",))
    # Checked now with the server's guardrails; the step checks again with the image's config.
    spec, facts = await clusters.resolve(request.cluster)
    image = spec.image or facts.default_image or clusters.config.default_image
    cluster_request = {k: v for k, v in asdict(spec).items() if k in request.cluster or k == "image"}
    cluster_request.pop("name", None)
    cluster_request["image"] = image
    return await asyncio.to_thread(export, source, request.path, image, cluster_request, request.parameters)
