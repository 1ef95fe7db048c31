"""The admin kit grants exactly what the extension uses, and keeps other namespaces out."""

from __future__ import annotations

from pathlib import Path

import yaml

from jupyter_rapids_kf.backends.kubernetes.job_checks import JOB_PERMISSIONS
from jupyter_rapids_kf.backends.kubernetes.checks import PERMISSIONS

ROOT = Path(__file__).resolve().parents[2] / "manifests"


def load(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def granted(role: dict) -> set[tuple[str, str, str]]:
    return {(verb, group, resource) for rule in role["rules"] for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


def test_every_kustomization_lists_files_that_exist():
    for kustomization in ROOT.rglob("kustomization.yaml"):
        for resource in yaml.safe_load(kustomization.read_text())["resources"]:
            assert (kustomization.parent / resource).is_file(), (kustomization, resource)


def test_edit_role_is_aggregated_into_kubeflow_edit_and_grants_exactly_what_preflight_checks():
    [role] = load(ROOT / "clusterrole-edit.yaml")
    assert role["metadata"]["labels"] == {"rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit": "true"}
    needed = {(verb, group, f"{res}/{sub}" if sub else res) for verb, group, res, sub in PERMISSIONS + JOB_PERMISSIONS}
    assert granted(role) == needed
    assert not any("*" in rule["verbs"] or "*" in rule["resources"] for rule in role["rules"])


def test_view_role_reads_only():
    [role] = load(ROOT / "clusterrole-view.yaml")
    assert role["metadata"]["labels"] == {"rbac.authorization.kubeflow.org/aggregate-to-kubeflow-view": "true"}
    assert {verb for verb, _, _ in granted(role)} == {"get", "list", "watch"}


def test_optional_gpu_capacity_role_reads_nodes_only():
    role, binding = load(ROOT / "optional/gpu-capacity/clusterrole.yaml")
    assert granted(role) == {("get", "", "nodes"), ("list", "", "nodes")}
    assert binding["roleRef"]["name"] == role["metadata"]["name"]


def test_network_policy_keeps_other_namespaces_off_the_schedulers():
    [policy] = load(ROOT / "namespace/networkpolicy.yaml")
    spec = policy["spec"]
    assert spec["podSelector"] == {"matchLabels": {"dask.org/component": "scheduler"}}
    assert spec["policyTypes"] == ["Ingress"]
    [rule] = spec["ingress"]
    assert {p["port"] for p in rule["ports"]} == {8786, 8787}
    sources = rule["from"]
    assert {"podSelector": {}} in sources  # this namespace only (no namespaceSelector beside it)
    others = [s for s in sources if "namespaceSelector" in s]
    assert all(s["namespaceSelector"].get("matchLabels") for s in others)  # never "all namespaces"


def test_pipelines_binding_gives_pipeline_runner_our_edit_role():
    [binding] = load(ROOT / "pipelines/rolebinding.yaml")
    kustomization = yaml.safe_load((ROOT / "pipelines/kustomization.yaml").read_text())
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": "jupyter-rapids-kf-edit"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "pipeline-runner",
                                    "namespace": kustomization["namespace"]}]


def test_optional_image_prepull_runs_only_on_gpu_nodes_and_holds_almost_nothing():
    [daemonset] = load(ROOT / "optional/image-prepull/daemonset.yaml")
    pod = daemonset["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    # Each allowed image is pulled by an init container that exits at once; no GPU is asked for.
    for container in pod["initContainers"] + pod["containers"]:
        assert "nvidia.com/gpu" not in str(container["resources"])
        assert container["resources"]["limits"]["memory"].endswith("Mi")
    assert all(c["command"] == ["true"] for c in pod["initContainers"])


def test_stopper_role_grants_only_what_the_stopper_does():
    docs = {d["kind"]: d for d in load(ROOT / "stopper" / "rbac.yaml")}
    # What jupyter_rapids_kf.stopper sends (tests/kubernetes/test_stopper.py sees each request).
    assert granted(docs["ClusterRole"]) == {
        ("list", "kubeflow.org", "notebooks"), ("watch", "kubeflow.org", "notebooks"),
        ("list", "kubernetes.dask.org", "daskclusters"), ("patch", "kubernetes.dask.org", "daskclusters"),
        ("list", "kubernetes.dask.org", "daskworkergroups"), ("patch", "kubernetes.dask.org", "daskworkergroups"),
        ("list", "kubernetes.dask.org", "daskautoscalers"), ("delete", "kubernetes.dask.org", "daskautoscalers"),
        ("list", "apps", "deployments"), ("delete", "apps", "deployments"),
    }
    kustomization = yaml.safe_load((ROOT / "stopper" / "kustomization.yaml").read_text())
    subject = docs["ClusterRoleBinding"]["subjects"][0]
    assert (subject["name"], subject["namespace"]) == (docs["ServiceAccount"]["metadata"]["name"],
                                                       kustomization["namespace"])
    deployment = load(ROOT / "stopper" / "deployment.yaml")[0]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == docs["ServiceAccount"]["metadata"]["name"]
    assert pod["containers"][0]["command"] == ["python", "-m", "jupyter_rapids_kf.stopper"]
    assert deployment["spec"]["replicas"] == 1
