"""A real node in the control-plane tier: Debian's containerd and runc, the CNI bridge,
kubelet, kube-proxy (iptables) and CoreDNS, next to the kwok nodes of ``ControlPlane``.

    node = RealNode(cp, work_dir).start()   # needs root; one at a time per machine
    ...                                     # pods in a namespace from real_namespace()
    node.stop()                             # leaves nothing: see leftovers()

The node is tainted, so the kwok tests' pods never land on it; a namespace made by
``real_namespace()`` puts every pod of its own on it (PodNodeSelector and
PodTolerationRestriction, the admission plugins an admin would use for that). Its
DaskClusters are handled by a second, unpatched dask-kubernetes operator that resolves
names through CoreDNS: every call it makes to a Dask scheduler is real. Network: see
node_net.py. Processes that must resolve cluster names (that operator, a Jupyter server)
run in a mount namespace of their own whose /etc/resolv.conf names only CoreDNS.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from . import node_net as net
from . import node_objects as objs
from .cluster import SERVICE_IP as API_SERVICE_IP
from .cluster import ControlPlane, _insecure_get
from .node_teardown import CGROUP_ROOT, cgroup_hierarchies, leftovers_of, netns, teardown
from .node_images import LAYER_SCRIPT, NOTEBOOK_SCRIPT, build_on_dask_image
from .node_pods import PodRun, run_pod
from .pki import write_kubeconfig
from .procs import Process
from ..ports import free_port

HERE = Path(__file__).resolve().parent
IMAGES_SCRIPT = HERE / "build_images.sh"
NODE_NAME = "real-node-1"
LOCK_PATH = Path("/tmp/rapids-kf-real-node.lock")
STATE_PATH = Path("/tmp/rapids-kf-real-node.state")  # what a killed run must clean up
REAL_NAMESPACE_GLOB = "real-*"
NO_PULL_PROXY = "http://127.0.0.1:9"  # nothing listens there: every image pull is refused
# Kernel settings the kubelet changes at start (setupKernelTunables); put back at stop.
KUBELET_SYSCTLS = ("vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
                   "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes")


def build_images() -> dict[str, tuple[str, Path]]:
    """name -> (image reference, OCI archive); builds what is missing (minutes, once)."""
    out = subprocess.run(["bash", str(IMAGES_SCRIPT)], check=True, capture_output=True, text=True,
                         env=dict(os.environ, PYTHON=sys.executable))
    images = {}
    for line in out.stdout.splitlines():
        name, ref, archive = line.split()
        images[name] = (ref, Path(archive))
    return images


class RealNode:
    def __init__(self, cp: ControlPlane, work_dir: Path):
        self.cp = cp
        self.dir = Path(work_dir).resolve()
        self.logs = cp.logs
        self.procs: dict[str, Process] = {}
        self.sock = self.dir / "containerd" / "containerd.sock"
        self.resolv_conf = self.dir / "resolv.conf"
        self.images: dict[str, tuple[str, Path]] = {}
        self._lock = None
        self._held = False  # whether this node ever held the machine-wide lock
        self._sysctls: dict[str, str] = {}
        self._netns_before: set[str] = set()
        self.timings: dict[str, float] = {}

    @property
    def dask_image(self) -> str:
        return self.images["dask"][0]

    @property
    def notebook_image(self) -> str:
        """The Dask image plus JupyterLab, ipykernel and this checkout's jupyter-rapids-kf
        (build_notebook_image.sh), built and imported on first use."""
        if "notebook" not in self.images:
            name, ref, archive = build_on_dask_image(NOTEBOOK_SCRIPT, self.images["dask"][1])
            self.images[name] = (ref, archive)
            self._import_images()
        return self.images["notebook"][0]

    def layer_image(self, name: str, *pins: str, no_deps: bool = False) -> str:
        """The Dask image plus ``pins`` installed in its venv (build_layer_image.sh), built
        and imported on first use; its reference."""
        if name not in self.images:
            args = [name, str(self.images["dask"][1]), *(["--no-deps"] if no_deps else []), *pins]
            built, ref, archive = build_on_dask_image(LAYER_SCRIPT, *args)
            self.images[built] = (ref, archive)
            self._import_images()
        return self.images[name][0]

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> RealNode:
        t0 = time.monotonic()
        lock = open(LOCK_PATH, "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one real node per machine (host iptables)
        except BaseException:  # e.g. a test timeout while another session holds the node
            lock.close()
            raise
        self._lock, self._held = lock, True
        self.timings["lock_s"] = time.monotonic() - t0
        try:
            self._clean_stale()
            STATE_PATH.write_text(json.dumps({"dir": str(self.dir), "sock": str(self.sock)}))
            self._netns_before = netns()
            self.dir.mkdir(parents=True, exist_ok=True)
            self.images = build_images()
            self.timings["images_s"] = time.monotonic() - t0
            net.up()
            self._make_cgroup_root()
            self._start_containerd()
            self._import_images()
            self.timings["containerd_s"] = time.monotonic() - t0
            self.cp.api.apply_all(objs.node_rbac())
            self._start_coredns()
            self._start_kubelet()
            self._start_kube_proxy()
            self._expose_api_server()
            self.timings["node_s"] = time.monotonic() - t0
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Removes every pod, process, mount, netns, cgroup and rule the node made. Without
        the lock it does nothing: the bridge and rules are then another session's node."""
        if self._lock is None:
            return
        try:
            if "kubelet" in self.procs and self.procs["kubelet"].running:
                self._drain()
            if self.cp.api is not None:
                self.cp.api.delete(objs.api_server_endpoints(0))
            for name in reversed(list(self.procs)):
                self.procs.pop(name).stop()
            self._restore_sysctls()
            teardown(self.dir, self.sock, self._netns_before)
            STATE_PATH.unlink(missing_ok=True)
        finally:
            if self._lock is not None:
                self._lock.close()
                self._lock = None

    def leftovers(self) -> list[str]:
        if not self._held:
            return []  # never started: what is there belongs to another session
        return leftovers_of(self.dir, self.sock, self._netns_before)

    def _proc(self, name: str, argv: list[str], env: dict | None = None) -> Process:
        proc = Process(name, argv, self.logs / f"{name}.log", env).start()
        self.procs[name] = proc
        return proc

    # --- components ------------------------------------------------------------------
    def _clean_stale(self) -> None:
        if STATE_PATH.exists():
            old = json.loads(STATE_PATH.read_text())
            teardown(Path(old["dir"]), Path(old["sock"]), set())
        net.down()

    def _make_cgroup_root(self) -> None:
        for hierarchy in cgroup_hierarchies():
            path = hierarchy / CGROUP_ROOT
            path.mkdir(exist_ok=True)
            if hierarchy.name == "cpuset":  # a v1 cpuset starts empty: give it the parent's
                for f in ("cpuset.cpus", "cpuset.mems"):
                    (path / f).write_text((hierarchy / f).read_text())

    def _start_containerd(self) -> None:
        d = self.sock.parent
        (d / "net.d").mkdir(parents=True, exist_ok=True)
        (d / "net.d" / "10-rapids-kf.conflist").write_text(
            json.dumps(net.cni_config(d / "ipam"), indent=1))
        config = d / "config.toml"
        config.write_text(objs.containerd_config(d, self.sock, self.images["pause"][0]))
        # An image that is not imported must never be fetched: a pull would resolve the
        # registry's name with this machine's resolver. Through a proxy on a closed loopback
        # port, containerd resolves nothing and fails at once (ErrImagePull on the pod).
        env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "all_proxy")}
        env.update(HTTP_PROXY=NO_PULL_PROXY, HTTPS_PROXY=NO_PULL_PROXY,
                   http_proxy=NO_PULL_PROXY, https_proxy=NO_PULL_PROXY)
        proc = self._proc("containerd", ["containerd", "--config", str(config)], env=env)
        proc.wait_until(lambda: self._ctr("version").returncode == 0, 60, "serving")

    def restart_containerd(self) -> None:
        """Stops containerd (SIGTERM to its process group; the shims run in their own, so the
        containers go on) and starts it again, as an upgrade or a crash of it would."""
        self.procs["containerd"].stop()
        self._start_containerd()  # the same key: teardown order is kept

    def _ctr(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return net.sh("ctr", "--address", str(self.sock), "-n", "k8s.io", *args, check=check)

    def _import_images(self) -> None:
        have = set(self._ctr("images", "ls", "-q").stdout.split())
        for name, (ref, archive) in self.images.items():
            if ref in have:
                continue
            base = ref.rsplit(":", 1)[0]
            self._ctr("images", "import", "--base-name", base, str(archive), check=True)
            if ref not in self._ctr("images", "ls", "-q").stdout.split():
                raise RuntimeError(f"{archive} imported, but containerd has no image {ref}")

    def _start_coredns(self) -> None:
        kc = self.cp._component_kubeconfig("coredns", objs.COREDNS_USER)
        health, ready = free_port(), free_port()
        corefile = self.dir / "Corefile"
        corefile.write_text(objs.corefile(kc, health, ready))
        proc = self._proc("coredns", [str(self.cp.bin_dir / "coredns"), "-conf", str(corefile)])
        proc.wait_until(lambda: _get(f"http://127.0.0.1:{ready}/ready") == 200, 60, "ready")
        self.cp.api.apply_all(objs.dns_service())
        self.resolv_conf.write_text(
            f"search svc.cluster.local cluster.local\nnameserver {net.NODE_IP}\noptions ndots:5\n")

    def _start_kubelet(self) -> None:
        pki = self.cp.pki
        cert, key = pki.client("kubelet", f"system:node:{NODE_NAME}", "system:nodes")
        kc = write_kubeconfig(self.dir / "kubelet.kubeconfig", self.cp.server, self.cp.ca,
                              user=f"system:node:{NODE_NAME}", cert=cert, key=key)
        serving = pki.serving("kubelet-serving", [NODE_NAME], [net.NODE_IP])
        healthz = free_port()
        config = self.dir / "kubelet.yaml"
        config.write_text(yaml.safe_dump(objs.kubelet_config(
            self.dir, self.sock, self.cp.ca, serving, healthz, CGROUP_ROOT)))
        self._sysctls = {k: Path("/proc/sys", k).read_text() for k in KUBELET_SYSCTLS}
        proc = self._proc("kubelet", [
            str(self.cp.bin_dir / "kubelet"), f"--config={config}", f"--kubeconfig={kc}",
            f"--root-dir={self.dir / 'kubelet'}", f"--hostname-override={NODE_NAME}",
            f"--node-ip={net.NODE_IP}", f"--node-labels={'='.join(objs.NODE_LABEL)}", "--v=1",
        ])
        proc.wait_until(lambda: _get(f"http://127.0.0.1:{healthz}/healthz") == 200, 60, "healthy")
        proc.wait_until(lambda: self.cp.node_ready(NODE_NAME), 90, f"{NODE_NAME} Ready")

    def _start_kube_proxy(self) -> None:
        kc = self.cp._component_kubeconfig("kube-proxy", "system:kube-proxy")
        healthz = free_port()
        proc = self._proc("kube-proxy", [
            str(self.cp.bin_dir / "kube-proxy"), f"--kubeconfig={kc}", "--proxy-mode=iptables",
            f"--hostname-override={NODE_NAME}", f"--cluster-cidr={net.POD_CIDR}",
            f"--bind-address={net.NODE_IP}", f"--nodeport-addresses={net.NODE_IP}/32",
            # Leave the machine's settings alone: no route_localnet, no conntrack tuning.
            "--iptables-localhost-nodeports=false", "--conntrack-max-per-core=0",
            "--conntrack-tcp-timeout-established=0", "--conntrack-tcp-timeout-close-wait=0",
            f"--metrics-bind-address=127.0.0.1:{free_port()}",
            f"--healthz-bind-address=127.0.0.1:{healthz}",
        ])
        proc.wait_until(lambda: _get(f"http://127.0.0.1:{healthz}/healthz") == 200, 60, "healthy")
        # The DNS Service's rule is in place: pods can resolve from their first second.
        proc.wait_until(lambda: net.DNS_SERVICE_IP in net.sh(
            "iptables", "-w", "-t", "nat", "-S", "KUBE-SERVICES", check=False).stdout, 60,
            "programming the DNS Service")

    def _expose_api_server(self) -> None:
        """Pods reach the API server as in-cluster config expects: the `kubernetes` Service
        (10.96.0.1:443, KUBERNETES_SERVICE_HOST/PORT in every pod) -> kube-proxy -> the node
        IP, where forward.py passes it on to the API server on 127.0.0.1. The serving
        certificate names 10.96.0.1 and kubernetes.default.svc(.cluster.local)."""
        port = int(self.cp.server.rsplit(":", 1)[1])
        proc = self._proc("apiserver-forward", [
            sys.executable, str(HERE / "forward.py"), f"{net.NODE_IP}:{port}", f"127.0.0.1:{port}"])
        proc.wait_until(lambda: "forwarding" in proc.log.read_text(), 30, "listening")
        self.cp.api.apply(objs.api_server_endpoints(port))
        # kube-proxy's nat rule for a Service appears once it has a ready endpoint.
        proc.wait_until(lambda: f"-d {API_SERVICE_IP}/32" in net.sh(
            "iptables", "-w", "-t", "nat", "-S", "KUBE-SERVICES", check=False).stdout, 60,
            "programming the kubernetes Service")

    # --- what tests use --------------------------------------------------------------
    def in_cluster_dns(self, argv: list[str]) -> list[str]:
        """argv run in a mount namespace whose /etc/resolv.conf names only CoreDNS, as a
        pod's would: cluster names resolve and nothing asks this machine's resolver."""
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount --bind "$0" /etc/resolv.conf && exec "$@"', str(self.resolv_conf), *argv]

    def start_operator(self, timeout: float = 60) -> None:
        """The dask-kubernetes operator, unpatched, for the namespaces of this node."""
        if "operator-real-node" in self.procs and self.procs["operator-real-node"].running:
            return
        port = free_port()
        env = dict(os.environ, KUBECONFIG=str(self.cp.operator_kubeconfig))
        for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env.pop(var, None)
        proc = self._proc("operator-real-node", self.in_cluster_dns([
            # --verbose: kopf's debug lines (a deletion waiting on a timer, retries and their
            # delays) are what tells why a DaskCluster stays, when a test finds one that does.
            sys.executable, "-m", "kopf", "run", "--standalone", "--verbose",
            f"--namespace={REAL_NAMESPACE_GLOB}", f"--liveness=http://127.0.0.1:{port}/healthz",
            str(HERE / "operator_real.py")]), env=env)
        proc.wait_until(lambda: _get(f"http://127.0.0.1:{port}/healthz") == 200, timeout, "alive")

    def run_pod(self, namespace: str, name: str, command: list[str], image: str | None = None,
                **kwargs) -> PodRun:
        """A one-off pod (default: the Dask image, as `default-editor`) run to its end on
        this node; its phase and log. In-cluster config works in it: see node_pods.py."""
        return run_pod(self.cp.api, namespace, name, image or self.dask_image, command, **kwargs)

    def real_namespace(self, name: str) -> str:
        """A KubeFlow-like profile namespace whose pods all run on this node."""
        if not name.startswith(REAL_NAMESPACE_GLOB.rstrip("*")):
            raise ValueError(f"namespaces on the real node are named {REAL_NAMESPACE_GLOB}")
        self.cp.create_profile_namespace(name)
        self.cp.api.apply(objs.pin_namespace_to_node(name))
        return name

    def running_containers(self, namespace: str | None = None) -> list[str]:
        """Tasks containerd runs (pod sandboxes included); of one namespace's pods if given."""
        lines = self._ctr("tasks", "ls").stdout.splitlines()[1:]
        running = [line.split()[0] for line in lines if "RUNNING" in line]
        if namespace is None:
            return running
        label = f'labels."io.kubernetes.pod.namespace"=={namespace}'
        ours = set(self._ctr("containers", "ls", "-q", label).stdout.split())
        return [c for c in running if c in ours]

    def conntrack_outside(self) -> list[str]:
        """Connections a pod opened to anything but the pod and Service networks."""
        import ipaddress

        inside = [ipaddress.ip_network(n) for n in (net.POD_CIDR, net.SERVICE_CIDR)]
        out = net.sh("conntrack", "-L", "-s", net.POD_CIDR, check=False).stdout.splitlines()
        found = []
        for line in out:
            dst = next((f[4:] for f in line.split() if f.startswith("dst=")), None)
            if dst and not any(ipaddress.ip_address(dst) in n for n in inside):
                found.append(line)
        return found

    # --- teardown --------------------------------------------------------------------
    def _drain(self, timeout: float = 60) -> None:
        """Cordons the node and deletes its pods, so that the kubelet itself stops them
        (CNI DEL, netns and cgroups removed the normal way)."""
        api = self.cp.api
        api.http.patch(f"/api/v1/nodes/{NODE_NAME}", json={"spec": {"unschedulable": True}},
                       headers={"Content-Type": "application/merge-patch+json"})
        pods = api.get("/api/v1/pods", fieldSelector=f"spec.nodeName={NODE_NAME}")["items"]
        for pod in pods:
            m = pod["metadata"]
            api.http.delete(f"/api/v1/namespaces/{m['namespace']}/pods/{m['name']}",
                            params={"gracePeriodSeconds": "0"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tasks = self._ctr("tasks", "ls", "-q").stdout.split()
            if not tasks:
                return
            time.sleep(0.5)

    def _restore_sysctls(self) -> None:
        for key, value in self._sysctls.items():
            Path("/proc/sys", key).write_text(value)
        self._sysctls = {}


def _get(url: str) -> int:
    return _insecure_get(url)
