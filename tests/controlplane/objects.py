"""Kubernetes objects the test cluster is seeded with (plain dicts, no I/O)."""

from __future__ import annotations

GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
KWOK_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
PROFILE_LABEL = {"app.kubernetes.io/part-of": "kubeflow-profile"}
KUBEFLOW_EDIT_AGGREGATE = "rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit"
OPERATOR_USER = "dask-kubernetes-operator"


def fake_node(name: str, gpus: int = 0) -> dict:
    """A Node that kwok plays the kubelet for; capacity is what the scheduler sees.
    GPU nodes carry the taint real GPU node pools have, so only pods that tolerate it
    (our workers) land there; other pods (Dask schedulers) need a node without GPUs."""
    resources = {"cpu": "32", "memory": "128Gi", "pods": "110"}
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
              "kubernetes.io/arch": "amd64", "type": "kwok"}
    if gpus:
        # GPU servers carry host memory for their GPUs (a GPU worker's pod asks 1.25x its
        # GPU's memory by default, for dask-cuda's spilling: models/gpu_workers.py).
        resources["memory"] = "512Gi"
        resources["nvidia.com/gpu"] = str(gpus)
        labels["nvidia.com/gpu.present"] = "true"
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_ANNOTATION[0]: KWOK_ANNOTATION[1]},
            "labels": labels,
        },
        "spec": {"taints": [GPU_TAINT] if gpus else []},
        "status": {"capacity": resources, "allocatable": dict(resources)},
    }


def _rule(groups, resources, verbs) -> dict:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


ALL_WRITE = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
READ = ["get", "list", "watch"]


def kubeflow_edit_cluster_roles() -> list[dict]:
    """``kubeflow-edit`` as KubeFlow defines it: an aggregated role, empty by itself,
    plus a base role with the usual namespace-editor rights on core objects. Nothing
    here grants the Dask custom resources: that is what our manifests must add."""
    aggregated = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "kubeflow-edit"},
        "aggregationRule": {
            "clusterRoleSelectors": [{"matchLabels": {KUBEFLOW_EDIT_AGGREGATE: "true"}}]
        },
        "rules": [],
    }
    base = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": "kubeflow-kubernetes-edit",
            "labels": {KUBEFLOW_EDIT_AGGREGATE: "true"},
        },
        "rules": [
            _rule(
                [""],
                ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy",
                 "services", "services/proxy", "configmaps", "secrets",
                 "persistentvolumeclaims", "serviceaccounts", "replicationcontrollers"],
                ALL_WRITE,
            ),
            _rule([""], ["pods/log", "pods/status", "events", "endpoints",
                         "resourcequotas", "limitranges"], READ),
            _rule(["apps"], ["deployments", "replicasets", "statefulsets", "daemonsets",
                             "deployments/scale", "statefulsets/scale"], ALL_WRITE),
            _rule(["batch"], ["jobs", "cronjobs"], ALL_WRITE),
            _rule(["events.k8s.io"], ["events"], READ),
            _rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], ALL_WRITE),
            _rule(["autoscaling"], ["horizontalpodautoscalers"], ALL_WRITE),
            _rule(["policy"], ["poddisruptionbudgets"], ALL_WRITE),
        ],
    }
    return [aggregated, base]


def profile_namespace(name: str) -> list[dict]:
    """A KubeFlow-like profile namespace with its ``default-editor`` service account."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": dict(PROFILE_LABEL)},
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "default-editor", "namespace": name},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "default-editor", "namespace": name},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "kubeflow-edit",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": "default-editor", "namespace": name}
            ],
        },
    ]


def operator_rbac(user: str = OPERATOR_USER) -> list[dict]:
    """The rights the dask-kubernetes operator needs (its chart's cluster role, in
    substance), bound to the user name in the operator's client certificate."""
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "dask-kubernetes-operator"},
        "rules": [
            _rule(["apiextensions.k8s.io"], ["customresourcedefinitions"], ["list", "watch"]),
            _rule([""], ["namespaces"], ["list", "watch"]),
            _rule(["kopf.dev"], ["clusterkopfpeerings", "kopfpeerings"],
                  ["get", "list", "watch", "patch"]),
            _rule(
                ["kubernetes.dask.org"],
                ["daskclusters", "daskworkergroups", "daskworkergroups/scale",
                 "daskjobs", "daskjobs/status", "daskautoscalers"],
                ["get", "list", "watch", "patch", "create", "delete"],
            ),
            _rule([""], ["pods", "pods/status", "services", "services/status"], ["*"]),
            _rule(["apps"], ["deployments", "deployments/status"], ["*"]),
            _rule(["", "events.k8s.io"], ["events"], ["*"]),
        ],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "dask-kubernetes-operator"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "dask-kubernetes-operator",
        },
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }
    return [role, binding]


def notebook_pod(namespace: str, name: str, image: str) -> dict:
    """The Jupyter server's own pod, as a KubeFlow Notebook's StatefulSet makes it
    (``<notebook>-0``, service account ``default-editor``). kwok runs it on the CPU node;
    the extension reads its image as the default image of new clusters."""
    notebook = name.rsplit("-", 1)[0]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"notebook-name": notebook, "statefulset": notebook}},
        "spec": {
            "serviceAccountName": "default-editor",
            "containers": [{"name": notebook, "image": image,
                            "env": [{"name": "NB_PREFIX",
                                     "value": f"/notebook/{namespace}/{notebook}"}]}],
        },
    }
