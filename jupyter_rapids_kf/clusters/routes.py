"""Thin handlers of the cluster routes (`rapids-kf/environment`, `clusters`, `image-nodes`):
parse, call the ClusterService, answer; auth and errors as RapidsKFHandler does."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import Invalid
from ..web.handlers import NAME, RapidsKFHandler


class EnvironmentHandler(RapidsKFHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.service.environment())


class ClustersHandler(RapidsKFHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(await self.service.list_text())

    @web.authenticated
    @authorized
    async def post(self) -> None:
        cluster = await self.service.create(self.json_body())
        self.reply(cluster.to_json(), 202)


class ClusterHandler(RapidsKFHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply((await self.service.get(name)).to_json())

    @web.authenticated
    @authorized
    async def patch(self, name: str) -> None:
        cluster = await self.service.patch(name, self.json_body())
        self.reply(cluster.to_json(), 202)

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        self.reply((await self.service.delete(name)).to_json(), 202)


class SnippetHandler(RapidsKFHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply(await self.service.snippet(name, self.get_argument("kind", "client")))


class LogsHandler(RapidsKFHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        logs = await self.service.logs(
            name, self.get_argument("component", "scheduler"), self.get_argument("tail", None)
        )
        self.reply({"logs": logs})


class TimelineHandler(RapidsKFHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply(await self.service.timeline(name))


class ImageNodesHandler(RapidsKFHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """A read: `?image=<reference>` (once), or nothing for the default image of new clusters."""
        unknown = sorted(set(self.request.query_arguments) - {"image"})
        if unknown:
            raise Invalid(f"unknown parameter {unknown[0]!r}; allowed: image", field=unknown[0])
        images = self.get_query_arguments("image", strip=False)
        if len(images) > 1:
            raise Invalid("give image once", field="image")
        self.reply(await self.service.image_nodes({"image": images[0]} if images else {}))


def cluster_routes() -> list[tuple[str, type]]:
    from ..web.dashboard_proxy import DashboardProxyHandler  # jupyter-server-proxy: only where routes are served

    return [
        (r"rapids-kf/environment", EnvironmentHandler),
        (r"rapids-kf/clusters", ClustersHandler),
        (r"rapids-kf/image-nodes", ImageNodesHandler),
        (rf"rapids-kf/clusters/{NAME}", ClusterHandler),
        (rf"rapids-kf/clusters/{NAME}/snippet", SnippetHandler),
        (rf"rapids-kf/clusters/{NAME}/logs", LogsHandler),
        (rf"rapids-kf/clusters/{NAME}/timeline", TimelineHandler),
        (rf"rapids-kf/clusters/{NAME}/dashboard(?:/(?P<proxied_path>.*))?", DashboardProxyHandler),
    ]
