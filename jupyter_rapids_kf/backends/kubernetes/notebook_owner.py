"""Which object a new cluster should end with: the KubeFlow Notebook this server runs in.

KubeFlow's notebook controller makes a StatefulSet `<notebook>` owned by the `Notebook`
(kubeflow.org/v1), whose pod `<notebook>-0` is this server (HOSTNAME). A DaskCluster that
lists the Notebook in its `ownerReferences` is deleted by Kubernetes' garbage collector when
the Notebook is, whether or not this server still runs. The chain is followed from the pod;
when the StatefulSet cannot be read, `NB_PREFIX` (`/notebook/<namespace>/<name>`) names the
Notebook directly. Without a Notebook the StatefulSet is the owner; without either, nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ...errors import Forbidden, NotFound, RapidsKFError
from .client import NOTEBOOKS, PODS, STATEFULSETS, Kube

NOTEBOOK_GROUP = "kubeflow.org"


@dataclass(frozen=True)
class Owner:
    """An object new clusters are tied to, as an ownerReference needs it."""

    api_version: str
    kind: str
    name: str
    uid: str

    def reference(self) -> dict[str, Any]:
        # No `controller` (the operator is not this object's controller) and no
        # `blockOwnerDeletion` (that would need update rights on the owner's finalizers).
        return {"apiVersion": self.api_version, "kind": self.kind, "name": self.name, "uid": self.uid}


@dataclass(frozen=True)
class Tie:
    """What new clusters end with (`owner`), or None and why not, in words."""

    owner: Owner | None
    reason: str
    forbidden: bool = False  # a lookup was refused: the fix is our manifests


def _owner_of(obj: dict[str, Any], kind: str, group: str) -> dict[str, Any] | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == kind and str(ref.get("apiVersion", "")).split("/")[0] == group and ref.get("uid"):
            return ref
    return None


def _from_ref(ref: dict[str, Any]) -> Owner:
    return Owner(ref["apiVersion"], ref["kind"], ref["name"], ref["uid"])


def notebook_from_prefix(prefix: str, namespace: str) -> str | None:
    """The Notebook's name in NB_PREFIX (`/notebook/<namespace>/<name>`), if it is ours."""
    parts = prefix.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "notebook" and parts[1] == namespace and parts[2]:
        return parts[2]
    return None


async def _get(kube: Kube, resource, name: str, notes: list[str], what: str) -> tuple[dict | None, bool]:
    """The object, or None with a note; the flag says the lookup was refused (403)."""
    try:
        return await kube.request("GET", resource, name, verb="get"), False
    except NotFound:
        notes.append(f"no {what}")
    except RapidsKFError as err:
        notes.append(f"{what} is not readable: {err.message}")
        return None, isinstance(err, Forbidden)
    return None, False


async def find(kube: Kube, namespace: str, pod_name: str | None = None,
               prefix: str | None = None) -> Tie:
    """Follows pod -> StatefulSet -> Notebook from this server's own pod."""
    pod_name = os.environ.get("HOSTNAME", "") if pod_name is None else pod_name
    prefix = os.environ.get("NB_PREFIX", "") if prefix is None else prefix
    notes: list[str] = []
    forbidden = False
    statefulset: Owner | None = None
    pod = None
    if pod_name:
        pod, refused = await _get(kube, PODS, pod_name, notes, f"pod {pod_name} (HOSTNAME) in namespace {namespace}")
        forbidden |= refused
    else:
        notes.append("HOSTNAME does not name this server's pod")
    ref = _owner_of(pod, "StatefulSet", "apps") if pod else None
    if pod is not None and ref is None:
        notes.append(f"pod {pod_name} is not part of a StatefulSet")
    if ref is not None:
        sts, refused = await _get(kube, STATEFULSETS, ref["name"], notes, f"StatefulSet {ref['name']}")
        forbidden |= refused
        if sts is not None and (sts.get("metadata") or {}).get("uid") == ref["uid"]:
            statefulset = _from_ref(ref)
            nb = _owner_of(sts, "Notebook", NOTEBOOK_GROUP)
            if nb is not None:
                return Tie(_from_ref(nb), f"the KubeFlow Notebook {nb['name']} (owner of pod {pod_name})")
            notes.append(f"StatefulSet {ref['name']} has no KubeFlow Notebook owner")
        elif sts is not None:
            notes.append(f"StatefulSet {ref['name']} was replaced")
    name = notebook_from_prefix(prefix, namespace) if prefix else None
    if name:
        nb, refused = await _get(kube, NOTEBOOKS, name, notes, f"Notebook {name} (NB_PREFIX)")
        forbidden |= refused
        uid = ((nb or {}).get("metadata") or {}).get("uid")
        if uid:
            return Tie(Owner(nb.get("apiVersion") or NOTEBOOKS.api_version, "Notebook", name, uid),
                       f"the KubeFlow Notebook {name} (from NB_PREFIX)")
    if statefulset is not None:
        return Tie(statefulset, f"the StatefulSet {statefulset.name} of pod {pod_name} ("
                   + "; ".join(notes) + ")", forbidden)
    return Tie(None, "; ".join(notes) or "no notebook found", forbidden)
