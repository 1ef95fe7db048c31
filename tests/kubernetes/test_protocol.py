"""Protocol ucx on Kubernetes: the scheduler listens on TCP and UCX, the GPU workers talk UCX,
and the card reads both addresses back (jupyter_rapids_kf/models/protocols.py)."""

from __future__ import annotations

import pytest
from traitlets import TraitError

from jupyter_rapids_kf.backends.base import BackendFacts
from jupyter_rapids_kf.backends.kubernetes.spec import build_daskcluster, drop_none
from jupyter_rapids_kf.backends.kubernetes.status import Objects, Timeouts, cluster_status
from jupyter_rapids_kf.clusters.rules import resolve
from jupyter_rapids_kf.config import RapidsKF
from jupyter_rapids_kf.errors import Invalid
from jupyter_rapids_kf.models.cluster import ClusterRequest
from jupyter_rapids_kf.models.gpu_workers import GPUWorkerSettings

from . import crd, fake_operator
from .test_api_flow import sent

KUBE = BackendFacts(namespace="team-a", default_image="img", accepts_image=True)


def body_for(config: RapidsKF | None = None, **request) -> dict:
    config = config or RapidsKF()
    spec = resolve(config, ClusterRequest(name="gpu-etl", **request), KUBE)
    return drop_none(build_daskcluster(spec, image="img", scheduler_cpu="1", scheduler_memory="4Gi",
                                       gpu_workers=GPUWorkerSettings.from_config(config)))


def containers(body: dict) -> tuple[dict, dict]:
    return (body["spec"]["scheduler"]["spec"]["containers"][0], body["spec"]["worker"]["spec"]["containers"][0])


def test_a_ucx_gpu_cluster_has_its_scheduler_on_tcp_and_ucx_and_its_workers_on_ucx():
    body = body_for(protocol="ucx", gpus_per_worker=2)
    scheduler, worker = containers(body)
    assert scheduler["args"] == ["dask", "scheduler", "--host", "0.0.0.0", "--protocol", "tcp,ucx",
                                 "--port", "8786,8789"]
    assert worker["args"][0] == "dask-cuda-worker"
    assert worker["args"][worker["args"].index("--protocol") + 1] == "ucx"
    # UCX picks its transports itself (NVLink between the pod's 2 GPUs) unless the admin forces some.
    assert not [a for a in worker["args"] if a.startswith("--enable-")]
    assert {"name": "ucx-comm", "containerPort": 8789, "protocol": "TCP"} in scheduler["ports"]
    service_ports = {p["name"]: p["port"] for p in body["spec"]["scheduler"]["service"]["ports"]}
    assert service_ports == {"tcp-comm": 8786, "http-dashboard": 8787, "ucx-comm": 8789}
    assert crd.errors("daskclusters", body) == [] and crd.pruned("daskclusters", body) == []


def test_a_tcp_cluster_is_built_as_before():
    scheduler, worker = containers(body_for())
    assert scheduler["args"] == ["dask", "scheduler", "--host", "0.0.0.0"]
    assert "--protocol" not in worker["args"]
    assert [p["name"] for p in scheduler["ports"]] == ["tcp-comm", "http-dashboard"]


def test_the_admin_can_force_ucx_transports_and_the_users_own_flags_win():
    config = RapidsKF(gpu_ucx_transports="nvlink,tcp")
    _, worker = containers(body_for(config, protocol="ucx"))
    assert "--enable-nvlink" in worker["args"] and "--enable-tcp-over-ucx" in worker["args"]
    _, worker = containers(body_for(config, protocol="ucx", worker_command="dask-cuda-worker --disable-nvlink"))
    assert "--enable-nvlink" not in worker["args"] and "--disable-nvlink" in worker["args"]
    assert "--enable-tcp-over-ucx" in worker["args"]
    with pytest.raises(TraitError, match="unknown transport 'nvlnk'"):
        RapidsKF(gpu_ucx_transports="nvlnk")


@pytest.mark.parametrize("request_fields, message", [
    ({"protocol": "ucx", "gpus_per_worker": 0}, "protocol ucx is for GPU clusters"),
    ({"protocol": "ucx", "worker_command": "dask worker"}, "needs the worker command dask-cuda-worker"),
])
def test_ucx_where_it_cannot_run_is_refused_with_the_reason(request_fields, message):
    with pytest.raises(Invalid, match=message) as refused:
        body_for(**request_fields)
    assert refused.value.field == "protocol"


def test_the_card_reads_the_protocol_and_the_ucx_address_back_from_the_daskcluster():
    for protocol, ucx_address in (("ucx", "ucx://gpu-etl-scheduler.team-a:8789"), ("tcp", None)):
        body = body_for(protocol=protocol)
        body["metadata"]["creationTimestamp"] = "2026-12-07T00:00:00Z"
        cluster = cluster_status(Objects(cluster=body), "team-a", Timeouts()).to_json()
        assert cluster["protocol"] == protocol
        assert cluster["scheduler"]["address"] == "tcp://gpu-etl-scheduler.team-a:8786"
        assert cluster["scheduler"]["ucx_address"] == ucx_address


async def test_a_ucx_request_through_the_api_sends_a_valid_body_and_the_snippet_names_both_addresses(api, k8s):
    code, cluster = await api.call("POST", "clusters", {"name": "ucx-etl", "workers": 2, "gpus_per_worker": 1,
                                                        "protocol": "ucx"})
    assert code == 202, cluster
    assert cluster["protocol"] == "ucx"
    [body] = sent(k8s)
    assert crd.errors("daskclusters", body) == [] and k8s.validation == []
    fake_operator.reconcile(k8s, "ucx-etl")
    snippet = await api.get("clusters/ucx-etl/snippet", kind="client")
    assert "ucx://ucx-etl-scheduler." in snippet["code"] and "Client('tcp://ucx-etl-scheduler." in snippet["code"]
    compile(snippet["code"], "snippet", "exec")

    environment = await api.get("environment")
    assert environment["protocols"] == ["tcp", "ucx"] and environment["defaults"]["protocol"] == "tcp"
    [ucx] = [c for c in environment["checks"] if c["name"] == "ucx"]
    assert "distributed-ucxx" in ucx["message"]

    code, refused = await api.call("POST", "clusters", {"name": "cpu-ucx", "gpus_per_worker": 0, "protocol": "ucx"})
    assert code == 400 and refused["error"]["field"] == "protocol"
    code, refused = await api.call("POST", "clusters", {"name": "bad", "protocol": "rdma"})
    assert code == 400 and "tcp, ucx" in refused["error"]["message"]
