"""Istio sidecars: every pod template we write opts out by default; with c.RapidsKF.mesh_sidecars
nothing opts out and a job's runner asks the sidecar to quit when it is done. Bodies are checked
against the operator's own CRD schema (nothing pruned: the metadata reaches the pods)."""

from __future__ import annotations

import http.server
import threading

from jupyter_rapids_kf.backends.kubernetes.spec import build_daskcluster
from jupyter_rapids_kf.config import RapidsKF
from jupyter_rapids_kf.backends.kubernetes.jobs import daskjob_body
from jupyter_rapids_kf.models.job import Job
from jupyter_rapids_kf.batch.runner import quit_sidecar
from jupyter_rapids_kf.models.cluster import ClusterSpec

from .crd import errors, pruned

INJECT = "sidecar.istio.io/inject"


def spec() -> ClusterSpec:
    return ClusterSpec(name="etl", workers=2, gpus_per_worker=1, image=None, worker_command="dask-cuda-worker",
                       cpu="4", memory="16Gi", idle_timeout=0, env={})


def job() -> Job:
    return Job(name="etl", namespace="ns", backend="kubernetes", file="etl.py", parameters={})


def cluster(mesh: bool) -> dict:
    return build_daskcluster(spec(), image="img", scheduler_cpu="1", scheduler_memory="1Gi", mesh_sidecars=mesh)


def test_scheduler_and_worker_pods_opt_out_by_default():
    body = cluster(False)
    assert errors("daskclusters", body) == [] and pruned("daskclusters", body) == []
    for part in ("scheduler", "worker"):
        meta = body["spec"][part]["metadata"]
        assert meta["labels"][INJECT] == "false" and meta["annotations"][INJECT] == "false"


def test_with_mesh_sidecars_nothing_opts_out():
    body = cluster(True)
    assert INJECT not in str(body)


def test_a_jobs_runner_and_its_cluster_opt_out_by_default_and_do_not_quit_a_sidecar():
    body = daskjob_body(job(), spec(), "img", "etl.py", RapidsKF())
    assert errors("daskjobs", body) == [] and pruned("daskjobs", body) == []
    runner = body["spec"]["job"]
    assert runner["metadata"]["labels"][INJECT] == "false"
    assert runner["metadata"]["annotations"][INJECT] == "false"
    assert body["spec"]["cluster"]["spec"]["worker"]["metadata"]["labels"][INJECT] == "false"
    assert "--quit-sidecar" not in runner["spec"]["containers"][0]["args"]


def test_with_mesh_sidecars_the_runner_quits_the_sidecar_when_done():
    body = daskjob_body(job(), spec(), "img", "etl.py", RapidsKF(mesh_sidecars=True))
    assert errors("daskjobs", body) == [] and pruned("daskjobs", body) == []
    assert INJECT not in str(body)
    args = body["spec"]["job"]["spec"]["containers"][0]["args"]
    assert args[args.index("--quit-sidecar") + 1] == "http://127.0.0.1:15020/quitquitquit"
    quiet = daskjob_body(job(), spec(), "img", "etl.py", RapidsKF(mesh_sidecars=True, sidecar_quit_url=""))
    assert "--quit-sidecar" not in quiet["spec"]["job"]["spec"]["containers"][0]["args"]


def test_quit_sidecar_posts_and_survives_no_sidecar(capsys):
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            seen.append((self.command, self.path))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.handle_request, daemon=True).start()
    quit_sidecar(f"http://127.0.0.1:{server.server_port}/quitquitquit")
    server.server_close()
    assert seen == [("POST", "/quitquitquit")]
    quit_sidecar(f"http://127.0.0.1:{server.server_port}/quitquitquit", timeout=2)  # nothing listens now
    out = capsys.readouterr().out
    assert "asked the sidecar to quit" in out and "no sidecar to quit" in out


def test_a_pipeline_step_quits_the_sidecar_only_with_mesh_sidecars(monkeypatch):
    from jupyter_rapids_kf.pipelines import cluster, step

    asked = []
    monkeypatch.setattr("jupyter_rapids_kf.batch.runner.quit_sidecar", asked.append)
    monkeypatch.setattr(cluster, "server_config", lambda: RapidsKF())
    step.quit_mesh_sidecar()
    assert asked == []
    monkeypatch.setattr(cluster, "server_config", lambda: RapidsKF(mesh_sidecars=True))
    step.quit_mesh_sidecar()
    assert asked == ["http://127.0.0.1:15020/quitquitquit"]
