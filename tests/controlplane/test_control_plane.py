"""Smoke tests that prove the tier-3 environment is real: scheduling against GPU
capacity, the operator reconciling, garbage collection and RBAC."""

from __future__ import annotations

import time

import kr8s
import pytest
import yaml
from dask_kubernetes.operator import make_cluster_spec
from kr8s.objects import new_class

from .waiting import wait_for

pytestmark = pytest.mark.controlplane

DaskCluster = new_class(kind="DaskCluster", version="kubernetes.dask.org/v1", namespaced=True)
DaskWorkerGroup = new_class(
    kind="DaskWorkerGroup", version="kubernetes.dask.org/v1", namespaced=True
)
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}




def gpu_cluster(name: str, namespace: str, workers: int = 2) -> dict:
    """A DaskCluster as the extension will make it: one GPU per worker, none on the
    scheduler. The image is never pulled: kwok only pretends to run it."""
    body = make_cluster_spec(name=name, image="rapidsai/base:test", n_workers=workers)
    body["metadata"]["namespace"] = namespace
    worker = body["spec"]["worker"]["spec"]
    worker["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": "1"}}
    worker["tolerations"] = [GPU_TOLERATION]
    return body


def ready(pod) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in pod.raw.get("status", {}).get("conditions", []))


def worker_pods(api, ns: str, cluster: str) -> list:
    return list(api.get("pods", namespace=ns, label_selector={
        "dask.org/cluster-name": cluster, "dask.org/component": "worker"}))


def scale(api, ns: str, cluster: str, n: int) -> None:
    """Scales the worker group (what the operator acts on) and keeps the DaskCluster
    field in step, as the extension will."""
    patch = {"spec": {"worker": {"replicas": n}}}
    DaskWorkerGroup.get(f"{cluster}-default", namespace=ns, api=api).patch(patch)
    DaskCluster.get(cluster, namespace=ns, api=api).patch(patch)


def sa_api(control_plane, ns: str, sa: str = "default-editor"):
    """kr8s acting as a service account, with a TokenRequest token."""
    return kr8s.api(kubeconfig=str(control_plane.kubeconfig_for_service_account(ns, sa)))


@pytest.fixture(scope="module")
def admin(control_plane):
    return kr8s.api(kubeconfig=str(control_plane.admin_kubeconfig))


@pytest.fixture
def dask_cluster(admin, profile_namespace, request):
    """Creates a 2-worker GPU DaskCluster named after the test; deletes it afterwards
    and waits for its pods to go, so the next test has all six GPUs."""
    name = request.node.name.replace("_", "-")[5:30].strip("-")
    body = gpu_cluster(name, profile_namespace)
    DaskCluster(body, api=admin).create()
    yield name
    for obj in DaskCluster.list(namespace=profile_namespace, api=admin):
        if obj.name == name:
            obj.delete()
    wait_for(lambda: not list(admin.get("pods", namespace=profile_namespace,
                                         label_selector={"dask.org/cluster-name": name})),
             60, f"pods of {name} to be deleted")


def test_three_gpu_nodes_ready(admin):
    nodes = {n.name: n.raw for n in admin.get("nodes")}
    gpu = {name: n for name, n in nodes.items() if "nvidia.com/gpu" in n["status"]["allocatable"]}
    assert len(gpu) == 3
    for node in gpu.values():
        assert node["status"]["allocatable"]["nvidia.com/gpu"] == "2"
        assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"} in [
            {k: t[k] for k in ("key", "value", "effect")} for t in node["spec"]["taints"]]
        conds = {c["type"]: c["status"] for c in node["status"]["conditions"]}
        assert conds["Ready"] == "True"


def test_operator_runs_cluster_on_fake_gpu_nodes(admin, profile_namespace, dask_cluster):
    ns, name = profile_namespace, dask_cluster
    wait_for(lambda: list(admin.get("deployments", f"{name}-scheduler", namespace=ns)),
             30, "the scheduler Deployment")
    svc = wait_for(lambda: list(admin.get("services", f"{name}-scheduler", namespace=ns)),
                   30, "the scheduler Service")[0]
    assert {p["name"] for p in svc.raw["spec"]["ports"]} >= {"tcp-comm", "http-dashboard"}
    pods = wait_for(lambda: [p for p in worker_pods(admin, ns, name) if ready(p)]
                    if len([p for p in worker_pods(admin, ns, name) if ready(p)]) == 2 else None,
                    60, "two ready worker pods")
    for pod in pods:
        assert pod.raw["status"]["phase"] == "Running"
        assert pod.raw["spec"]["nodeName"].startswith("gpu-node-")
        limits = pod.raw["spec"]["containers"][0]["resources"]["limits"]
        assert limits["nvidia.com/gpu"] == "1"
    sched = wait_for(lambda: [p for p in admin.get("pods", namespace=ns, label_selector={
        "dask.org/cluster-name": name, "dask.org/component": "scheduler"}) if ready(p)],
        60, "a ready scheduler pod")
    assert sched[0].raw["spec"]["nodeName"].startswith("cpu-node-")


def test_scale_beyond_gpu_capacity_and_back(admin, profile_namespace, dask_cluster,
                                            control_plane):
    ns, name = profile_namespace, dask_cluster
    wait_for(lambda: sum(ready(p) for p in worker_pods(admin, ns, name)) == 2, 60,
             "two ready workers")
    scale(admin, ns, name, 8)

    def six_ready_two_unschedulable():
        pods = worker_pods(admin, ns, name)
        pending = [p for p in pods if not p.raw["spec"].get("nodeName")]
        reasons = [c.get("message", "") for p in pending
                   for c in p.raw.get("status", {}).get("conditions", [])
                   if c["type"] == "PodScheduled" and c["status"] == "False"]
        if (len(pods) == 8 and sum(ready(p) for p in pods) == 6 and len(reasons) == 2
                and all("Insufficient nvidia.com/gpu" in r for r in reasons)):
            return reasons
        return None

    reasons = wait_for(six_ready_two_unschedulable, 90, "6 ready + 2 unschedulable workers")
    assert "Insufficient nvidia.com/gpu" in reasons[0]

    # Scale-down is where the operator asks the Dask scheduler which workers to retire;
    # it must not hang (see operator_main.py).
    t0 = time.monotonic()
    scale(admin, ns, name, 2)

    def two_left():
        pods = worker_pods(admin, ns, name)
        deployments = list(admin.get("deployments", namespace=ns, label_selector={
            "dask.org/cluster-name": name, "dask.org/component": "worker"}))
        return len(deployments) == 2 and len(pods) == 2 and all(ready(p) for p in pods)

    wait_for(two_left, 60, "two ready workers after scaling down")
    took = time.monotonic() - t0
    print(f"scale-down 8 -> 2 workers: {took:.1f} s (bound 60 s: a hang, not a slow step)")
    assert took < 60
    log = (control_plane.logs / "operator.log").read_text()
    assert "falling back to LIFO scaling" in log
    assert "DaskKubernetesPortForward" not in log


def test_delete_collects_everything_owned(admin, profile_namespace, dask_cluster):
    ns, name = profile_namespace, dask_cluster
    selector = {"dask.org/cluster-name": name}
    wait_for(lambda: sum(ready(p) for p in worker_pods(admin, ns, name)) == 2, 60,
             "two ready workers")
    DaskCluster.get(name, namespace=ns, api=admin).delete()

    def all_gone():
        left = {kind: [o.name for o in admin.get(kind, namespace=ns, label_selector=selector)]
                for kind in ("pods", "deployments", "services")}
        left["daskclusters"] = [c.name for c in DaskCluster.list(namespace=ns, api=admin)
                                if c.name == name]
        left["daskworkergroups"] = [g.name for g in DaskWorkerGroup.list(namespace=ns, api=admin)
                                    if g.name.startswith(f"{name}-")]
        return not any(left.values()) or None

    wait_for(all_gone, 90, f"everything owned by {name} to be garbage-collected")


def test_default_editor_cannot_create_daskcluster(control_plane, profile_namespace, no_dask_rights):
    ns = profile_namespace
    sa = sa_api(control_plane, ns)
    # The token works and kubeflow-edit grants pods...
    assert isinstance(list(sa.get("pods", namespace=ns)), list)
    # ...but not the Dask resources: that is what the project's manifests must add.
    with pytest.raises(kr8s.ServerError) as err:
        DaskCluster(gpu_cluster("forbidden", ns), api=sa).create()
    assert err.value.response.status_code == 403
    assert "daskclusters" in err.value.response.text


def test_operator_stopped_then_restarted(admin, control_plane, profile_namespace):
    """The helpers the fault tests need: with the operator stopped a new cluster is not
    acted on and a deleted one stays Terminating (kopf's finalizer); both resolve once
    the operator is back."""
    ns = profile_namespace
    DaskCluster(gpu_cluster("before-stop", ns), api=admin).create()
    wait_for(lambda: list(admin.get("deployments", "before-stop-scheduler", namespace=ns)),
             30, "the first cluster's scheduler")
    control_plane.stop_operator()
    try:
        DaskCluster(gpu_cluster("while-stopped", ns), api=admin).create()
        DaskCluster.get("before-stop", namespace=ns, api=admin).delete()
        time.sleep(3)
        assert not list(admin.get("deployments", "while-stopped-scheduler", namespace=ns))
        stuck = DaskCluster.get("before-stop", namespace=ns, api=admin)
        assert stuck.raw["metadata"].get("deletionTimestamp")
        assert stuck.raw["metadata"].get("finalizers")
    finally:
        control_plane.start_operator()
    wait_for(lambda: list(admin.get("deployments", "while-stopped-scheduler", namespace=ns)),
             60, "the operator to act on the cluster made while it was down")
    wait_for(lambda: all(c.name != "before-stop"
                         for c in DaskCluster.list(namespace=ns, api=admin)),
             60, "the stuck delete to complete")
    DaskCluster.get("while-stopped", namespace=ns, api=admin).delete()
    wait_for(lambda: not list(admin.get("pods", namespace=ns, label_selector={
        "dask.org/cluster-name": "while-stopped"})), 60, "cleanup")


def test_apiserver_restart_keeps_state(admin, control_plane):
    before = {n.name for n in admin.get("nodes")}
    control_plane.restart("kube-apiserver")
    after = wait_for(lambda: {n.name for n in admin.get("nodes")}, 30, "nodes after restart")
    assert after == before
    wait_for(lambda: all(control_plane.node_ready(n) for n in control_plane.gpu_nodes), 60,
             "nodes Ready after the restart")


def test_manifests_via_kustomization_grant_dask_rights(control_plane, profile_namespace, tmp_path,
                                                       no_dask_rights):
    """apply_manifests() reads a kustomization's resources; a ClusterRole labelled for
    kubeflow-edit aggregation (what the project's manifests ship) lets default-editor
    create DaskClusters."""
    ns = profile_namespace
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "test-dask-edit", "labels": {
            "rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit": "true"}},
        "rules": [{"apiGroups": ["kubernetes.dask.org"],
                   "resources": ["daskclusters", "daskworkergroups"],
                   "verbs": ["get", "list", "watch", "create", "patch", "delete"]}],
    }
    (tmp_path / "role.yaml").write_text(yaml.safe_dump(role))
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(
        {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
         "resources": ["role.yaml"]}))
    sa = sa_api(control_plane, ns)
    control_plane.apply_manifests(tmp_path)
    try:
        # Aggregation is asynchronous (controller-manager), so retry until allowed. In one
        # full run on a loaded 2-core machine 30 s was not enough (cause not found; the
        # same test passed alone and in the next full run): the wait is 90 s.
        def create():
            try:
                DaskCluster(gpu_cluster("by-editor", ns), api=sa).create()
                return True
            except kr8s.ServerError as exc:
                assert exc.response.status_code == 403
                return False

        wait_for(create, 90, "default-editor to be allowed to create DaskClusters")
        DaskCluster.get("by-editor", namespace=ns, api=sa).delete()
        wait_for(lambda: not list(sa.get("pods", namespace=ns, label_selector={
            "dask.org/cluster-name": "by-editor"})), 60, "cleanup")
    finally:
        control_plane.api.delete(role)
