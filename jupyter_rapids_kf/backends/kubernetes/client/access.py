"""May the notebook's service account do this? Asked with a SelfSubjectAccessReview, so nothing
is tried for real (the checks of clusters and jobs ask it)."""

from __future__ import annotations

from typing import Any

from . import ACCESS_REVIEWS, Kube


async def can_i(kube: Kube, verb: str, group: str, resource: str, sub: str = "",
                namespace: str | None = "") -> bool:
    attributes: dict[str, Any] = {"verb": verb, "group": group, "resource": resource}
    if sub:
        attributes["subresource"] = sub
    if namespace is not None:
        attributes["namespace"] = namespace or kube.namespace
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes},
    }
    answer = await kube.request("POST", ACCESS_REVIEWS, verb="create", body=body)
    return bool((answer.get("status") or {}).get("allowed"))
