"""What the real node holds for one namespace's pods, seen from the node itself: containerd's
containers and tasks, the pods' network namespaces and their cgroups (node.py's checks are
machine-wide; these are per namespace, so other tests' pods on the node do not count)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from . import node_net as net
from .node import CGROUP_ROOT, RealNode

NAMESPACE_LABEL = "io.kubernetes.pod.namespace"


@dataclass
class NodeState:
    containers: dict[str, str] = field(default_factory=dict)  # containerd id -> pod name
    running: list[str] = field(default_factory=list)  # ids of those whose task runs
    netns: list[str] = field(default_factory=list)  # the sandboxes' network namespaces
    cgroups: list[str] = field(default_factory=list)  # the pods' cgroup directories

    def empty(self) -> bool:
        return not (self.containers or self.running or self.netns or self.cgroups)


def _ctr(node: RealNode, *args: str) -> str:
    return net.sh("ctr", "--address", str(node.sock), "-n", "k8s.io", *args, check=False).stdout


def state_of(node: RealNode, namespace: str, pod_uids: list[str] = ()) -> NodeState:
    """Containers (sandboxes included) of `namespace` in containerd, which of them run, their
    network namespaces that still exist, and the cgroups of `pod_uids` that still exist."""
    found = NodeState()
    for cid in _ctr(node, "containers", "ls", "-q").split():
        try:
            info = json.loads(_ctr(node, "containers", "info", cid))
        except json.JSONDecodeError:  # removed meanwhile
            continue
        labels = info.get("Labels") or {}
        if labels.get(NAMESPACE_LABEL) != namespace:
            continue
        found.containers[cid] = labels.get("io.kubernetes.pod.name", "")
        if labels.get("io.cri-containerd.kind") != "sandbox":
            continue  # a pod's containers join its sandbox's namespace (/proc/<pid>/ns/net)
        for ns in ((info.get("Spec") or {}).get("linux") or {}).get("namespaces") or []:
            if ns.get("type") == "network" and ns.get("path") and Path(ns["path"]).exists():
                found.netns.append(ns["path"])
    tasks = _ctr(node, "tasks", "ls").splitlines()[1:]
    found.running = [line.split()[0] for line in tasks
                     if "RUNNING" in line and line.split()[0] in found.containers]
    found.netns = sorted(set(found.netns))
    root = Path("/sys/fs/cgroup")
    for uid in pod_uids:
        # cgroupfs driver: <hierarchy>/<cgroupRoot>/kubepods[/<qos>]/pod<uid>
        marker = "pod" + uid
        for hierarchy in root.iterdir():
            base = hierarchy / CGROUP_ROOT
            if base.is_dir():
                found.cgroups += [str(p) for p in base.rglob(marker) if p.is_dir()]
    return found


def netns_exists(path: str) -> bool:
    return Path(path).exists()
