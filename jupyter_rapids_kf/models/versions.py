"""Version skew between a cluster and this notebook, named before it bites.

A `Client` in a kernel talks to the cluster's scheduler and workers with pickled and
msgpack-encoded messages. When the cluster's image runs another `distributed`, `dask`,
`msgpack`, `cloudpickle` or Python (major.minor) than the kernel, the first sign is often a
cryptic deserialization error. The scheduler's own `versions()` answer says what the image
runs; kernels run in this server's environment (the notebook image), so that is compared.
"""

from __future__ import annotations

import platform
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Mapping

from .cluster import VersionSkew

PACKAGES = ("distributed", "dask", "msgpack", "cloudpickle")


@lru_cache(maxsize=1)
def notebook_versions() -> dict[str, str]:
    """What a kernel of this notebook runs: Python major.minor and the watched packages."""
    found = {"python": ".".join(platform.python_version_tuple()[:2])}
    for package in PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found


def cluster_versions(answer: Mapping[str, Any]) -> dict[str, str]:
    """The same facts from a scheduler's `versions()` answer (distributed.versions.get_versions)."""
    packages = answer.get("packages") or {}
    found = {p: str(packages[p]) for p in PACKAGES if packages.get(p)}
    python = str((answer.get("host") or {}).get("python") or "")
    if python:
        found["python"] = ".".join(python.split(".")[:2])
    return found


def compare(answer: Mapping[str, Any], here: Mapping[str, str] | None = None) -> list[VersionSkew]:
    """Every watched package whose version differs, in a stable order (Python first)."""
    here = notebook_versions() if here is None else here
    theirs = cluster_versions(answer)
    return [
        VersionSkew(package=p, cluster=theirs[p], notebook=here[p])
        for p in ("python",) + PACKAGES
        if p in theirs and p in here and theirs[p] != here[p]
    ]


def describe(skew: list[VersionSkew], image: str | None) -> str:
    """One plain sentence for the card and the snippet, with the fix."""
    differences = ", ".join(f"{s.package} {s.cluster} (notebook: {s.notebook})" for s in skew)
    fix = (
        f"create the cluster with this notebook's image ({image})"
        if image
        else "create the cluster with the image this notebook runs"
    )
    return (
        f"This cluster runs {differences}: a Client from this notebook may fail with "
        f"deserialization errors. To fix it, {fix}, or install the same versions in the kernel."
    )
