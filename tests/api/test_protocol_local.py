"""Protocol ucx on the local backend, on this CPU machine: refused with the reasons a user can act
on, TCP clusters unchanged (the real UCX cluster is tests/unit/test_ucx_real.py)."""

from __future__ import annotations


async def test_a_ucx_gpu_request_without_a_gpu_gets_the_same_answer_as_any_gpu_request(api):
    status, gpu = await api.call("POST", "clusters", {"name": "gpu", "gpus_per_worker": 1})
    status_ucx, ucx = await api.call("POST", "clusters", {"name": "gpu", "gpus_per_worker": 1, "protocol": "ucx"})
    assert status == status_ucx == 400
    assert ucx["error"] == gpu["error"] and "no NVIDIA GPU is visible" in ucx["error"]["message"]


async def test_ucx_for_a_cpu_cluster_or_an_unknown_protocol_is_a_400_naming_the_field(api):
    status, error = await api.call("POST", "clusters", {"name": "cpu", "protocol": "ucx"})
    assert status == 400 and error["error"]["field"] == "protocol"
    assert "for GPU clusters" in error["error"]["message"]
    for bad in ("UCX", "rdma", 1, True):
        status, error = await api.call("POST", "clusters", {"name": "cpu", "protocol": bad})
        assert status == 400 and error["error"]["field"] == "protocol", (bad, error)


async def test_a_tcp_cluster_says_its_protocol_and_has_no_ucx_address(api):
    status, made = await api.call("POST", "clusters", {"name": "tcp-etl", "workers": 1, "protocol": "tcp"})
    assert status == 202, made
    try:
        running = await api.wait_for("tcp-etl", lambda c: c["phase"] == "Running")
        assert running["protocol"] == "tcp" and running["scheduler"]["ucx_address"] is None
        assert running["scheduler"]["address"].startswith("tcp://127.0.0.1:")
    finally:
        await api.call("DELETE", "clusters/tcp-etl")


async def test_the_environment_offers_ucx_only_where_it_is_installed_and_says_so(api):
    from jupyter_rapids_kf.models.protocols import ucx_missing

    environment = await api.get("environment")
    [check] = [c for c in environment["checks"] if c["name"] == "ucx"]
    assert check["ok"] is True  # TCP always works: a missing UCX is no failure
    if ucx_missing():
        assert environment["protocols"] == ["tcp"]
        assert "pip install distributed-ucxx-cu13" in check["message"]
    else:
        assert environment["protocols"] == ["tcp", "ucx"]
