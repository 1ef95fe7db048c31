"""How a GPU cluster's workers talk: TCP (the default) or UCX, on both backends.

UCX (through `distributed-ucxx`) moves the partitions of a shuffle or a join between GPU
workers over NVLink where the GPUs of one node have it (CUDA IPC), InfiniBand where there
is some, and TCP otherwise; with TCP every byte goes through host memory and sockets.

What this module decides, and why:
  * the **scheduler listens on both**: TCP at its usual port (8786 on Kubernetes) and UCX at
    a second one (`UCX_PORT`). Workers listen on UCX only, so worker-to-worker transfers (the
    data) go over UCX, while this Jupyter server (worker lists, GPU readings, scale-down), the
    operator and notebooks without `distributed-ucxx` keep reaching the scheduler over TCP. A
    scheduler on UCX alone would make every one of those need UCX too.
  * transports: UCX chooses them itself (dask-cuda's "automatic configuration", what its
    documentation recommends for routine use). The admin may force some on
    (`c.RapidsKF.gpu_ucx_transports`, e.g. "nvlink,tcp"), which become dask-cuda-worker's
    `--enable-nvlink`/`--enable-tcp-over-ucx`/... flags and LocalCUDACluster's `enable_*`
    arguments.
  * NVLink works between the worker processes of one pod (several GPUs per worker) or one
    machine (the local backend); between pods of one GPU each UCX uses TCP (or InfiniBand).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from ..errors import Invalid

PROTOCOLS = ("tcp", "ucx")
DEFAULT = "tcp"
TCP_PORT = 8786  # the scheduler's TCP port on Kubernetes (the operator's Service)
UCX_PORT = 8789  # its UCX port (8787 is the dashboard, 8788 the workers' dashboards)
UCX_MODULES = ("ucxx", "distributed_ucxx")  # what `import` needs for protocol="ucx"
UCX_WHEELS = "distributed-ucxx-cu13 (distributed-ucxx-cu12 for CUDA 12)"
# c.RapidsKF.gpu_ucx_transports names -> (dask-cuda-worker flag, LocalCUDACluster argument)
TRANSPORTS = {
    "nvlink": ("--enable-nvlink", "enable_nvlink"),
    "infiniband": ("--enable-infiniband", "enable_infiniband"),
    "rdmacm": ("--enable-rdmacm", "enable_rdmacm"),
    "tcp": ("--enable-tcp-over-ucx", "enable_tcp_over_ucx"),
}


def check_protocol(value: str, field: str = "protocol") -> str:
    if value not in PROTOCOLS:
        raise Invalid(f"{field} must be one of {', '.join(PROTOCOLS)}, not {value!r}", field=field)
    return value


def parse_transports(text: str) -> tuple[str, ...]:
    """The admin's "nvlink,tcp" as names; "" is UCX's own choice."""
    names = tuple(n.strip() for n in (text or "").split(",") if n.strip())
    unknown = [n for n in names if n not in TRANSPORTS]
    if unknown:
        raise ValueError(f"c.RapidsKF.gpu_ucx_transports: unknown transport {unknown[0]!r}; "
                         f"known: {', '.join(TRANSPORTS)}")
    return names


def ucx_missing() -> list[str]:
    """The modules of UCX support this Python lacks (found without importing them: importing
    ucxx starts UCX)."""
    missing = []
    for name in UCX_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def worker_flags(protocol: str, transports: tuple[str, ...], taken: set[str]) -> list[str]:
    """dask-cuda-worker's flags for `protocol`; flags in `taken` (the user's) stay the user's."""
    if protocol != "ucx":
        return []
    flags = [] if "--protocol" in taken else ["--protocol", "ucx"]
    for name in transports:
        flag = TRANSPORTS[name][0]
        negated = "--disable-" + flag[len("--enable-"):]
        if flag not in taken and negated not in taken:
            flags.append(flag)
    return flags


def scheduler_args(protocol: str, args: list[str]) -> list[str]:
    """`dask scheduler` listening on TCP and, for UCX clusters, on UCX as well."""
    if protocol != "ucx" or "--protocol" in args:
        return args
    return [*args, "--protocol", "tcp,ucx", "--port", f"{TCP_PORT},{UCX_PORT}"]


def local_kwargs(protocol: str, transports: tuple[str, ...]) -> dict[str, Any]:
    """LocalCUDACluster's (or LocalCluster's) arguments for `protocol`: the workers on UCX,
    the scheduler on TCP first (its `address`, what the server polls) and UCX second."""
    if protocol != "ucx":
        return {}
    kwargs: dict[str, Any] = {"protocol": "ucx",
                              "scheduler_kwargs": {"protocol": ["tcp", "ucx"], "port": [0, 0]}}
    for name in transports:
        kwargs[TRANSPORTS[name][1]] = True
    return kwargs


def ucx_address(addresses: list[str]) -> str | None:
    """The UCX one of a scheduler's listening addresses, None when it has none."""
    return next((a for a in addresses if a.startswith("ucx://")), None)


def kubernetes_ucx_address(tcp_address: str) -> str:
    """The UCX address of a Kubernetes scheduler whose TCP address is `tcp_address`."""
    host = tcp_address.split("://", 1)[-1].rsplit(":", 1)[0]
    return f"ucx://{host}:{UCX_PORT}"


def protocol_of_args(args: list[str]) -> str:
    """The protocol a worker container's command line asks for ("tcp" when it says none)."""
    for i, word in enumerate(args):
        if word == "--protocol" and i + 1 < len(args):
            return "ucx" if args[i + 1].startswith("ucx") else "tcp"
        if word.startswith("--protocol="):
            return "ucx" if word.split("=", 1)[1].startswith("ucx") else "tcp"
    return "tcp"
