"""Service-mesh sidecars and batch jobs on the real node, with a stand-in for Istio's injector
(fake_mesh.py: a mutating webhook of this test's own, NOT Istio) that adds a long-running proxy
container to every pod of a namespace, ignoring `sidecar.istio.io/inject: "false"` as a mesh
that requires sidecars would:

- with c.RapidsKF.mesh_sidecars off (the default), a DaskJob's runner finishes its file but its
  pod never ends (the proxy keeps running): the job never completes and its cluster stays;
- with mesh_sidecars on, the runner asks the proxy to quit (POST 127.0.0.1:15020/quitquitquit)
  and the job completes; the operator deletes its cluster;
- a proxy injected as a Kubernetes native sidecar is ended by the kubelet after the runner.
The namespaces' pods all carry the opt-out label and annotation by default (the operator's and
ours), which Istio itself would honour."""

from __future__ import annotations

import time

import pytest

from .fake_mesh import INJECTED, PROXY, FakeMeshInjector
from .node_server import start_server, wait_cluster_pods_gone
from .waiting import wait_for

pytestmark = pytest.mark.controlplane

CLASSIC = "real-mesh"
NATIVE = "real-mesh-native"
INJECT = "sidecar.istio.io/inject"
QUIT = "http://127.0.0.1:15020/quitquitquit"
SMALL = {"workers": 1, "gpus_per_worker": 0, "worker_command": "dask worker", "cpu": "250m", "memory": "1Gi"}
JOB = (
    "from distributed import Client\n"
    "client = Client()  # DASK_SCHEDULER_ADDRESS, set by the operator\n"
    "client.wait_for_workers(1, timeout=120)\n"
    "print('sum', client.submit(sum, range(n)).result())\n"
)
NEVER_WAIT = 45  # seconds after the runner's file finished: its pod must still be running


@pytest.fixture(scope="module")
def injector(real_node, control_plane, dask_rights_switch):
    dask_rights_switch.grant()
    fake = FakeMeshInjector(control_plane, real_node.dask_image).start()
    for namespace, mode in ((CLASSIC, "classic"), (NATIVE, "native")):
        real_node.real_namespace(namespace)
        fake.mesh_namespace(namespace, mode)
    yield fake
    fake.stop()


@pytest.fixture
def server_for(real_node, control_plane, tmp_path):
    """server_for(namespace, **c.RapidsKF options): our Jupyter server there, stopped after the test."""
    started = []

    def start(namespace: str, **options):
        srv = start_server(real_node, control_plane, namespace, tmp_path / f"jupyter-{len(started)}",
                           scheduler_cpu="250m", **options)
        started.append(srv)
        (srv.dir / "count.py").write_text(JOB)
        return srv

    yield start
    for srv in started:
        srv.stop()


def pod(cp, namespace: str, name: str) -> dict:
    return cp.api.get(f"/api/v1/namespaces/{namespace}/pods/{name}")


def pods_of(cp, namespace: str, job: str) -> list[dict]:
    return cp.api.get(f"/api/v1/namespaces/{namespace}/pods", labelSelector=f"dask.org/cluster-name={job}")["items"]


def container_state(p: dict, name: str) -> dict:
    statuses = (p.get("status") or {}).get("containerStatuses", []) + \
        (p.get("status") or {}).get("initContainerStatuses", [])
    return next((s.get("state") or {} for s in statuses if s["name"] == name), {})


def wait(check, timeout: float, what: str):
    return wait_for(check, timeout, what, interval=1)


def submit(srv, name: str) -> None:
    resp = srv.post("jobs", {"path": "count.py", "name": name, "parameters": {"n": 100}, "cluster": SMALL})
    assert resp.status_code == 202, resp.text


def finish(srv, cp, namespace: str, name: str) -> None:
    """Cancels the job (if it is still there) and waits for its pods to go: the node has 2 CPUs."""
    srv.delete(f"jobs/{name}")
    wait(lambda: not pods_of(cp, namespace, name), 120, f"the pods of {name} gone")
    wait_cluster_pods_gone(cp, namespace)


def test_without_the_handling_a_job_never_ends_under_a_mesh_that_requires_sidecars(
        injector, server_for, control_plane):
    cp = control_plane
    srv = server_for(CLASSIC)  # c.RapidsKF.mesh_sidecars is off by default
    submit(srv, "stuck")
    try:
        def finished():
            path = f"/api/v1/namespaces/{CLASSIC}/pods/stuck-runner"
            runner = cp.api.get(path) if cp.api.exists(path) else {}
            return runner if container_state(runner, "job").get("terminated") else None

        runner = wait(finished, 240, "the runner's file finished")
        assert container_state(runner, "job")["terminated"]["exitCode"] == 0
        # Every pod of the job asked not to be injected (the operator's label, and ours: label and
        # annotation); the stand-in injected them all anyway, as a mesh that requires sidecars.
        pods = pods_of(cp, CLASSIC, "stuck")
        assert {p["metadata"]["labels"].get("dask.org/component") for p in pods} == {"job-runner", "scheduler", "worker"}
        for p in pods:
            assert p["metadata"]["labels"].get(INJECT) == "false", p["metadata"]
            assert p["metadata"]["annotations"].get(INJECT) == "false", p["metadata"]
            assert p["metadata"]["annotations"].get(INJECTED) == "injected"
            assert PROXY in [c["name"] for c in p["spec"]["containers"]]
        assert "--quit-sidecar" not in runner["spec"]["containers"][0]["args"]
        # The log of a two-container pod is read from the runner's own container.
        assert "sum 4950" in srv.get("jobs/stuck/logs").json()["lines"]
        # The runner's file is done, but its pod, the job and its cluster go on: the proxy runs.
        time.sleep(NEVER_WAIT)
        runner = pod(cp, CLASSIC, "stuck-runner")
        assert runner["status"]["phase"] == "Running"
        assert "running" in container_state(runner, PROXY)
        job = srv.get("jobs/stuck").json()
        assert job["phase"] == "Running", job
        assert srv.get("clusters/stuck").status_code == 200
        assert {p["metadata"]["labels"]["dask.org/component"] for p in pods_of(cp, CLASSIC, "stuck")} == {
            "job-runner", "scheduler", "worker"}
    finally:
        finish(srv, cp, CLASSIC, "stuck")


def test_with_mesh_sidecars_the_runner_quits_the_proxy_and_the_job_completes(injector, server_for, control_plane):
    cp = control_plane
    srv = server_for(CLASSIC, mesh_sidecars=True)
    submit(srv, "meshed")
    try:
        done = wait(lambda: (j := srv.get("jobs/meshed").json()).get("phase") in ("Successful", "Failed")
                    and (j.get("output") or j.get("error")) and j, 300, "finished")
        assert done["phase"] == "Successful" and done["error"] is None, done
        assert "sum 4950" in (srv.dir / "count.meshed.log").read_text()
        runner = pod(cp, CLASSIC, "meshed-runner")
        assert runner["status"]["phase"] == "Succeeded"
        assert runner["metadata"]["annotations"].get(INJECTED) == "injected"
        assert INJECT not in runner["metadata"]["annotations"]  # nothing of ours opts out now
        assert container_state(runner, PROXY)["terminated"]["exitCode"] == 0  # it quit when asked
        args = runner["spec"]["containers"][0]["args"]
        assert args[args.index("--quit-sidecar") + 1] == QUIT
        log = srv.get("jobs/meshed/logs").json()["lines"]
        assert f"rapids-kf: asked the sidecar to quit ({QUIT}): 200" in log, log
        # The operator deletes the job's cluster once the runner has ended.
        wait(lambda: [p["metadata"]["name"] for p in pods_of(cp, CLASSIC, "meshed")] == ["meshed-runner"], 120,
             "the job's cluster deleted")
        assert srv.get("clusters/meshed").status_code == 404
    finally:
        finish(srv, cp, CLASSIC, "meshed")


def test_a_native_sidecar_is_ended_by_the_kubelet_after_the_runner(injector, server_for, control_plane):
    cp = control_plane
    srv = server_for(NATIVE)
    submit(srv, "native")
    try:
        done = wait(lambda: (j := srv.get("jobs/native").json()).get("phase") in ("Successful", "Failed")
                    and (j.get("output") or j.get("error")) and j, 300, "finished")
        assert done["phase"] == "Successful", done
        runner = pod(cp, NATIVE, "native-runner")
        sidecar = next(c for c in runner["spec"]["initContainers"] if c["name"] == PROXY)
        assert sidecar["restartPolicy"] == "Always"
        assert runner["status"]["phase"] == "Succeeded"
        assert "terminated" in container_state(runner, PROXY)  # stopped by the kubelet, never asked
        wait(lambda: [p["metadata"]["name"] for p in pods_of(cp, NATIVE, "native")] == ["native-runner"], 120,
             "the job's cluster deleted")
    finally:
        finish(srv, cp, NATIVE, "native")
