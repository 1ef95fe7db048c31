"""Configuration and Kubernetes objects of the real node (node.py): containerd's config,
the kubelet's, CoreDNS's Corefile, the DNS Service, RBAC, and the namespace annotations
that pin a namespace's pods to the node."""

from __future__ import annotations

import json
import os
from pathlib import Path

from . import node_net as net

NODE_LABEL = ("rapids-kf.test/node", "real")
TAINT = {"key": "rapids-kf.test/real-node", "value": "true", "effect": "NoSchedule"}
COREDNS_USER = "rapids-kf-coredns"
APISERVER_KUBELET_USER = "kube-apiserver-kubelet-client"


def containerd_config(d: Path, sock: Path, pause_image: str) -> str:
    """containerd 1.6 (config version 2): its own root, state and sockets; the CRI plugin
    with runc (cgroupfs, as the kubelet) and our CNI config; streaming on loopback."""
    return f"""version = 2
root = "{d / 'root'}"
state = "{d / 'state'}"
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{d / 'opt'}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause_image}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # We may not lower oom_score_adj here (no CAP_SYS_RESOURCE): runc failed every sandbox
  # with "failed to update /proc/self/oom_score_adj: Permission denied". Clamp instead.
  restrict_oom_score_adj = true
  max_concurrent_downloads = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "{os.environ.get('RAPIDS_KF_RUNC', '/usr/sbin/runc')}"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{d / 'net.d'}"
"""


def corefile(kubeconfig: Path, health_port: int, ready_port: int) -> str:
    """Only cluster.local, from the kubernetes plugin; no forward: a name outside the
    cluster gets an error, never an answer from elsewhere."""
    return f""".:53 {{
    bind {net.NODE_IP}
    errors
    health 127.0.0.1:{health_port}
    ready 127.0.0.1:{ready_port}
    kubernetes cluster.local {{
        kubeconfig {kubeconfig}
        pods insecure
    }}
    cache 5
}}
"""


def kubelet_config(d: Path, sock: Path, ca: Path, serving: tuple[Path, Path], healthz_port: int,
                   cgroup_root: str) -> dict:
    crt, key = serving
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        # This machine has the cgroup v1 hierarchy; kubelet >= 1.35 needs this to start.
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": f"/{cgroup_root}",
        "containerRuntimeEndpoint": f"unix://{sock}",
        "address": net.NODE_IP,
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": healthz_port,
        "tlsCertFile": str(crt),
        "tlsPrivateKeyFile": str(key),
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(ca)}},
        "authorization": {"mode": "Webhook"},
        "clusterDomain": "cluster.local",
        "clusterDNS": [net.DNS_SERVICE_IP],
        "resolvConf": "",  # pods never get this machine's resolver
        "podLogsDir": str(d / "pod-logs"),
        "failSwapOn": False,
        "registerWithTaints": [TAINT],
        "maxPods": 30,
        "serializeImagePulls": False,
        # A test machine's disk and memory: never evict, never collect our images.
        "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%",
                         "imagefs.available": "1%", "nodefs.inodesFree": "1%"},
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "nodeStatusUpdateFrequency": "5s",
        "syncFrequency": "10s",
        "shutdownGracePeriod": "0s",
    }


def node_rbac() -> list[dict]:
    """CoreDNS reads Services and EndpointSlices; the API server reads the kubelet's
    logs (its client certificate's user gets the kubelet API)."""
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "rapids-kf-coredns"},
         "rules": [{"apiGroups": [""], "resources": ["services", "pods", "namespaces"],
                    "verbs": ["list", "watch"]},
                   {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
                    "verbs": ["list", "watch"]}]},
        _binding("rapids-kf-coredns", "rapids-kf-coredns", COREDNS_USER),
        _binding("rapids-kf-apiserver-kubelet", "system:kubelet-api-admin", APISERVER_KUBELET_USER),
    ]


def _binding(name: str, role: str, user: str) -> dict:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]}


def dns_service() -> list[dict]:
    """kube-dns at the usual ClusterIP, served by CoreDNS on the node IP (a selectorless
    Service and its EndpointSlice: CoreDNS runs on the machine, not in a pod)."""
    ports = [{"name": "dns", "port": 53, "protocol": "UDP"},
             {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]
    return [
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "kube-dns", "namespace": "kube-system"},
         "spec": {"clusterIP": net.DNS_SERVICE_IP, "ports": [
             {**p, "targetPort": 53} for p in ports]}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": "kube-dns-node", "namespace": "kube-system",
                      "labels": {"kubernetes.io/service-name": "kube-dns",
                                 "endpointslice.kubernetes.io/managed-by": "rapids-kf-tests"}},
         "addressType": "IPv4",
         "endpoints": [{"addresses": [net.NODE_IP], "conditions": {"ready": True}}],
         "ports": ports},
    ]


def api_server_endpoints(port: int) -> dict:
    """The `kubernetes` Service's endpoint (the API server runs with
    --endpoint-reconciler-type=none and publishes none): the node IP, where forward.py
    passes connections on to the API server on loopback. Same port as the API server, the
    Service's targetPort."""
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "kubernetes-node", "namespace": "default",
                         "labels": {"kubernetes.io/service-name": "kubernetes",
                                    "endpointslice.kubernetes.io/managed-by": "rapids-kf-tests"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [net.NODE_IP], "conditions": {"ready": True}}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}


def pin_namespace_to_node(name: str) -> dict:
    """Every pod of the namespace goes to the real node: a node selector and a toleration
    of its taint, added by the API server's admission plugins."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "annotations": {
        "scheduler.alpha.kubernetes.io/node-selector": "=".join(NODE_LABEL),
        "scheduler.alpha.kubernetes.io/defaultTolerations": json.dumps(
            [{"key": TAINT["key"], "operator": "Exists", "effect": TAINT["effect"]}]),
    }}}
