"""The real node's network on this machine: a bridge of its own for the pods, a route for
the Service CIDR onto it, and iptables rules that keep every packet of the pod and Service
networks inside this machine. Everything here is removed by ``down()``; ``leftovers()``
names what is still there.

Addresses (none overlaps this machine's own addresses or its resolver):
  10.245.0.0/24  pods on the real node; the bridge (and node IP) is 10.245.0.1
  10.96.0.0/16   Services (the API server's CIDR), routed onto the bridge
  10.244.0.0/16  the kwok nodes' pod IPs: data only; any packet for them is rejected
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

BRIDGE = "rkfbr0"
POD_CIDR = "10.245.0.0/24"
NODE_IP = "10.245.0.1"
POD_RANGE_START = "10.245.0.10"
SERVICE_CIDR = "10.96.0.0/16"
DNS_SERVICE_IP = "10.96.0.10"
KWOK_POD_CIDR = "10.244.0.0/16"
FORWARD_CHAIN = "RKF-NODE-FORWARD"
OUTPUT_CHAIN = "RKF-NODE-OUTPUT"


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(argv, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({out.returncode}): {out.stderr.strip()}")
    return out


def _iptables(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return sh("iptables", "-w", *args, check=check)


# Our two chains, jumped to first from FORWARD and OUTPUT.
RULES = {
    FORWARD_CHAIN: [
        # Pods talk to pods (and, after kube-proxy's DNAT, to Services) on the bridge only:
        # nothing is forwarded from the bridge to another interface, or from one to it.
        ["-i", BRIDGE, "!", "-o", BRIDGE, "-j", "DROP"],
        ["!", "-i", BRIDGE, "-o", BRIDGE, "-j", "DROP"],
    ],
    OUTPUT_CHAIN: [
        ["-o", "lo", "-j", "RETURN"],
        # A Service of a kwok pod DNATs to a fake IP: refuse it here, never route it out.
        ["-d", KWOK_POD_CIDR, "-j", "REJECT"],
        ["-d", "10.245.0.0/16", "!", "-o", BRIDGE, "-j", "REJECT"],
        ["-d", SERVICE_CIDR, "!", "-o", BRIDGE, "-j", "REJECT"],
    ],
}
JUMPS = {"FORWARD": FORWARD_CHAIN, "OUTPUT": OUTPUT_CHAIN}


def cni_config(ipam_dir: Path) -> dict:
    """bridge + host-local: no masquerade, and routes to the pod and Service networks only
    (no default route: a pod has nowhere else to send a packet)."""
    return {
        "cniVersion": "0.4.0",
        "name": "rapids-kf-node",
        "plugins": [{
            "type": "bridge",
            "bridge": BRIDGE,
            "isGateway": True,
            "ipMasq": False,
            "hairpinMode": True,
            "ipam": {
                "type": "host-local",
                "dataDir": str(ipam_dir),
                "ranges": [[{"subnet": POD_CIDR, "rangeStart": POD_RANGE_START,
                             "gateway": NODE_IP}]],
                "routes": [{"dst": SERVICE_CIDR}],
            },
        }],
    }


def up() -> None:
    down()  # what a killed run left (the caller holds the machine-wide node lock)
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", f"{NODE_IP}/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    # Forwarding for packets that come in on the bridge only (pod -> Service -> pod);
    # the machine's own setting and its other interfaces stay as they are.
    Path(f"/proc/sys/net/ipv4/conf/{BRIDGE}/forwarding").write_text("1")
    # The machine reaches ClusterIPs over the bridge, from the node IP, never via eth0.
    sh("ip", "route", "add", SERVICE_CIDR, "dev", BRIDGE, "src", NODE_IP)
    for chain, rules in RULES.items():
        _iptables("-N", chain)
        for rule in rules:
            _iptables("-A", chain, *rule)
    for builtin, chain in JUMPS.items():
        _iptables("-I", builtin, "1", "-j", chain)


def down() -> None:
    for builtin, chain in JUMPS.items():
        while _iptables("-D", builtin, "-j", chain, check=False).returncode == 0:
            pass
    for chain in RULES:
        _iptables("-F", chain, check=False)
        _iptables("-X", chain, check=False)
    if Path(f"/sys/class/net/{BRIDGE}").exists():
        sh("ip", "link", "del", BRIDGE)  # its addresses and routes go with it


def remove_kube_chains() -> None:
    """The kubelet's own chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT) and
    whatever kube-proxy --cleanup left, in both families: the jumps to them, then them."""
    for ipt in ("iptables", "ip6tables"):
        for table in ("filter", "nat", "mangle"):
            rules = sh(ipt, "-w", "-t", table, "-S", check=False).stdout.splitlines()
            for rule in rules:
                parts = shlex.split(rule)
                if parts[0] == "-A" and not parts[1].startswith("KUBE-") and "KUBE-" in rule:
                    sh(ipt, "-w", "-t", table, "-D", *parts[1:], check=False)
            chains = [r.split()[1] for r in rules if r.startswith("-N KUBE-")]
            for chain in chains:
                sh(ipt, "-w", "-t", table, "-F", chain, check=False)
            for chain in chains:
                sh(ipt, "-w", "-t", table, "-X", chain, check=False)


def dropped_packets() -> dict[str, int]:
    """Packets our rules stopped, per rule: a pod or the machine tried to leave."""
    counts = {}
    for chain in RULES:
        out = _iptables("-L", chain, "-v", "-x", "-n", check=False).stdout.splitlines()[2:]
        for line in out:
            fields = line.split()
            if fields and fields[2] in ("DROP", "REJECT"):
                counts[f"{chain}: {' '.join(fields[2:])}"] = int(fields[0])
    return counts


def leftovers() -> list[str]:
    found = []
    if Path(f"/sys/class/net/{BRIDGE}").exists():
        found.append(f"bridge {BRIDGE}")
    for table in ("filter", "nat", "mangle"):
        for ipt in ("iptables", "ip6tables"):
            rules = sh(ipt, "-w", "-t", table, "-S", check=False).stdout.splitlines()
            found += [f"{ipt} -t {table}: {r}" for r in rules if "KUBE-" in r or "RKF-" in r]
    nft = sh("nft", "list", "tables", check=False).stdout if _has("nft") else ""
    found += [f"nft {t}" for t in nft.splitlines() if "kube-proxy" in t]
    return found


def _has(tool: str) -> bool:
    import shutil

    return shutil.which(tool) is not None
