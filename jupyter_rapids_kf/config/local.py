"""Settings of the local backend (clusters as processes on this machine)."""

from __future__ import annotations

from traitlets import HasTraits, Bool


class LocalSettings(HasTraits):
    """c.RapidsKF: the local backend's processes."""

    stop_local_clusters_on_exit = Bool(
        False,
        help="""Stop local clusters when the Jupyter server stops. By default they keep
        running (up to their idle timeout) and are found again after a restart.""",
    ).tag(config=True)
    local_standby = Bool(
        True,
        help="""Keep one idle process with dask already imported, so that a new local
        cluster starts a few seconds sooner (costs one idle Python process).""",
    ).tag(config=True)
    local_warm_cluster = Bool(
        True,
        help="""With local_standby, the standby process also starts the default CPU cluster
        (default_workers workers, default cpu and memory) in advance, and hands it to the next
        new cluster of exactly that shape with no environment of its own, which is then usable
        at once. Costs an idle scheduler and its workers while nobody asks for one. Not used on
        a machine with GPUs (its default cluster is a GPU cluster).""",
    ).tag(config=True)
