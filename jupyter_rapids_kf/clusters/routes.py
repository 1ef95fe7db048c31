"""Thin handlers of the cluster routes (`rapids-kf/environment`, `clusters`, `image-nodes`,
`dashboards`): parse, call the ClusterService, answer; auth and errors as RapidsKFHandler does."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..errors import Invalid, NotFound
from ..web.handlers import NAME, RapidsKFHandler

# Where kernels' Client widgets link their dashboard (DASK_DISTRIBUTED__DASHBOARD__LINK).
DASHBOARD_LINK = "rapids-kf/dashboards/{host}:{port}/status"


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
    # POST with a JSON body, not GET with a query: the image is checked like any request body
    # (unknown fields and wrong types are a 400); nothing is changed.
    async def post(self) -> None:
        self.reply(await self.service.image_nodes(self.json_body()))


class DashboardLinkHandler(RapidsKFHandler):
    """A Client's dashboard link (host:port as the kernel sees it) sent on to its cluster's route.

    Only the dashboards of the user's own clusters are known here; anything else is 404, so the
    link never reaches an arbitrary address."""

    @web.authenticated
    @authorized
    async def get(self, host: str, port: str, path: str | None = None) -> None:
        if path and ".." in path.split("/"):
            raise Invalid("a dashboard path may not contain '..'", field="path")
        await self.service.backend()
        name = self.service.dashboard_owner(host, int(port))
        if name is None:
            raise NotFound(
                f"no cluster of yours has its dashboard at {host}:{port}",
                fix="open the dashboard from the GPU clusters panel, or connect the Client with "
                "the snippet of a cluster listed there",
            )
        where = url_path_join(self.base_url, "rapids-kf/clusters", name, "dashboard", path or "status")
        query = self.request.query
        self.redirect(where + (f"?{query}" if query else ""))


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
        (r"rapids-kf/dashboards/(?P<host>[^/:@]+):(?P<port>\d{1,5})(?:/(?P<path>.*))?", DashboardLinkHandler),
    ]
