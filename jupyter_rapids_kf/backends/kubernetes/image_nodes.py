"""On which GPU nodes an image is already present, so that first workers start without a pull.

The kubelet lists the images it holds in `node.status.images` (names with the registry spelled
out: `docker.io/rapidsai/base:26.10`, plus digests). Where nodes may be read
(`manifests/optional/gpu-capacity`), the doctor and the form say where the chosen image is,
and new worker pods *prefer* those nodes (a preferred node affinity, never a requirement: a
GPU elsewhere still takes them). Where nodes may not be read, nothing is claimed.
"""

from __future__ import annotations

from typing import Any

from ...errors import Forbidden, RapidsKFError
from ..base import ImageNodes
from .spec import GPU_RESOURCE

HOSTNAME_LABEL = "kubernetes.io/hostname"
PREFER_WEIGHT = 100  # the most a preference may weigh; other preferences still count


def normalize(image: str) -> str:
    """An image reference as the kubelet names it: registry, repository and tag spelled out."""
    name, digest = (image.split("@", 1) + [""])[:2] if "@" in image else (image, "")
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    if digest:
        return f"{name}@{digest}"
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


def _gpu_node(node: dict[str, Any]) -> bool:
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    try:
        return int(str(allocatable.get(GPU_RESOURCE, 0))) > 0
    except ValueError:
        return False


def where(image: str, nodes: list[dict[str, Any]]) -> ImageNodes:
    wanted = normalize(image)
    found = ImageNodes(image=image, known=True)
    for node in nodes:
        if not _gpu_node(node) or (node.get("spec") or {}).get("unschedulable"):
            continue
        found.gpu_nodes += 1
        for held in (node.get("status") or {}).get("images") or []:
            if any(normalize(n) == wanted for n in held.get("names") or []):
                name = node["metadata"]["name"]
                found.nodes.append(name)
                found.hostnames.append((node["metadata"].get("labels") or {}).get(HOSTNAME_LABEL, name))
                found.sizes[name] = int(held.get("sizeBytes") or 0)
                break
    found.nodes.sort()
    found.hostnames.sort()
    if not found.gpu_nodes:
        found.message = "no schedulable GPU node"
    elif found.nodes:
        found.message = (f"{image} is already on {len(found.nodes)} of {found.gpu_nodes} GPU node(s): "
                         f"{', '.join(found.nodes)}; new workers prefer them")
    else:
        found.message = (f"{image} is on none of the {found.gpu_nodes} GPU node(s) yet: the first "
                         "workers pull it")
    return found


async def find(read_nodes: Any, image: str) -> ImageNodes:
    """`read_nodes`: the backend's (cached) node list, raising the API's refusal."""
    try:
        nodes = await read_nodes()
    except Forbidden:
        return ImageNodes(image=image, known=False, message="nodes may not be read here, so where "
                          f"{image} is present is not known")
    except RapidsKFError as err:
        return ImageNodes(image=image, known=False, message=f"nodes could not be read: {err.message}")
    return where(image, nodes)


def prefer(worker_pod_spec: dict[str, Any], nodes: list[str]) -> None:
    """Adds a preferred node affinity for `nodes` to a worker pod spec (never required)."""
    if not nodes:
        return
    affinity = worker_pod_spec.setdefault("affinity", {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    node_affinity.setdefault("preferredDuringSchedulingIgnoredDuringExecution", []).append({
        "weight": PREFER_WEIGHT,
        "preference": {"matchExpressions": [
            {"key": HOSTNAME_LABEL, "operator": "In", "values": list(nodes)}]},
    })
