"""A pod of the real node reaches the API server the way in-cluster config does: the
`kubernetes` Service from KUBERNETES_SERVICE_HOST/PORT (and kubernetes.default.svc through
CoreDNS), the projected service-account token, and the kube-root-ca.crt CA, verified."""

from __future__ import annotations

import json

import pytest

from . import node_net as net
from .cluster import SERVICE_IP

# The first test's setup may wait for another session's real node (machine-wide lock); the
# second builds the notebook image when our code changed (about a minute).
pytestmark = [pytest.mark.controlplane, pytest.mark.timeout(600)]

NAMESPACE = "real-incluster"

# What kubernetes' and kr8s' in-cluster config read, checked the way they check it.
WHO_AM_I = r"""
import json, os, ssl, urllib.request, urllib.error
sa = "/var/run/secrets/kubernetes.io/serviceaccount"
token = open(f"{sa}/token").read()
namespace = open(f"{sa}/namespace").read()
tls = ssl.create_default_context(cafile=f"{sa}/ca.crt")  # hostname checked too

def call(url, body=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=tls, timeout=20) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)

by_env = f"https://{os.environ['KUBERNETES_SERVICE_HOST']}:{os.environ['KUBERNETES_SERVICE_PORT']}"
_, review = call(f"{by_env}/apis/authentication.k8s.io/v1/selfsubjectreviews",
                 {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
_, pods = call(f"https://kubernetes.default.svc/api/v1/namespaces/{namespace}/pods")
other, _ = call("https://kubernetes.default.svc.cluster.local/api/v1/namespaces/default/pods")
print(json.dumps({"api": by_env, "user": review["status"]["userInfo"]["username"],
                  "pods": [p["metadata"]["name"] for p in pods["items"]],
                  "other_namespace": other}))
"""


@pytest.fixture(scope="module")
def namespace(real_node):
    return real_node.real_namespace(NAMESPACE)


def test_a_pod_calls_the_api_server_as_its_service_account(real_node, namespace):
    run = real_node.run_pod(namespace, "whoami", ["python", "-c", WHO_AM_I])
    assert run.phase == "Succeeded", run.log
    seen = json.loads(run.log.strip().splitlines()[-1])
    assert seen["api"] == f"https://{SERVICE_IP}:443"
    assert seen["user"] == f"system:serviceaccount:{NAMESPACE}:default-editor"
    assert "whoami" in seen["pods"]  # kubeflow-edit lets it list its own namespace's pods
    assert seen["other_namespace"] == 403  # and nothing elsewhere: real RBAC
    assert run.pod["status"]["podIP"].startswith("10.245.0.")
    # The connection stayed on the bridge and loopback.
    assert all(n == 0 for n in net.dropped_packets().values()), net.dropped_packets()
    assert real_node.conntrack_outside() == []


# kr8s and the kubernetes client as a notebook uses them: no kubeconfig, in-cluster config.
CLIENTS = r"""
import json, kr8s
from kubernetes import client, config
namespace = open("/var/run/secrets/kubernetes.io/serviceaccount/namespace").read()
config.load_incluster_config()
print(json.dumps({
    "kr8s_server": kr8s.api().auth.server,
    "kr8s_pods": [p.name for p in kr8s.get("pods", namespace=namespace)],
    "kubernetes_pods": [p.metadata.name for p in client.CoreV1Api().list_namespaced_pod(namespace).items],
}))
"""


def test_kr8s_and_kubernetes_in_the_notebook_image_use_in_cluster_config(real_node, namespace):
    image = real_node.notebook_image
    assert image.startswith("rapids-kf.test/notebook:")
    run = real_node.run_pod(namespace, "clients", ["python", "-c", CLIENTS], image=image)
    assert run.phase == "Succeeded", run.log
    seen = json.loads(run.log.strip().splitlines()[-1])
    assert seen["kr8s_server"] in (f"https://{SERVICE_IP}:443", f"https://{SERVICE_IP}")
    assert "clients" in seen["kr8s_pods"] and "clients" in seen["kubernetes_pods"]
