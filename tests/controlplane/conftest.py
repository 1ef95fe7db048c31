"""Fixtures for tier 3: a real control plane on loopback (see README.md here)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from .cluster import BUILD_SCRIPT, ControlPlane, default_bin_dir

PROFILE_NAMESPACE = "kubeflow-user-example-com"
MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
SERVICE_ACCOUNT = "default-editor"  # what KubeFlow runs notebooks as
NOTEBOOK_POD = "notebook-0"
NOTEBOOK_IMAGE = "kubeflownotebookswg/jupyter-rapids:cp-test"  # never pulled: kwok pretends
DASK_API = "/apis/kubernetes.dask.org/v1"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "controlplane: runs against a real kube-apiserver/controller-manager/scheduler, "
        "kwok GPU nodes and the dask-kubernetes operator (builds binaries on first use)",
    )


def _build(config: pytest.Config) -> None:
    """Runs build.sh with its output shown live (it can take 20+ minutes cold)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        print(f"\n[controlplane] building binaries with {BUILD_SCRIPT}", flush=True)
        subprocess.run(["bash", str(BUILD_SCRIPT)], check=True)


@pytest.fixture(scope="session")
def control_plane(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The whole environment: control plane, kwok nodes, Dask CRDs, the operator and a
    KubeFlow-like profile namespace. ``RAPIDS_KF_CP_BIN_DIR`` points at prebuilt
    binaries instead of the cache build.sh fills."""
    bin_dir = os.environ.get("RAPIDS_KF_CP_BIN_DIR")
    if not bin_dir:
        _build(request.config)  # returns at once when the cache is complete
        bin_dir = default_bin_dir()
    t0 = time.monotonic()
    cp = ControlPlane(bin_dir, tmp_path_factory.mktemp("controlplane"))
    with cp:
        for step, call in (("crds_s", cp.install_operator_crds), ("operator_s", cp.start_operator),
                           ("profile_s", lambda: cp.create_profile_namespace(PROFILE_NAMESPACE))):
            t = time.monotonic()
            call()
            cp.timings[step] = time.monotonic() - t
        cp.timings["fixture_s"] = time.monotonic() - t0
        steps = ", ".join(f"{k} {v:.1f}" for k, v in cp.timings.items())
        print(f"\n[controlplane] up ({steps}), logs in {cp.logs}")
        yield cp


@pytest.fixture(scope="session")
def real_node(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory):
    """A real node (kubelet, containerd, CNI bridge, kube-proxy, CoreDNS) in the same
    cluster, with the unpatched operator for its namespaces (`real_node.real_namespace`).
    Teardown fails the run if a process, mount, netns, cgroup or rule is left behind."""
    from .node import RealNode

    node = RealNode(control_plane, tmp_path_factory.mktemp("node"))
    # Outside the try: start() waits for the machine's real-node lock, and a test timeout while
    # another session holds it must not run stop(), whose clean-up is machine-wide (the bridge,
    # iptables chains, every cni-* netns): that tore down the other session's running node.
    # Once it holds the lock, a failing start() stops itself.
    node.start()
    try:
        node.start_operator()
        steps = ", ".join(f"{k} {v:.1f}" for k, v in node.timings.items())
        print(f"\n[real node] up ({steps}), images {node.images}")
        yield node
    finally:
        node.stop()
    left = node.leftovers()
    assert not left, f"the real node left these behind: {left}"


@pytest.fixture(scope="session")
def profile_namespace(control_plane: ControlPlane) -> str:
    return PROFILE_NAMESPACE


# --- the extension's Jupyter server on the control plane -------------------------------------
#
# A test module sets NAMESPACE (its own profile namespace, so state never leaks between
# groups) and asks for `api`/`events` (tests/conftest.py): the server then runs the
# Kubernetes backend as that namespace's `default-editor` service account.


@pytest.fixture(scope="session")
def profiles(control_plane: ControlPlane):
    """make(ns): a KubeFlow-like profile namespace with a running notebook pod, once."""
    made: set[str] = set()

    def make(namespace: str) -> str:
        if namespace not in made:
            control_plane.create_profile_namespace(namespace)
            control_plane.create_notebook_pod(namespace, NOTEBOOK_POD, NOTEBOOK_IMAGE)
            made.add(namespace)
        return namespace

    return make


@pytest.fixture(scope="module")
def api_namespace(request: pytest.FixtureRequest, profiles) -> str:
    return profiles(request.module.NAMESPACE)


class DaskRights:
    """Whether our manifests/ are applied. Their ClusterRole is aggregated into
    kubeflow-edit, so this is cluster-wide: tests ask for the state they need."""

    def __init__(self, control_plane: ControlPlane):
        self.cp = control_plane

    def allowed(self) -> bool:
        return self.cp.service_account_can(PROFILE_NAMESPACE, SERVICE_ACCOUNT, "create",
                                           "daskclusters", "kubernetes.dask.org")

    def grant(self) -> None:
        self.cp.apply_manifests(MANIFESTS)
        # The controller-manager aggregates the role into kubeflow-edit asynchronously.
        self.cp.api.wait_for(self.allowed, 90, "manifests/ to reach kubeflow-edit")

    def revoke(self) -> None:
        self.cp.delete_manifests(MANIFESTS)
        self.cp.api.wait_for(lambda: not self.allowed(), 90,
                             "manifests/ to leave kubeflow-edit")


@pytest.fixture(scope="session")
def dask_rights_switch(control_plane: ControlPlane) -> DaskRights:
    return DaskRights(control_plane)


@pytest.fixture
def dask_rights(dask_rights_switch: DaskRights) -> None:
    """manifests/ applied: KubeFlow's kubeflow-edit plus our aggregated ClusterRoles."""
    dask_rights_switch.grant()


@pytest.fixture
def no_dask_rights(dask_rights_switch: DaskRights) -> None:
    """Only KubeFlow's own kubeflow-edit: no right on the Dask resources."""
    dask_rights_switch.revoke()


@pytest.fixture(autouse=True)
def kwok_schedulers_stand_in(monkeypatch) -> None:
    """kwok's pods run no process, so a server in this test process (the kwok API tests) gets
    its schedulers' worker lists from tests/kubernetes/stand_in.py: every Ready worker pod has
    joined. Servers of real-node tests run in processes of their own and ask real schedulers."""
    from ..kubernetes.stand_in import registers_ready_pods

    registers_ready_pods(monkeypatch)


@pytest.fixture
def rapids_kf_options() -> dict[str, Any]:
    """Override in a module for more c.RapidsKF options (timeouts, ...)."""
    return {}


@pytest.fixture
def as_service_account(control_plane: ControlPlane, api_namespace: str,
                       monkeypatch: pytest.MonkeyPatch) -> Path:
    """KUBECONFIG for `default-editor` of the module's namespace (a TokenRequest token),
    HOSTNAME of its notebook pod, and no HTTP proxy: every request goes to 127.0.0.1."""
    kubeconfig = control_plane.kubeconfig_for_service_account(api_namespace, SERVICE_ACCOUNT)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("HOSTNAME", NOTEBOOK_POD)
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    return kubeconfig


@pytest.fixture
def rapids_kf_config(api_namespace: str, as_service_account: Path,
                     rapids_kf_options: dict[str, Any]) -> dict[str, Any]:
    # GPU readings off: the schedulers' Service addresses are data here, never dialled.
    return {"backend": "kubernetes", "namespace": api_namespace, "gpu_metrics_interval": 0,
            **rapids_kf_options}


@pytest.fixture
def clean_namespace(control_plane: ControlPlane, api_namespace: str):
    """After the test: no DaskCluster and no Dask pod left in the module's namespace, so
    the next test finds all six GPUs free (the operator is started if a test left it off)."""
    yield
    control_plane.start_operator()
    delete_all_daskclusters(control_plane, api_namespace)


def delete_all_daskclusters(cp: ControlPlane, namespace: str, timeout: float = 90) -> None:
    path = f"{DASK_API}/namespaces/{namespace}/daskclusters"
    for dc in cp.api.get(path).get("items", []):
        cp.api.http.delete(f"{path}/{dc['metadata']['name']}")
    cp.api.wait_for(
        lambda: not cp.api.get(path)["items"] and not cp.api.get(
            f"/api/v1/namespaces/{namespace}/pods", labelSelector="dask.org/cluster-name")["items"],
        timeout, f"the Dask clusters of {namespace} to be gone")


async def in_thread(fn, *args, **kwargs):
    """Runs a blocking control-plane call without stalling the Jupyter server under test
    (it shares this event loop, and its watches must keep running meanwhile)."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def daskcluster_body(name: str, namespace: str, workers: int = 1, gpus: int = 1) -> dict:
    """A DaskCluster as a user would `kubectl apply` it (dask-kubernetes' own
    make_cluster_spec, GPU limit and toleration on the worker): not made by us."""
    from dask_kubernetes.operator import make_cluster_spec

    body = make_cluster_spec(name=name, image="rapidsai/base:kubectl", n_workers=workers)
    body["metadata"]["namespace"] = namespace
    if gpus:
        worker = body["spec"]["worker"]["spec"]
        worker["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": str(gpus)}}
        worker["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists",
                                  "effect": "NoSchedule"}]
    return body


OWNED_KINDS = {
    "daskclusters": DASK_API, "daskworkergroups": DASK_API, "daskautoscalers": DASK_API,
    "deployments": "/apis/apps/v1", "replicasets": "/apis/apps/v1",
    "pods": "/api/v1", "services": "/api/v1",
}


def objects_of(cp: ControlPlane, namespace: str, cluster: str) -> dict[str, list[str]]:
    """Every object in the namespace that belongs to `cluster`, by kind, as the admin
    sees it: the operator's label, or the `<cluster>` / `<cluster>-...` names it uses."""
    found = {}
    for plural, base in OWNED_KINDS.items():
        items = cp.api.get(f"{base}/namespaces/{namespace}/{plural}")["items"]
        found[plural] = sorted(
            o["metadata"]["name"] for o in items
            if (o["metadata"].get("labels") or {}).get("dask.org/cluster-name") == cluster
            or o["metadata"]["name"] == cluster or o["metadata"]["name"].startswith(f"{cluster}-"))
    return found


async def eventually(check, timeout: float, what: str, interval: float = 0.25):
    """Polls a blocking `check()` (run in a thread) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await in_thread(check)
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")


# --- Kueue (kueue.py, kueue_scenarios.py) ------------------------------------------------------------


@pytest.fixture(scope="session")
def kueue(control_plane: ControlPlane):
    """The real Kueue controller manager with a ClusterQueue of 4 GPUs (of the 6 on the kwok
    nodes), for the namespaces a test hands to `kueue.manage_namespace`; only those see it."""
    from .kueue import Kueue

    t = time.monotonic()
    queue = Kueue(control_plane).start()
    try:
        queue.cluster_queue(gpus=4)
        control_plane.timings["kueue_s"] = time.monotonic() - t
        print(f"\n[controlplane] Kueue up in {control_plane.timings['kueue_s']:.1f}s")
        yield queue
    finally:
        queue.stop()
