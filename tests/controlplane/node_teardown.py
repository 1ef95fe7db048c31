"""Tearing the real node down (node.py): whatever the kubelet did not remove itself (tasks,
shims, mounts, netns, cgroups, iptables rules), and the check that nothing is left."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from . import node_net as net

CGROUP_ROOT = "rapids-kf-node"


def netns() -> set[str]:
    d = Path("/var/run/netns")
    return {p.name for p in d.iterdir()} if d.is_dir() else set()


def cgroup_hierarchies(with_unified: bool = False) -> list[Path]:
    """The v1 hierarchies; with ``with_unified`` also the hybrid v2 one, where runc makes
    the pods' cgroups as well (clean-up and the leftover check must look there too)."""
    root = Path("/sys/fs/cgroup")
    return [p for p in root.iterdir() if p.is_dir() and not p.is_symlink()
            and (with_unified or p.name != "unified")]


def _mounts_under(directory: Path) -> list[str]:
    prefix = str(directory) + "/"
    points = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    return sorted({p for p in points if p.startswith(prefix)}, key=len, reverse=True)


def _shims(sock: Path) -> list[int]:
    """containerd-shim processes started by the containerd on ``sock`` (they outlive it)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"containerd-shim-runc-v2") and str(sock).encode() in cmd:
            pids.append(int(proc.name))
    return pids


def teardown(directory: Path, sock: Path, netns_before: set[str]) -> None:
    """Whatever the kubelet did not remove: tasks, shims, mounts, netns, cgroups, rules."""
    if sock.exists():
        ctr = ["ctr", "--address", str(sock), "-n", "k8s.io"]
        for task in net.sh(*ctr, "tasks", "ls", "-q", check=False).stdout.split():
            net.sh(*ctr, "tasks", "kill", "-s", "SIGKILL", task, check=False)
    for pid in _shims(sock):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for point in _mounts_under(directory):
        net.sh("umount", "-l", point, check=False)
    for name in netns() - netns_before:
        if name.startswith("cni-"):
            net.sh("umount", f"/var/run/netns/{name}", check=False)
            Path("/var/run/netns", name).unlink(missing_ok=True)
    for hierarchy in cgroup_hierarchies(with_unified=True):
        root = hierarchy / CGROUP_ROOT
        if root.is_dir():
            for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts),
                            reverse=True) + [root]:
                try:
                    d.rmdir()
                except OSError:
                    pass
    containers = Path("/var/log/containers")
    if containers.is_dir():
        for link in containers.iterdir():
            if link.is_symlink() and str(os.readlink(link)).startswith(str(directory)):
                link.unlink()
    net.down()
    kube_proxy = _kube_proxy_binary()
    if kube_proxy:
        net.sh(kube_proxy, "--cleanup", check=False)
    net.remove_kube_chains()
    net.sh("conntrack", "-D", "-s", net.POD_CIDR, check=False)
    net.sh("conntrack", "-D", "-d", net.POD_CIDR, check=False)


def _kube_proxy_binary() -> str | None:
    from .cluster import default_bin_dir

    path = default_bin_dir() / "kube-proxy"
    return str(path) if path.exists() else None


def leftovers_of(directory: Path, sock: Path, netns_before: set[str]) -> list[str]:
    found = net.leftovers()
    found += [f"process {pid} (containerd shim)" for pid in _shims(sock)]
    found += [f"mount {p}" for p in _mounts_under(directory)]
    found += [f"netns {n}" for n in netns() - netns_before]
    found += [f"cgroup {h / CGROUP_ROOT}" for h in cgroup_hierarchies(with_unified=True)
              if (h / CGROUP_ROOT).exists()]
    return found
