"""Thin handlers of `rapids-kf/jobs`: same auth, XSRF and Error JSON as the cluster routes
(RapidsKFHandler)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..web.handlers import NAME, RapidsKFHandler
from .service import JobService


class JobsBase(RapidsKFHandler):
    @property
    def jobs(self) -> JobService:
        return self.settings["rapids_kf_jobs"]


class JobsHandler(JobsBase):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply({"jobs": [j.to_json() for j in await self.jobs.list()]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        self.reply((await self.jobs.create(self.json_body())).to_json(), 202)


class JobHandler(JobsBase):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply((await self.jobs.get(name)).to_json())

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        self.reply((await self.jobs.delete(name)).to_json(), 202)


class JobLogsHandler(JobsBase):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply({"lines": await self.jobs.logs(name, self.get_argument("tail", None))})


def job_routes() -> list[tuple[str, type]]:
    return [
        (r"rapids-kf/jobs", JobsHandler),
        (rf"rapids-kf/jobs/{NAME}", JobHandler),
        (rf"rapids-kf/jobs/{NAME}/logs", JobLogsHandler),
    ]
