"""Loading: the ExtensionApp that reads `c.RapidsKF`, builds the services and serves the one route
table (every capability's routes, and the catch-all 404 last)."""

from __future__ import annotations

import os
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join

from .clusters.build import cluster_service
from .clusters.routes import cluster_routes
from .config import RapidsKF
from .jobs.routes import job_routes
from .jobs.service import JobService
from .pipelines.routes import pipeline_routes
from .pipelines.service import PipelineService
from .web import generic_proxy, unreadable_bodies
from .web.handlers import (
    DASHBOARD_LINK,
    DASHBOARD_LINKS,
    UNKNOWN_PATH,
    DashboardLinkHandler,
    EventsHandler,
    UnknownPathHandler,
)

DASHBOARD_LINK_ENV = "DASK_DISTRIBUTED__DASHBOARD__LINK"


def route_table() -> list[tuple[str, type]]:
    """Every route of the extension. The catch-all 404 of unknown rapids-kf/ paths comes last
    here, whatever the rooms return: tornado takes the first match."""
    return [
        (r"rapids-kf/events", EventsHandler),
        *cluster_routes(),
        *job_routes(),
        *pipeline_routes(),
        (DASHBOARD_LINKS, DashboardLinkHandler),
        (UNKNOWN_PATH, UnknownPathHandler),
    ]


class RapidsKFApp(ExtensionApp):
    name = "jupyter_rapids_kf"
    load_other_extensions = True

    def initialize_settings(self) -> None:
        self.rapids_kf = RapidsKF(parent=self.serverapp, log=self.log)
        state_dir = Path(jupyter_runtime_dir()) / "rapids-kf-clusters"
        self.service = cluster_service(self.rapids_kf, state_dir, serverapp=self.serverapp)
        self.settings["rapids_kf_service"] = self.service
        root = Path(self.serverapp.root_dir)
        self.jobs = JobService(self.service, root)
        self.settings["rapids_kf_jobs"] = self.jobs
        self.settings["rapids_kf_pipelines"] = PipelineService(self.service, root)
        if self.rapids_kf.set_dashboard_link and DASHBOARD_LINK_ENV not in os.environ:
            # Kernels inherit this; distributed fills {host} and {port} for each Client, and
            # rapids-kf/dashboards/ sends the link on to that cluster's own dashboard route,
            # for the user's clusters only (the generic /proxy route is closed to the rest).
            base_url = self.serverapp.base_url
            os.environ[DASHBOARD_LINK_ENV] = url_path_join(base_url, DASHBOARD_LINK)

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table())
        policy = generic_proxy.Policy(
            self.serverapp,
            self.service.dashboard_owner,
            restrict=self.rapids_kf.configure_proxy_allowlist,
            admin_hosts=generic_proxy.admin_allowlist(self.serverapp),
        )
        generic_proxy.install(self.serverapp.web_app, self.serverapp.base_url, policy)
        unreadable_bodies.install(url_path_join(self.serverapp.base_url, "rapids-kf"))

    async def _start_jupyter_server_extension(self, serverapp) -> None:
        # Choose and start the backend now, so the first request does not wait for it.
        try:
            await self.service.backend()
        except Exception as err:  # reported again on the first request, with its fix
            self.log.warning("rapids-kf: backend did not start: %s", err)

    async def stop_extension(self) -> None:
        await self.jobs.stop()
        await self.service.stop()
