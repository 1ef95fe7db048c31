"""A real Kubernetes control plane on 127.0.0.1 for tests: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and kwok playing three GPU nodes.

    with ControlPlane(bin_dir, work_dir) as cp:
        cp.install_operator_crds(); cp.start_operator()
        cp.create_profile_namespace("kubeflow-user-example-com")
        ...  # KUBECONFIG=cp.admin_kubeconfig

Every component logs to ``<work_dir>/logs/<name>.log``. Nothing here connects to
anything but 127.0.0.1: Pod, Service and node IPs inside the cluster are data only.
"""

from __future__ import annotations

import os
import ssl
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Self

import yaml

from . import objects
from .kubeapi import KubeAPI, load_yaml_docs
from .pki import PKI, write_kubeconfig
from ..ports import free_port
from .procs import Process

HERE = Path(__file__).resolve().parent
BUILD_SCRIPT = HERE / "build.sh"
KWOK_STAGES = HERE / "config" / "kwok-stages.yaml"
OPERATOR_MAIN = HERE / "operator_main.py"
SERVICE_CIDR = "10.96.0.0/16"
SERVICE_IP = "10.96.0.1"  # first address of the CIDR: the `kubernetes` Service
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
GPU_NODES = ("gpu-node-1", "gpu-node-2", "gpu-node-3")
CPU_NODES = ("cpu-node-1",)  # untainted, no GPUs: where Dask schedulers run


def default_bin_dir() -> Path:
    """Where build.sh puts (or has put) the binaries for its default versions."""
    import subprocess

    out = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--print-bin-dir"], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.strip())


def _component_flags(kubeconfig: Path, port: int) -> list[str]:
    """What the controller-manager and the scheduler share: their identity, and serving on loopback."""
    return [f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={port}", "--leader-elect=false"]


def _insecure_get(url: str) -> int:
    """GET a component's health endpoint on loopback; its serving cert is self-signed."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(url, context=ctx, timeout=5) as resp:
        return resp.status


class ControlPlane:
    def __init__(self, bin_dir: Path | str | None = None, work_dir: Path | str | None = None,
                 *, gpu_nodes: tuple[str, ...] = GPU_NODES, gpus_per_node: int = 2,
                 cpu_nodes: tuple[str, ...] = CPU_NODES, operator_crds: bool = True):
        self.bin_dir = Path(bin_dir) if bin_dir else default_bin_dir()
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="rapids-kf-cp-")).resolve()
        self.logs = self.work_dir / "logs"
        self.gpu_nodes, self.gpus_per_node = gpu_nodes, gpus_per_node
        self.cpu_nodes = cpu_nodes
        self.operator_crds = operator_crds
        self._crds: list[dict] = []
        self._crds_served = False
        self.procs: dict[str, Process] = {}
        self.api: KubeAPI | None = None
        self.server = ""
        self.admin_kubeconfig = self.work_dir / "admin.kubeconfig"
        self.operator_kubeconfig = self.work_dir / "operator.kubeconfig"
        self.timings: dict[str, float] = {}

    # --- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> ControlPlane:
        t0 = time.monotonic()
        for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"):
            if not os.access(self.bin_dir / name, os.X_OK):
                raise FileNotFoundError(f"{self.bin_dir / name} missing: run {BUILD_SCRIPT}")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._make_pki()
        self._start_etcd()
        self._start_apiserver()
        self.timings["apiserver_ready_s"] = time.monotonic() - t0
        if self.operator_crds:
            self.install_operator_crds(wait=False)
        self._start_controllers()
        self._start_kwok()
        self._create_nodes()
        if self.operator_crds:
            self.install_operator_crds()
        self.timings["start_s"] = time.monotonic() - t0
        return self

    def stop(self) -> None:
        """Stops every process, newest first. Safe to call more than once."""
        for name in reversed(list(self.procs)):
            self.procs.pop(name).stop()
        if self.api is not None:
            self.api.close()
            self.api = None

    def restart(self, name: str, down_s: float = 0.0) -> None:
        """Stops one component (e.g. ``kube-apiserver``) and starts it again with the
        same flags and ports, ``down_s`` seconds later; waits until it is back."""
        proc = self.procs[name]
        proc.stop()
        time.sleep(down_s)
        proc.start()
        if name == "kube-apiserver":
            proc.wait_until(lambda: self.api.http.get("/readyz").status_code == 200, 90, "ready")
        elif name == "etcd":
            proc.wait_until(lambda: b'"health":"true"' in urllib.request.urlopen(
                f"{self.etcd_url}/health", timeout=2).read(), 30, "healthy")

    def _proc(self, name: str, argv: list[str], env: dict | None = None) -> Process:
        proc = Process(name, argv, self.logs / f"{name}.log", env).start()
        self.procs[name] = proc
        return proc

    # --- components ------------------------------------------------------------------
    def _make_pki(self) -> None:
        pki = self.pki = PKI(self.work_dir / "pki")
        self.ca = pki.ca_cert_path
        self.serving = pki.serving(
            "apiserver",
            ["kubernetes", "kubernetes.default", "kubernetes.default.svc",
             "kubernetes.default.svc.cluster.local", "localhost"],
            ["127.0.0.1", SERVICE_IP],
        )
        self.sa_key, self.sa_pub = pki.service_account_keys()
        self.admin_cert = pki.client("admin", "rapids-kf-admin", "system:masters")
        # How the API server authenticates to a kubelet (logs, exec): the real node's.
        self.kubelet_client_cert = pki.client("apiserver-kubelet", "kube-apiserver-kubelet-client")

    def _start_etcd(self) -> None:
        client, peer = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client}"
        proc = self._proc("etcd", [
            str(self.bin_dir / "etcd"),
            "--name=cp", f"--data-dir={self.work_dir / 'etcd'}",
            f"--listen-client-urls={self.etcd_url}", f"--advertise-client-urls={self.etcd_url}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=cp=http://127.0.0.1:{peer}",
            "--unsafe-no-fsync",  # test data: speed over durability
            "--log-level=warn",
        ])
        proc.wait_until(lambda: b'"health":"true"' in urllib.request.urlopen(
            f"{self.etcd_url}/health", timeout=2).read(), 30, "healthy")

    def _start_apiserver(self) -> None:
        port = free_port()
        self.server = f"https://127.0.0.1:{port}"
        crt, key = self.serving
        proc = self._proc("kube-apiserver", [
            str(self.bin_dir / "kube-apiserver"),
            f"--etcd-servers={self.etcd_url}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={port}",
            f"--tls-cert-file={crt}", f"--tls-private-key-file={key}",
            f"--client-ca-file={self.ca}",
            "--authorization-mode=Node,RBAC",
            f"--service-account-issuer={SA_ISSUER}",
            f"--service-account-key-file={self.sa_pub}",
            f"--service-account-signing-key-file={self.sa_key}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--endpoint-reconciler-type=none",  # no real endpoint to publish
            "--allow-privileged=true", "--profiling=false",
            # For the real node (node.py): the kubelet API, and namespaces whose pods all go
            # to that node (node selector and toleration from namespace annotations).
            f"--kubelet-client-certificate={self.kubelet_client_cert[0]}",
            f"--kubelet-client-key={self.kubelet_client_cert[1]}",
            "--kubelet-preferred-address-types=InternalIP",
            "--enable-admission-plugins=PodNodeSelector,PodTolerationRestriction",
        ])
        self.api = KubeAPI(self.server, self.ca, *self.admin_cert)
        proc.wait_until(lambda: self.api.http.get("/readyz").status_code == 200, 90, "ready")
        write_kubeconfig(self.admin_kubeconfig, self.server, self.ca,
                         user="rapids-kf-admin", cert=self.admin_cert[0], key=self.admin_cert[1])

    def _component_kubeconfig(self, name: str, user: str, group: str | None = None) -> Path:
        cert, key = self.pki.client(name, user, group)
        return write_kubeconfig(self.work_dir / f"{name}.kubeconfig", self.server, self.ca,
                                user=user, cert=cert, key=key)

    def _start_controllers(self) -> None:
        kcm_kc = self._component_kubeconfig("controller-manager", "system:kube-controller-manager")
        sched_kc = self._component_kubeconfig("scheduler", "system:kube-scheduler")
        kcm_port, sched_port = free_port(), free_port()
        kcm = self._proc("kube-controller-manager", [
            str(self.bin_dir / "kube-controller-manager"), *_component_flags(kcm_kc, kcm_port),
            f"--root-ca-file={self.ca}",
            f"--service-account-private-key-file={self.sa_key}",
            "--use-service-account-credentials=true",
            f"--cluster-signing-cert-file={self.ca}",
            f"--cluster-signing-key-file={self.pki.ca_key_path}",
            # Default set: deployments, replicasets, garbage collector, service accounts,
            # namespaces, node lifecycle, cluster-role aggregation, ...
            "--controllers=*",
            "--node-monitor-grace-period=60s",
        ])
        sched = self._proc("kube-scheduler", [
            str(self.bin_dir / "kube-scheduler"), *_component_flags(sched_kc, sched_port),
        ])
        kcm.wait_until(lambda: _insecure_get(f"https://127.0.0.1:{kcm_port}/healthz") == 200,
                       60, "healthy")
        sched.wait_until(lambda: _insecure_get(f"https://127.0.0.1:{sched_port}/healthz") == 200,
                         60, "healthy")
        # The serviceaccount controller must have made `default` before pods are accepted.
        default_sa = "/api/v1/namespaces/default/serviceaccounts/default"
        kcm.wait_until(lambda: self.api.exists(default_sa),
                       60, "creating default service accounts")

    def _start_kwok(self) -> None:
        kwok_kc = self._component_kubeconfig("kwok", "kwok", "system:masters")
        self._proc("kwok", [
            str(self.bin_dir / "kwok"),
            f"--kubeconfig={kwok_kc}",
            f"--config={KWOK_STAGES}",
            "--manage-all-nodes=false",
            f"--manage-nodes-with-annotation-selector={'='.join(objects.KWOK_ANNOTATION)}",
            "--node-ip=127.0.0.1",
            "--cidr=10.244.0.0/16",  # fake pod IPs, never dialled
        ])

    def _create_nodes(self) -> None:
        nodes = [objects.fake_node(n, self.gpus_per_node) for n in self.gpu_nodes]
        nodes += [objects.fake_node(n) for n in self.cpu_nodes]
        self.api.apply_all(nodes)
        self.procs["kwok"].wait_until(
            lambda: all(self.node_ready(n["metadata"]["name"]) for n in nodes), 60,
            "making nodes Ready")

    def node_ready(self, name: str) -> bool:
        node = self.api.get(f"/api/v1/nodes/{name}")
        return any(c["type"] == "Ready" and c["status"] == "True"
                   for c in (node.get("status") or {}).get("conditions") or [])

    # --- dask-kubernetes operator ------------------------------------------------------
    def install_operator_crds(self, wait: bool = True) -> None:
        """Applies the CRDs shipped in the dask-kubernetes wheel and waits until they
        can be listed. With ``wait=False`` only applies (start() uses that to overlap
        the slow CRD set-up with the controllers starting)."""
        import dask_kubernetes

        if not self._crds:
            crd_dir = (Path(dask_kubernetes.__file__).parent / "operator" / "deployment"
                       / "helm" / "dask-kubernetes-operator" / "crds")
            crds = [d for f in sorted(crd_dir.glob("*.yaml")) for d in load_yaml_docs(f)]
            if not crds:
                raise FileNotFoundError(f"no CRDs in {crd_dir}")
            # Applied once: every CRD update makes the API server rebuild its storage.
            self.api.apply_all(crds)
            self._crds = crds
        crds = self._crds
        if not wait or self._crds_served:
            return

        def established() -> bool:
            for crd in crds:
                got = self.api.get(
                    f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}")
                conds = (got.get("status") or {}).get("conditions") or []
                if not any(c["type"] == "Established" and c["status"] == "True" for c in conds):
                    return False
            # Established is not enough: until the watch cache is up, lists answer 429
            # "storage is (re)initializing" and the operator starts with retries.
            return all(
                self.api.exists(f"/apis/{c['spec']['group']}/{c['spec']['versions'][0]['name']}"
                                f"/{c['spec']['names']['plural']}")
                for c in crds)

        self.api.wait_for(established, 90, "the Dask CRDs to be served")
        self.api.forget_discovery()
        self._crds_served = True

    def start_operator(self, namespaces: list[str] | None = None, timeout: float = 60) -> None:
        """Runs the real operator (``kopf run``) through ``operator_main.py``; see README."""
        if "operator" in self.procs:
            if self.procs["operator"].running:
                return
            raise self.procs["operator"].fail("exited; it was not stopped by stop_operator()")
        if not self.operator_kubeconfig.exists():
            self.api.apply_all(objects.operator_rbac())
            cert, key = self.pki.client("operator", objects.OPERATOR_USER)
            write_kubeconfig(self.operator_kubeconfig, self.server, self.ca,
                             user=objects.OPERATOR_USER, cert=cert, key=key)
        # Namespaces of the real node (node.py) have an unpatched operator of their own.
        scope = [f"--namespace={ns}" for ns in namespaces] if namespaces else ["--namespace=!real-*"]
        env = dict(os.environ, KUBECONFIG=str(self.operator_kubeconfig))
        for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env.pop(var, None)  # loopback only, never through a proxy
        log = self.logs / "operator.log"
        offset = log.stat().st_size if log.exists() else 0  # the log is appended on restart
        proc = self._proc("operator", [
            sys.executable, "-m", "kopf", "run", "--standalone", *scope, str(OPERATOR_MAIN),
        ], env=env)
        # operator_main prints this once kopf's startup handlers (the operator's and ours) ran.
        proc.wait_until(lambda: b"rapids-kf: operator ready" in log.read_bytes()[offset:],
                        timeout, "ready")

    def stop_operator(self) -> None:
        proc = self.procs.pop("operator", None)
        if proc:
            proc.stop()

    # --- KubeFlow-like profile ---------------------------------------------------------
    def create_profile_namespace(self, name: str) -> None:
        self.api.apply_all(objects.kubeflow_edit_cluster_roles())
        self.api.apply_all(objects.profile_namespace(name))
        ns = f"/api/v1/namespaces/{name}"
        self.api.wait_for(lambda: self.api.exists(f"{ns}/serviceaccounts/default"), 60,
                          f"the default service account in {name}")

        def aggregated() -> bool:
            role = self.api.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/kubeflow-edit")
            return bool(role.get("rules"))

        self.api.wait_for(aggregated, 30, "kubeflow-edit to be aggregated")

    def create_notebook_pod(self, namespace: str, name: str, image: str) -> None:
        """A notebook pod in a profile namespace (see ``objects.notebook_pod``), Running."""
        self.api.apply(objects.notebook_pod(namespace, name, image))
        path = f"/api/v1/namespaces/{namespace}/pods/{name}"
        self.api.wait_for(lambda: self.api.get(path).get("status", {}).get("phase") == "Running",
                          60, f"notebook pod {namespace}/{name} to run")

    def kubeconfig_for_service_account(self, namespace: str, sa: str,
                                       seconds: int = 86400) -> Path:
        """A kubeconfig that acts as ``namespace/sa`` with a TokenRequest token."""
        token = self.api.create_token(namespace, sa, seconds)
        return write_kubeconfig(self.work_dir / f"{namespace}.{sa}.kubeconfig", self.server,
                                self.ca, user=f"{namespace}-{sa}", token=token,
                                namespace=namespace)

    # --- plain-YAML manifests ------------------------------------------------------------
    def apply_manifests(self, path: Path | str, namespace: str | None = None) -> list[dict]:
        """Applies a YAML file, a directory with a ``kustomization.yaml`` (only its
        ``resources``, ``namespace`` and plain ``labels`` are understood), or a directory
        of YAML files. ``namespace`` is ``kubectl apply -n``: the namespace of namespaced
        objects that do not name one."""
        return self.api.apply_all(self._manifest_docs(Path(path), default_ns=namespace))

    def delete_manifests(self, path: Path | str, namespace: str | None = None) -> None:
        """Deletes what ``apply_manifests`` made from the same path (missing ones are fine)."""
        for doc in self._manifest_docs(Path(path), default_ns=namespace):
            self.api.delete(doc)

    def _manifest_docs(self, path: Path, namespace: str | None = None,
                       default_ns: str | None = None) -> list[dict]:
        if path.is_file():
            docs = load_yaml_docs(path)
        elif (path / "kustomization.yaml").exists():
            kust = yaml.safe_load((path / "kustomization.yaml").read_text()) or {}
            unsupported = set(kust) - {"apiVersion", "kind", "resources", "namespace", "labels"}
            if unsupported:
                raise NotImplementedError(
                    f"{path}/kustomization.yaml uses {sorted(unsupported)}; only plain "
                    "`resources`, `namespace` and `labels` are supported here")
            namespace = kust.get("namespace", namespace)
            docs = [d for r in kust.get("resources", [])
                    for d in self._manifest_docs(path / r, namespace)]
            for entry in kust.get("labels") or []:
                if entry.get("includeSelectors") or entry.get("includeTemplates"):
                    raise NotImplementedError(
                        f"{path}/kustomization.yaml: labels with includeSelectors or "
                        "includeTemplates are not supported here")
                for doc in docs:
                    doc.setdefault("metadata", {}).setdefault("labels", {}).update(
                        entry.get("pairs") or {})
        elif path.is_dir():
            docs = [d for f in sorted(path.glob("*.y*ml")) for d in load_yaml_docs(f)]
        else:
            raise FileNotFoundError(path)
        for doc in docs:
            meta = doc.setdefault("metadata", {})
            if namespace or (default_ns and not meta.get("namespace")):
                _, namespaced = self.api._resource(doc["apiVersion"], doc["kind"])
                if namespaced:
                    meta["namespace"] = namespace or default_ns
        return docs

    # --- RBAC as the API server decides it ------------------------------------------------
    def service_account_can(self, namespace: str, sa: str, verb: str, resource: str,
                            group: str = "", target_namespace: str | None = None) -> bool:
        """What the API server answers to a SubjectAccessReview for ``namespace/sa``
        (``kubectl auth can-i --as system:serviceaccount:...``)."""
        review = self.api.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                  json={
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": f"system:serviceaccount:{namespace}:{sa}",
                "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                           "system:authenticated"],
                "resourceAttributes": {"namespace": target_namespace or namespace,
                                       "verb": verb, "group": group, "resource": resource},
            },
        }).json()
        return bool(review.get("status", {}).get("allowed"))
