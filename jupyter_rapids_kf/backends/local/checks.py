"""Preflight of the local backend: can this server start local clusters at all?

Each cluster is a runner process of this server's own Python (processes.py) that imports
distributed and keeps its files in the state directory; either missing, every create fails.
"""

from __future__ import annotations

import tempfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from ...models import protocols
from ..base import Check
from .processes import Launcher

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


def backend_checks(state_dir: Path, gpus: list, launcher: Launcher | None) -> list[Check]:
    """dask, then dask-cuda or the GPU note, then the cluster started in advance (only
    while a server runs: ``launcher`` None for the doctor command)."""
    checks = [dask_check(state_dir)]
    if gpus:
        try:
            import dask_cuda

            checks.append(Check("dask-cuda", True, f"dask-cuda {dask_cuda.__version__}"))
        except ImportError:
            checks.append(
                Check(
                    "dask-cuda",
                    False,
                    f"{len(gpus)} GPU(s) found but dask-cuda is not installed",
                    "pip install 'jupyter_rapids_kf[gpu]'",
                )
            )
        checks.append(ucx_check())
    else:
        checks.append(Check("gpus", True, "no NVIDIA GPU visible (NVML); local clusters use the CPU"))
        checks.append(ucx_check())
    warm = warm_check(launcher) if launcher is not None else None
    if warm is not None:
        checks.append(warm)
    return checks


def ucx_check() -> Check:
    """Whether GPU clusters may ask for protocol ucx here. Never a failure: TCP always works."""
    missing = protocols.ucx_missing()
    if not missing:
        return Check("ucx", True, "ucxx and distributed-ucxx are installed: GPU clusters may use "
                     "protocol ucx (NVLink between this machine's GPUs where they have it)")
    return Check("ucx", True, f"UCX is not installed ({', '.join(missing)} cannot be imported): GPU "
                 f"clusters use TCP; to offer protocol ucx, pip install {protocols.UCX_WHEELS} into "
                 "this server's environment")


def warm_check(launcher: Launcher) -> Check | None:
    spec = launcher.warm_spec
    if spec is None:
        return None  # no cluster in advance
    shape = f"{spec['workers']} workers, {spec['cpu']} core and {spec['memory']} each"
    note = launcher.warm_cluster()
    if note is None:
        return Check.unknown("cluster-in-advance", f"the default cluster ({shape}) is being started in advance")
    if note.get("ready"):
        return Check(
            "cluster-in-advance", True, f"a default cluster ({shape}) is started in advance: the next one is usable at once"
        )
    return Check(
        "cluster-in-advance",
        False,
        f"the default cluster ({shape}) could not be started in advance: {note.get('error')}",
        "new clusters still start, only later; see the Jupyter server's log, or set "
        "c.RapidsKF.local_warm_cluster = False",
    )
