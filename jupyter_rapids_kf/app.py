"""Loading: the ExtensionApp that reads `c.RapidsKF`, builds the service and adds the routes."""

from __future__ import annotations

import os
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join

from .backends import choose_backend
from .config import RapidsKF
from . import generic_proxy, malformed
from .handlers import DASHBOARD_LINK, route_table
from .jobs.handlers import job_routes
from .jobs.service import JobService, default_jobs_backend
from .service import ClusterService

DASHBOARD_LINK_ENV = "DASK_DISTRIBUTED__DASHBOARD__LINK"


class RapidsKFApp(ExtensionApp):
    name = "jupyter_rapids_kf"
    load_other_extensions = True

    def initialize_settings(self) -> None:
        self.rapids_kf = RapidsKF(parent=self.serverapp, log=self.log)
        state_dir = Path(jupyter_runtime_dir()) / "rapids-kf-clusters"
        self.service = ClusterService(
            self.rapids_kf, lambda: choose_backend(self.rapids_kf, state_dir, self.serverapp)
        )
        self.settings["rapids_kf_service"] = self.service
        root = Path(self.serverapp.root_dir)
        self.jobs = JobService(self.service, root, default_jobs_backend(state_dir, root))
        self.settings["rapids_kf_jobs"] = self.jobs
        if self.rapids_kf.set_dashboard_link and DASHBOARD_LINK_ENV not in os.environ:
            # Kernels inherit this; distributed fills {host} and {port} for each Client, and
            # rapids-kf/dashboards/ sends the link on to that cluster's own dashboard route,
            # for the user's clusters only (the generic /proxy route is closed to the rest).
            base_url = self.serverapp.base_url
            os.environ[DASHBOARD_LINK_ENV] = url_path_join(base_url, DASHBOARD_LINK)

    def initialize_handlers(self) -> None:
        routes = route_table()
        self.handlers.extend(routes[:-1] + job_routes() + routes[-1:])  # the unknown-path 404 stays last
        policy = generic_proxy.Policy(
            self.serverapp,
            self.service.dashboard_owner,
            restrict=self.rapids_kf.configure_proxy_allowlist,
            admin_hosts=generic_proxy.admin_allowlist(self.serverapp),
        )
        generic_proxy.install(self.serverapp.web_app, self.serverapp.base_url, policy)
        malformed.install(url_path_join(self.serverapp.base_url, "rapids-kf"))

    async def _start_jupyter_server_extension(self, serverapp) -> None:
        # Choose and start the backend now, so the first request does not wait for it.
        try:
            await self.service.backend()
        except Exception as err:  # reported again on the first request, with its fix
            self.log.warning("rapids-kf: backend did not start: %s", err)

    async def stop_extension(self) -> None:
        await self.jobs.stop()
        await self.service.stop()
