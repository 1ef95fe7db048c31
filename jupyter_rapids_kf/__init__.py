"""jupyter-rapids-kf: GPU Dask clusters (RAPIDS) for JupyterLab on KubeFlow or one machine."""

try:
    from ._version import __version__
except ImportError:  # a source checkout that was never installed
    __version__ = "0.0.0+unknown"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-rapids-kf"}]


def _jupyter_server_extension_points():
    from .app import RapidsKFApp

    return [{"module": "jupyter_rapids_kf", "app": RapidsKFApp}]
