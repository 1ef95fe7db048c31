"""Protocol ucx on the local backend: LocalCUDACluster gets it where the request asks and UCX is
installed, and is refused with the fix where it is not (jupyter_rapids_kf/models/protocols.py)."""

from __future__ import annotations

import pytest

from jupyter_rapids_kf.backends.base import GPUInfo
from jupyter_rapids_kf.backends.local.machine import machine_facts
from jupyter_rapids_kf.clusters.rules import offered_protocols, resolve
from jupyter_rapids_kf.clusters.snippets import client_snippet
from jupyter_rapids_kf.config import RapidsKF
from jupyter_rapids_kf.errors import Invalid
from jupyter_rapids_kf.models import protocols
from jupyter_rapids_kf.models.cluster import Cluster, ClusterRequest, Scheduler

from .test_gpu_workers import local_kwargs

H100 = [GPUInfo(name="H100", memory_total=80 * 2**30)] * 2


def gpu_facts(monkeypatch, installed: bool):
    monkeypatch.setattr("jupyter_rapids_kf.backends.local.machine.ucx_missing",
                        lambda: [] if installed else ["ucxx", "distributed_ucxx"])
    return machine_facts(H100, [])


def local_cluster_kwargs(monkeypatch, config: RapidsKF, protocol: str) -> dict:
    """What the runner passes to LocalCUDACluster for a request the rules let through."""
    spec = resolve(config, ClusterRequest(name="gpu", workers=2, protocol=protocol), gpu_facts(monkeypatch, True))
    return local_kwargs(config, spec.memory, monkeypatch, protocol=spec.protocol)


def test_a_local_ucx_gpu_cluster_is_a_localcudacluster_on_ucx_with_its_scheduler_on_tcp_too(monkeypatch):
    kwargs = local_cluster_kwargs(monkeypatch, RapidsKF(), "ucx")
    assert kwargs["protocol"] == "ucx"
    assert kwargs["scheduler_kwargs"] == {"protocol": ["tcp", "ucx"], "port": [0, 0]}
    assert not [k for k in kwargs if k.startswith("enable_") and k != "enable_cudf_spill"]  # UCX chooses
    forced = local_cluster_kwargs(monkeypatch, RapidsKF(gpu_ucx_transports="nvlink"), "ucx")
    assert forced["enable_nvlink"] is True
    plain = local_cluster_kwargs(monkeypatch, RapidsKF(), "tcp")
    assert "protocol" not in plain and "scheduler_kwargs" not in plain


def test_ucx_is_refused_with_the_fix_where_this_servers_python_lacks_it(monkeypatch):
    facts = gpu_facts(monkeypatch, installed=False)
    assert offered_protocols(facts) == ["tcp"]
    monkeypatch.setattr(protocols, "ucx_missing", lambda: ["ucxx", "distributed_ucxx"])
    with pytest.raises(Invalid, match="cannot import") as refused:
        resolve(RapidsKF(), ClusterRequest(name="gpu", protocol="ucx"), facts)
    assert refused.value.field == "protocol" and "pip install distributed-ucxx-cu13" in refused.value.fix
    assert offered_protocols(gpu_facts(monkeypatch, installed=True)) == ["tcp", "ucx"]


def test_the_client_snippet_of_a_ucx_cluster_runs_as_is_and_names_the_ucx_address():
    cluster = Cluster(name="gpu", namespace="local", backend="local", protocol="ucx",
                      scheduler=Scheduler(ready=True, address="tcp://127.0.0.1:1234",
                                          ucx_address="ucx://127.0.0.1:5678"))
    code = client_snippet(cluster)
    compile(code, "snippet", "exec")
    assert "client = Client('tcp://127.0.0.1:1234')" in code and "Client('ucx://127.0.0.1:5678')" in code
    cluster.protocol, cluster.scheduler.ucx_address = "tcp", None
    assert "ucx" not in client_snippet(cluster)


def test_protocol_of_a_worker_command_line():
    assert protocols.protocol_of_args(["dask-cuda-worker", "--protocol", "ucx"]) == "ucx"
    assert protocols.protocol_of_args(["dask-cuda-worker", "--protocol=ucxx"]) == "ucx"
    assert protocols.protocol_of_args(["dask-cuda-worker", "--nthreads", "1"]) == "tcp"
    assert protocols.kubernetes_ucx_address("tcp://a-scheduler.ns:8786") == "ucx://a-scheduler.ns:8789"
