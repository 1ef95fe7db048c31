"""A KubeFlow notebook as its controller makes it: a `Notebook` (kubeflow.org/v1), the
StatefulSet `<name>` it owns, and the pod `<name>-0` that the real StatefulSet controller
makes from it (kwok runs it). Only the CRD's shape matters here, so its schema keeps any
field (KubeFlow's own CRD validates the pod template; nothing here depends on that)."""

from __future__ import annotations

from .kubeapi import KubeAPI

NOTEBOOK_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "notebooks.kubeflow.org"},
    "spec": {
        "group": "kubeflow.org",
        "scope": "Namespaced",
        "names": {"plural": "notebooks", "singular": "notebook", "kind": "Notebook"},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        }],
    },
}
NOTEBOOKS = "/apis/kubeflow.org/v1/namespaces/{ns}/notebooks"


def install_crd(api: KubeAPI) -> None:
    api.apply(NOTEBOOK_CRD)
    api.wait_for(lambda: api.exists("/apis/kubeflow.org/v1/notebooks"), 60, "the Notebook CRD to be served")
    api.forget_discovery()


def create_notebook(api: KubeAPI, namespace: str, name: str, image: str, *,
                    container: dict | None = None, pod: dict | None = None,
                    timeout: float = 60) -> dict:
    """The Notebook, then its StatefulSet owned by it (as the notebook controller does);
    returns the Notebook once the pod `<name>-0` runs. ``container`` adds fields to the
    notebook's container (its ``env`` is added to NB_PREFIX), ``pod`` to the pod spec."""
    extra = dict(container or {})
    env = [{"name": "NB_PREFIX", "value": f"/notebook/{namespace}/{name}"}, *extra.pop("env", [])]
    spec_container = {"name": name, "image": image, "env": env, **extra}
    notebook = api.apply({
        "apiVersion": "kubeflow.org/v1", "kind": "Notebook",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"spec": {"containers": [spec_container], **(pod or {})}}},
    })
    labels = {"statefulset": name, "notebook-name": name}
    api.apply({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": namespace, "ownerReferences": [{
            "apiVersion": "kubeflow.org/v1", "kind": "Notebook", "name": name,
            "uid": notebook["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]},
        "spec": {
            "replicas": 1, "serviceName": "", "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {
                "serviceAccountName": "default-editor", "containers": [spec_container],
                **(pod or {})}},
        },
    })
    pod_path = f"/api/v1/namespaces/{namespace}/pods/{name}-0"
    api.wait_for(lambda: api.get(pod_path).get("status", {}).get("phase") == "Running", timeout,
                 f"notebook pod {namespace}/{name}-0 to run")
    return notebook
