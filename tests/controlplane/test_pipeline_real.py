"""The exported pipeline's steps run as Pods of the profile namespace on the real node, the way
KubeFlow Pipelines would run them: the image, command and args are read from the compiled
pipeline YAML that Export as pipeline wrote (kfp_ir.py fills in the placeholders as KFP's
driver and launcher do), the Pod runs as the run's service account, and the step finds the
API server by in-cluster config and the scheduler by cluster DNS. No KFP backend runs here.

- the step creates a real DaskCluster, the notebook computes on its real workers, and the
  cluster and its pods are gone when the Pod ends; the exit handler then finds nothing;
- a raising notebook: the Pod fails with the cell's error in its log, the cluster is gone too;
- a step killed mid-run leaves its cluster; the exit handler's Pod (as `pipeline-runner`,
  bound by manifests/pipelines) deletes it.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import nbformat
import pytest
import yaml

from jupyter_rapids_kf.pipelines import cluster_name_for_run

from .conftest import SERVICE_ACCOUNT
from .kfp_ir import task_pod
from .node_server import NodeJupyterServer

# The first test may wait for the machine's real node (a lock) and build the notebook image.
pytestmark = [pytest.mark.controlplane, pytest.mark.timeout(900)]

NAMESPACE = "real-pipeline"
STEP, CLEANUP = "run-notebook-on-gpu-cluster", "delete-gpu-cluster"
SMALL = {"workers": 2, "gpus_per_worker": 0, "worker_command": "dask worker", "cpu": "250m", "memory": "1Gi"}
# The admin's c.RapidsKF (the defaults would give the scheduler 1 CPU and 4Gi).
ADMIN = {"scheduler_cpu": "250m", "scheduler_memory": "1Gi", "max_workers": 4}
PIPELINES_MANIFEST = Path(__file__).resolve().parents[2] / "manifests" / "pipelines" / "rolebinding.yaml"
COMPUTE = (
    "import socket\n"
    "from distributed import Client\n"
    "client = Client()  # DASK_SCHEDULER_ADDRESS: the step's cluster\n"
    "client.wait_for_workers(2, timeout=120)\n"
    "print('worker hosts', ' '.join(sorted(client.run(socket.gethostname).values())))\n"
    "print('sum', client.submit(sum, range(n)).result())\n"
)


@pytest.fixture(scope="module")
def server(real_node, control_plane, dask_rights_switch, tmp_path_factory):
    """Our Jupyter server as a notebook in the notebook image would be: exports use its image."""
    dask_rights_switch.grant()
    real_node.real_namespace(NAMESPACE)
    kubeconfig = control_plane.kubeconfig_for_service_account(NAMESPACE, SERVICE_ACCOUNT)
    srv = NodeJupyterServer(real_node, NAMESPACE, kubeconfig, tmp_path_factory.mktemp("jupyter"), {
        "default_image": real_node.notebook_image, "use_notebook_image": False, "gpu_metrics_interval": 0,
    }).start()
    yield srv
    srv.stop()


def export(server, name: str, *cells: str) -> dict:
    """Export as pipeline through the REST API; the compiled IR it wrote."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("n = 10")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, server.dir / f"{name}.ipynb")
    resp = server.post("pipelines", {"path": f"{name}.ipynb", "parameters": {"n": 100}, "cluster": SMALL})
    assert resp.status_code == 201, resp.text
    return yaml.safe_load((server.dir / resp.json()["path"]).read_text())


class Run:
    """One run of the pipeline: its id, and its tasks run as Pods, watched while they run."""

    def __init__(self, cp, ir: dict, service_account: str = SERVICE_ACCOUNT):
        self.cp, self.ir, self.sa = cp, ir, service_account
        self.id = str(uuid.uuid4())
        self.cluster = cluster_name_for_run(self.id)  # what both steps name the run's cluster
        self.seen: dict[str, tuple[str, set[str]]] = {}  # cluster pod -> (node, phases observed)
        self.pods: dict[str, dict] = {}  # cluster pod -> the pod as last seen

    def start(self, task: str, admin_config: dict | None = None) -> str:
        """The task's Pod; `admin_config`: the admin's c.RapidsKF, as a jupyter_server_config.json
        where the image would hold it (/etc/jupyter), mounted from a ConfigMap."""
        pod = task_pod(self.ir, task, self.id, name=f"{task[:30]}-{self.id[:8]}", namespace=NAMESPACE,
                       service_account=self.sa)
        if admin_config is not None:
            name = f"admin-{self.id[:8]}"
            self.cp.api.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NAMESPACE},
                               "data": {"jupyter_server_config.json": json.dumps({"RapidsKF": admin_config})}})
            pod["spec"]["volumes"] = [{"name": "admin", "configMap": {"name": name}}]
            pod["spec"]["containers"][0]["volumeMounts"] = [{
                "name": "admin", "mountPath": "/etc/jupyter/jupyter_server_config.json",
                "subPath": "jupyter_server_config.json", "readOnly": True}]
        self.cp.api.request("POST", f"/api/v1/namespaces/{NAMESPACE}/pods", json=pod)
        return pod["metadata"]["name"]

    def observe(self) -> None:
        for pod in self.cp.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods",
                                   labelSelector=f"dask.org/cluster-name={self.cluster}")["items"]:
            phases = self.seen.get(pod["metadata"]["name"], ("", set()))[1]
            phases.add(pod.get("status", {}).get("phase", ""))
            self.seen[pod["metadata"]["name"]] = (pod["spec"].get("nodeName", ""), phases)
            self.pods[pod["metadata"]["name"]] = pod

    def wait(self, name: str, timeout: float = 400) -> tuple[str, str]:
        """The Pod's phase and log once it has ended (its cluster watched meanwhile)."""
        path = f"/api/v1/namespaces/{NAMESPACE}/pods/{name}"
        deadline = time.monotonic() + timeout
        try:
            while (phase := self.cp.api.get(path)["status"].get("phase")) not in ("Succeeded", "Failed"):
                assert time.monotonic() < deadline, f"pod {name} still {phase} after {timeout:.0f} s"
                self.observe()
                time.sleep(1)
            return phase, self.cp.api.request("GET", f"{path}/log").text
        finally:
            self.cp.api.http.delete(path, params={"gracePeriodSeconds": "0"})

    def left(self) -> list[str]:
        found = [o["metadata"]["name"] for o in self.cp.api.get(
            f"/apis/kubernetes.dask.org/v1/namespaces/{NAMESPACE}/daskclusters")["items"]
            if o["metadata"]["name"] == self.cluster]
        found += [p["metadata"]["name"] for p in self.cp.api.get(
            f"/api/v1/namespaces/{NAMESPACE}/pods", labelSelector=f"dask.org/cluster-name={self.cluster}")["items"]]
        return found

    def gone(self, timeout: float = 120) -> bool:
        """The step returns once the DaskCluster is gone; its pods then stop (garbage collector,
        graceful shutdown), which is waited for here."""
        deadline = time.monotonic() + timeout
        while self.left() and time.monotonic() < deadline:
            time.sleep(1)
        return self.left() == []


def running_on_the_node(run: Run) -> list[str]:
    return sorted(p for p, (node, phases) in run.seen.items() if node == "real-node-1" and "Running" in phases)


def test_the_step_pod_makes_a_real_cluster_computes_on_it_and_deletes_it(server, real_node, control_plane):
    ir = export(server, "etl", COMPUTE)
    run = Run(control_plane, ir)
    pod = task_pod(ir, STEP, run.id, name="x", namespace=NAMESPACE, service_account=SERVICE_ACCOUNT)
    container = pod["spec"]["containers"][0]
    assert container["image"] == real_node.notebook_image  # the notebook's own image, from the YAML
    assert container["command"] == ["python", "-m", "jupyter_rapids_kf.pipelines.step", "run"]

    phase, log = run.wait(run.start(STEP, admin_config=ADMIN))
    assert phase == "Succeeded", log[-3000:]
    assert f"rapids-kf: created cluster {run.cluster}" in log
    # The scheduler and both workers ran as pods on the node while the step ran ...
    seen = running_on_the_node(run)
    schedulers = [p for p in seen if "-scheduler-" in p]
    assert len(schedulers) == 1, run.seen
    # ... the scheduler sized by the admin's config of the image, read by the step at run time ...
    limits = run.pods[schedulers[0]]["spec"]["containers"][0]["resources"]["limits"]
    assert (limits["cpu"], limits["memory"]) == (ADMIN["scheduler_cpu"], ADMIN["scheduler_memory"])
    workers = [p for p in seen if "-worker-" in p]
    assert len(workers) == 2, run.seen
    # ... and the notebook computed on the workers: its tasks ran on those two worker pods (a pod's
    # hostname is its name cut to 63 characters).
    hosts = next(line for line in log.splitlines() if line.startswith("worker hosts ")).split()[2:]
    assert len(set(hosts)) == 2 and all(any(w.startswith(h) for w in workers) for h in hosts), (hosts, workers)
    assert "sum 4950" in log.splitlines()  # the run's parameter n = 100, not the notebook's 10
    assert f"rapids-kf: deleted cluster {run.cluster}" in log
    assert run.gone()

    # The exit handler runs after the step whatever happened: here it finds nothing left.
    phase, log = run.wait(run.start(CLEANUP), 120)
    assert phase == "Succeeded", log[-3000:]
    assert f"rapids-kf: no cluster {run.cluster} to delete" in log


def test_a_raising_step_pod_fails_with_the_error_and_deletes_its_cluster(server, control_plane):
    ir = export(server, "broken", COMPUTE, "1 / 0", "print('never')")
    run = Run(control_plane, ir)
    phase, log = run.wait(run.start(STEP))
    assert phase == "Failed", log[-3000:]
    assert "rapids-kf error: ZeroDivisionError: division by zero" in log
    assert "sum 4950" in log.splitlines() and "never" not in log  # the cells before it ran on the cluster
    assert len([p for p in running_on_the_node(run) if "-worker-" in p]) == 2, run.seen
    assert f"rapids-kf: deleted cluster {run.cluster}" in log
    assert run.gone()


def test_the_exit_handler_pod_deletes_the_cluster_of_a_killed_step(server, control_plane):
    """As standalone KFP runs steps: service account `pipeline-runner`, given our rights by
    manifests/pipelines (with `kustomize edit set namespace` to this namespace)."""
    binding = yaml.safe_load(PIPELINES_MANIFEST.read_text())
    binding["metadata"]["namespace"] = NAMESPACE
    binding["subjects"][0]["namespace"] = NAMESPACE
    control_plane.api.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                             "metadata": {"name": "pipeline-runner", "namespace": NAMESPACE}})
    control_plane.api.apply(binding)
    control_plane.api.wait_for(lambda: control_plane.service_account_can(
        NAMESPACE, "pipeline-runner", "delete", "daskclusters", "kubernetes.dask.org"), 30, "the binding")

    ir = export(server, "killed", COMPUTE, "import time\ntime.sleep(3600)")
    run = Run(control_plane, ir, "pipeline-runner")
    step = run.start(STEP)
    path = f"/api/v1/namespaces/{NAMESPACE}/pods/{step}"
    deadline = time.monotonic() + 300
    while len([p for p in running_on_the_node(run) if "-worker-" in p]) < 2:
        assert time.monotonic() < deadline, f"no running cluster; seen {run.seen}"
        assert control_plane.api.get(path)["status"].get("phase") in ("Pending", "Running")
        run.observe()
        time.sleep(1)
    # Killed mid-run (a terminated run, a lost node): its `finally` never runs.
    control_plane.api.http.delete(path, params={"gracePeriodSeconds": "0"})
    control_plane.api.wait_for(lambda: not control_plane.api.exists(path), 60, "the step pod to go")
    time.sleep(5)
    assert run.cluster in run.left()  # left behind, with its GPUs

    phase, log = run.wait(run.start(CLEANUP), 180)
    assert phase == "Succeeded", log[-3000:]
    assert f"rapids-kf: deleted cluster {run.cluster}" in log
    assert run.gone()
