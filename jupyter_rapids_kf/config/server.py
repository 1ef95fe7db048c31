"""Where clusters run and what the Jupyter server around them is told (proxy, dashboard links)."""

from __future__ import annotations

from traitlets import HasTraits, Bool, Enum


class ServerSettings(HasTraits):
    """c.RapidsKF: the backend, jupyter-server-proxy and kernels' dashboard links."""

    backend = Enum(
        ["auto", "local", "kubernetes"],
        default_value="auto",
        help="""Where clusters run. 'kubernetes': DaskCluster resources of the dask-kubernetes
        operator. 'local': dask-cuda / distributed processes on this machine. 'auto': kubernetes
        when credentials are found and the DaskCluster CRD is served, else local.""",
    ).tag(config=True)
    configure_proxy_allowlist = Bool(
        True,
        help="""jupyter-server-proxy's generic routes (/proxy/<port>/, /proxy/<host>:<port>/, absolute ones) reach only the dashboards of this user's clusters; False leaves them to jupyter-server-proxy (the Jupyter server's own port stays refused).""",
    ).tag(config=True)
    set_dashboard_link = Bool(
        True,
        help="Set DASK_DISTRIBUTED__DASHBOARD__LINK for kernels so dashboard links are proxied.",
    ).tag(config=True)
