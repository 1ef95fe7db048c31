"""Every Kubernetes failure becomes an Error a user can act on; nothing is left half-done."""

from __future__ import annotations

import pytest

from ..ports import free_port
from . import fake_operator


@pytest.fixture
def k8s_config():
    return {"kubernetes_timeout": 1.5}


def no_traceback(body) -> None:
    text = str(body)
    assert "Traceback" not in text and "File \"" not in text


async def test_forbidden_create_names_verb_resource_and_manifest(api, k8s):
    k8s.deny("create", "daskclusters")
    code, body = await api.call("POST", "clusters", {"name": "gpu-etl"})
    assert code == 403, body
    error = body["error"]
    assert error["code"] == "forbidden"
    assert "create daskclusters.kubernetes.dask.org" in error["message"]
    assert "kubeflow-user" in error["message"]
    assert "manifests" in error["fix"] and "kubeflow-edit" in error["fix"]
    no_traceback(body)


async def test_forbidden_list_is_reported_on_read(api, k8s):
    k8s.deny("list", "daskclusters")
    code, body = await api.call("GET", "clusters")
    assert code == 403 and body["error"]["code"] == "forbidden"
    assert "list daskclusters.kubernetes.dask.org" in body["error"]["message"]
    # Writes on a cluster the cache could not read say why, not "no cluster named ...".
    for method, body in (("DELETE", None), ("PATCH", {"workers": 1})):
        code, answer = await api.call(method, "clusters/gpu-etl", body)
        assert code == 403 and "list daskclusters" in answer["error"]["message"], (method, answer)


async def test_rejected_credentials_are_forbidden(api, k8s):
    k8s.token = "rotated-elsewhere"
    code, body = await api.call("GET", "clusters")
    assert code == 403 and body["error"]["code"] == "forbidden", body
    assert "credentials" in body["error"]["message"]


async def test_a_rotated_token_is_read_again_after_a_401(api, k8s, tmp_path):
    await api.get("clusters")
    k8s.token = "rotated-token"  # the kubelet rotates the projected token; the file follows
    k8s.write_kubeconfig(tmp_path / "kubeconfig")
    fake_operator.external_cluster(k8s, "after-rotation")  # seen once the watches reconnect
    await api.wait_for("after-rotation", lambda c: True, timeout=10)
    code, body = await api.call("POST", "clusters", {"name": "with-new-token"})
    assert code == 202, body


async def test_crd_not_served_says_how_to_install_the_operator(api, k8s):
    k8s.crd_served = False
    code, body = await api.call("GET", "clusters")
    assert code == 503 and body["error"]["code"] == "unavailable"
    assert "dask-kubernetes operator" in body["error"]["message"]
    assert "helm install" in body["error"]["fix"]
    env = await api.get("environment")
    crd = next(c for c in env["checks"] if c["name"] == "crd")
    assert not crd["ok"] and "helm install" in crd["fix"]


async def test_name_taken_in_kubernetes_is_exists(api, k8s):
    await api.get("clusters")
    k8s.fail("POST", r"/daskclusters$", 409, 'daskclusters.kubernetes.dask.org "gpu-etl" already exists',
             reason="AlreadyExists", times=1)
    code, body = await api.call("POST", "clusters", {"name": "gpu-etl"})
    assert code == 409 and body["error"]["code"] == "exists"


async def test_refused_body_is_invalid_with_the_api_servers_message(api, k8s):
    await api.get("clusters")
    message = 'DaskCluster.kubernetes.dask.org "gpu-etl" is invalid: spec.worker.replicas: Invalid value: -1'
    k8s.fail("POST", r"/daskclusters$", 422, message, reason="Invalid", times=1)
    code, body = await api.call("POST", "clusters", {"name": "gpu-etl"})
    assert code == 400 and body["error"]["code"] == "invalid"
    assert "spec.worker.replicas: Invalid value: -1" in body["error"]["message"]


async def test_unreachable_api_is_unavailable(api, k8s):
    k8s.port = free_port()  # a loopback port with nobody listening
    import os
    from pathlib import Path
    k8s.write_kubeconfig(Path(os.environ["KUBECONFIG"]))
    code, body = await api.call("GET", "clusters")
    assert code == 503 and body["error"]["code"] == "unavailable"
    assert "cannot reach the Kubernetes API" in body["error"]["message"]
    no_traceback(body)
    env = await api.get("environment")  # the preflight still answers, with the failure
    assert not next(c for c in env["checks"] if c["name"] == "kubernetes")["ok"]


async def test_slow_api_is_unavailable(api, k8s):
    await api.get("clusters")
    k8s.fail("POST", r"/daskclusters$", 201, delay=4, times=1)
    code, body = await api.call("POST", "clusters", {"name": "gpu-etl"})
    assert code == 503 and "did not answer in time" in body["error"]["message"]


async def test_failed_scale_leaves_the_worker_group_as_it_was(api, k8s):
    await api.call("POST", "clusters", {"name": "gpu-etl", "workers": 2})
    fake_operator.reconcile(k8s, "gpu-etl")
    await api.wait_for("gpu-etl", lambda c: c["phase"] == "Running")
    k8s.fail("PATCH", r"/daskclusters/gpu-etl$", 500, "etcd leader changed", times=1)
    code, body = await api.call("PATCH", "clusters/gpu-etl", {"workers": 5})
    assert code == 503 and body["error"]["code"] == "unavailable"
    assert k8s.get("daskworkergroups", "gpu-etl-default")["spec"]["worker"]["replicas"] == 2
    assert k8s.get("daskclusters", "gpu-etl")["spec"]["worker"]["replicas"] == 2


async def test_failed_scale_puts_adaptive_scaling_back(api, k8s):
    await api.call("POST", "clusters", {"name": "gpu-etl", "workers": 2})
    fake_operator.reconcile(k8s, "gpu-etl")
    await api.wait_for("gpu-etl", lambda c: c["phase"] == "Running")
    code, _ = await api.call("PATCH", "clusters/gpu-etl", {"adapt": {"minimum": 1, "maximum": 3}})
    assert code == 202
    k8s.deny("patch", "daskworkergroups")
    code, body = await api.call("PATCH", "clusters/gpu-etl", {"workers": 5})
    assert code == 403 and "patch daskworkergroups" in body["error"]["message"]
    assert k8s.get("daskautoscalers", "gpu-etl")["spec"] == {"cluster": "gpu-etl", "minimum": 1, "maximum": 3}
    cluster = await api.wait_for("gpu-etl", lambda c: c["adapt"] is not None, timeout=5)
    assert cluster["adapt"] == {"minimum": 1, "maximum": 3}


async def test_guardrails_refuse_before_anything_is_sent(api, k8s):
    code, body = await api.call("POST", "clusters", {"name": "big", "workers": 100})
    assert code == 403 and body["error"]["code"] == "limit"
    code, body = await api.call("POST", "clusters", {"name": "big", "gpus_per_worker": 64})
    assert code == 403 and body["error"]["field"] == "gpus_per_worker"
    assert not [p for p, _ in k8s.received if p == "daskclusters"]


@pytest.mark.parametrize("k8s_config", [{"allowed_images": ["nvcr.io/nvidia/rapidsai/*"], "max_clusters": 1}])
async def test_admin_image_patterns_and_cluster_count(api, k8s):
    code, body = await api.call("POST", "clusters", {"name": "a", "image": "docker.io/evil/miner:latest"})
    assert code == 403 and body["error"]["field"] == "image"
    code, body = await api.call("POST", "clusters", {"name": "a", "image": "nvcr.io/nvidia/rapidsai/base:26.10"})
    assert code == 202, body
    fake_operator.external_cluster(k8s, "made-in-a-notebook")
    await api.wait_for("made-in-a-notebook", lambda c: True, timeout=5)
    code, body = await api.call("POST", "clusters", {"name": "b", "image": "nvcr.io/nvidia/rapidsai/base:26.10"})
    assert code == 403 and body["error"]["code"] == "limit"
    assert [b["metadata"]["name"] for p, b in k8s.received if p == "daskclusters"] == ["a"]
