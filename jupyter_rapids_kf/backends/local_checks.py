"""Preflight of the local backend: can this server start local clusters at all?

Each cluster is a runner process of this server's own Python (local_process.py) that imports
distributed and keeps its files in the state directory; either missing, every create fails.
"""

from __future__ import annotations

import tempfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from .base import Check

PACKAGE = "jupyter-rapids-kf"
INSTALL_FIX = "pip install 'jupyter_rapids_kf' (it brings a supported distributed)"


def supported_distributed() -> Requirement | None:
    """This package's own requirement on distributed (pyproject.toml), as installed."""
    try:
        requires = metadata.requires(PACKAGE) or []
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return None
    for text in requires:
        requirement = Requirement(text)
        if requirement.name == "distributed" and not requirement.marker:
            return requirement
    return None


def dask_check(state_dir: Path) -> Check:
    try:
        import distributed
    except ImportError as err:
        return Check("dask", False, f"distributed cannot be imported, so no local cluster can start: {err}",
                     INSTALL_FIX)
    version = distributed.__version__
    wanted = supported_distributed()
    if wanted is not None and not wanted.specifier.contains(version, prereleases=True):
        return Check("dask", False, f"distributed {version} is installed; local clusters need distributed"
                     f"{wanted.specifier}", INSTALL_FIX)
    try:  # the runners write their spec, state and log files here
        with tempfile.NamedTemporaryFile(dir=state_dir, prefix=".check-"):
            pass
    except OSError as err:
        return Check("dask", False, f"local clusters cannot keep their files in {state_dir}: "
                     f"{err.strerror or err}", f"make {state_dir} a writable directory (or free disk "
                     "space), then restart the Jupyter server")
    return Check("dask", True, f"distributed {version} runs local clusters (files in {state_dir})")
