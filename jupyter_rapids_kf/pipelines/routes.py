"""Thin handler of `rapids-kf/pipelines` (Export as pipeline): same auth, XSRF and Error JSON as
the other routes (RapidsKFHandler)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..web.handlers import RapidsKFHandler
from .service import PipelineService


class PipelinesHandler(RapidsKFHandler):
    @property
    def pipelines(self) -> PipelineService:
        return self.settings["rapids_kf_pipelines"]

    @web.authenticated
    @authorized
    async def post(self) -> None:
        exported = await self.pipelines.export(self.json_body())
        self.reply(exported.to_json(), 201)


def pipeline_routes() -> list[tuple[str, type]]:
    return [(r"rapids-kf/pipelines", PipelinesHandler)]
