"""Kueue in the tier: the real controller manager (built by build.sh from sigs.k8s.io/kueue),
its CRDs and webhooks as the module ships them, served to the API server on loopback.

    kueue = Kueue(cp).start()              # CRDs, RBAC, webhooks, the manager
    kueue.manage_namespace("team-a-ns")    # its pods may be queued (the pod integration)
    kueue.cluster_queue(gpus=4)            # one ClusterQueue for every managed namespace
    kueue.local_queue("team-a-ns", "team-a")

Only the pod integration is switched on, for namespaces labelled MANAGED_LABEL: the webhooks
of every other namespace's objects are left alone, so the rest of the tier runs as before.
"""

from __future__ import annotations

import base64
import copy
from pathlib import Path

import yaml

from ..ports import free_port
from .kubeapi import load_yaml_docs
from .pki import write_kubeconfig

MANAGED_LABEL = ("rapids-kf.test/kueue", "on")
API = "/apis/kueue.x-k8s.io/v1beta2"
USER = "kueue-controller-manager"
CLUSTER_QUEUE = "rapids-kf-gpus"
FLAVOR = "default-flavor"
NAMESPACE = "kueue-system"


class Kueue:
    def __init__(self, cp):
        self.cp = cp
        self.config_dir = Path(cp.bin_dir) / "kueue-config"
        self.work = cp.work_dir / "kueue"
        self.port = 0

    # --- start and stop ----------------------------------------------------------------
    def start(self) -> Kueue:
        if not (self.config_dir / "crd-kustomization.yaml").exists():
            raise FileNotFoundError(f"{self.config_dir} incomplete: run tests/controlplane/build.sh")
        self.work.mkdir(parents=True, exist_ok=True)
        self.port, health = free_port(), free_port()
        crt, key = self.cp.pki.serving("kueue-webhook", ["localhost"], ["127.0.0.1"])
        certs = self.work / "certs"
        certs.mkdir(exist_ok=True)
        (certs / "tls.crt").write_bytes(crt.read_bytes())
        (certs / "tls.key").write_bytes(key.read_bytes())
        api = self.cp.api
        api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        api.apply_all(self._crds())
        api.apply_all(self._rbac())
        api.forget_discovery()
        # The manager sets up its indexes at start: the kinds must be served first.
        api.wait_for(self._discoverable, 90, "the Kueue CRDs to be served and discoverable")
        config = self.work / "config.yaml"
        config.write_text(yaml.safe_dump(self._config(health, certs)))
        cert, ckey = self.cp.pki.client("kueue", USER)
        kubeconfig = write_kubeconfig(self.work / "kueue.kubeconfig", self.cp.server, self.cp.ca,
                                      user=USER, cert=cert, key=ckey)
        argv = [
            str(Path(self.cp.bin_dir) / "kueue"), f"--config={config}", f"--kubeconfig={kubeconfig}",
            # The visibility API is an aggregated API server reached through a Service: the
            # tier has no Service network to reach it on, and the card does not need it.
            "--feature-gates=VisibilityOnDemand=false",
            "--zap-log-level=2",
        ]
        import urllib.request

        for attempt in range(3):
            proc = self.cp._proc("kueue", self._with_metrics_certs(argv, certs))
            try:
                proc.wait_until(lambda: urllib.request.urlopen(
                    f"http://127.0.0.1:{health}/readyz", timeout=2).status == 200, 120, "ready")
                break
            except Exception:
                # The API server's discovery of new CRDs can lag their lists by a moment; the
                # manager then exits ("no matches for kind"), and starting it again is the fix.
                if attempt == 2 or "no matches for kind" not in (self.cp.logs / "kueue.log").read_text():
                    raise
        # Webhooks last: until the manager serves them, the API server would fail their calls.
        api.apply_all(self._webhooks())
        return self

    def _discoverable(self) -> bool:
        api = self.cp.api
        if not (api.exists(f"{API}/clusterqueues") and api.exists(f"{API}/workloads")):
            return False
        names = {r["name"] for r in api.get(API).get("resources", [])}
        return {"workloads", "clusterqueues", "localqueues", "resourceflavors"} <= names

    def _with_metrics_certs(self, argv: list[str], certs: Path) -> list[str]:
        """Without internal cert management, Kueue reads its metrics certificate from the fixed
        path /etc/kueue/metrics/certs (even with metrics off). The machine's /etc is left alone:
        the manager runs in a mount namespace of its own, where an overlay on /etc (its writes
        kept in the work dir) links that path to our certificates."""
        upper, work = self.work / "etc-upper", self.work / "etc-work"
        upper.mkdir(exist_ok=True)
        work.mkdir(exist_ok=True)
        script = (f"mount -t overlay overlay -o lowerdir=/etc,upperdir={upper},workdir={work} /etc"
                  f" && mkdir -p /etc/kueue/metrics && ln -sfn {certs} /etc/kueue/metrics/certs"
                  ' && exec "$@"')
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "kueue", *argv]

    def stop(self) -> None:
        for kind, name in (("mutatingwebhookconfigurations", "kueue-mutating-webhook-configuration"),
                           ("validatingwebhookconfigurations", "kueue-validating-webhook-configuration")):
            self.cp.api.http.delete(f"/apis/admissionregistration.k8s.io/v1/{kind}/{name}")
        proc = self.cp.procs.pop("kueue", None)
        if proc:
            proc.stop()

    # --- what the admin creates (docs/kueue.md) ----------------------------------------
    def manage_namespace(self, namespace: str) -> None:
        """The namespace's pods with a queue-name label go through Kueue."""
        self.cp.api.request("PATCH", f"/api/v1/namespaces/{namespace}",
                            headers={"Content-Type": "application/merge-patch+json"},
                            json={"metadata": {"labels": dict([MANAGED_LABEL])}})

    def cluster_queue(self, gpus: int, cpus: str = "64", memory: str = "1Ti",
                      name: str = CLUSTER_QUEUE) -> None:
        self.cp.api.apply({"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ResourceFlavor",
                           "metadata": {"name": FLAVOR}})
        self.cp.api.apply(cluster_queue(name, gpus, cpus, memory))

    def local_queue(self, namespace: str, name: str, cluster_queue: str = CLUSTER_QUEUE) -> None:
        self.cp.api.apply({
            "apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "LocalQueue",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"clusterQueue": cluster_queue},
        })

    def workloads(self, namespace: str) -> list[dict]:
        return self.cp.api.get(f"{API}/namespaces/{namespace}/workloads").get("items", [])

    # --- the manifests of the module, pointed at loopback ------------------------------
    def _client_config(self, path: str) -> dict:
        ca = base64.b64encode(Path(self.cp.ca).read_bytes()).decode()
        return {"url": f"https://127.0.0.1:{self.port}{path}", "caBundle": ca}

    def _crds(self) -> list[dict]:
        docs = [d for f in sorted(self.config_dir.glob("kueue.x-k8s.io_*.yaml")) for d in load_yaml_docs(f)]
        kust = yaml.safe_load((self.config_dir / "crd-kustomization.yaml").read_text())
        # The module's own choice of CRDs converted by the webhook (its kustomization's patches).
        converted = {Path(p["path"]).stem.removeprefix("webhook_in_") for p in kust.get("patches") or []
                     if "webhook_in_" in p.get("path", "")}
        for crd in docs:
            if crd["spec"]["names"]["plural"] in converted:
                crd["spec"]["conversion"] = {"strategy": "Webhook", "webhook": {
                    "clientConfig": self._client_config("/convert"),
                    "conversionReviewVersions": ["v1"]}}
        return docs

    def _webhooks(self) -> list[dict]:
        docs = []
        for doc in load_yaml_docs(self.config_dir / "webhooks.yaml"):
            doc = copy.deepcopy(doc)
            doc["metadata"]["name"] = f"kueue-{doc['metadata']['name']}"
            for hook in doc.get("webhooks", []):
                hook["clientConfig"] = self._client_config(hook["clientConfig"]["service"]["path"])
                # As Kueue's Helm chart does with managedJobsNamespaceSelector: only managed
                # namespaces' objects are sent (cluster-scoped objects always are).
                hook["namespaceSelector"] = {"matchLabels": dict([MANAGED_LABEL])}
            docs.append(doc)
        return docs

    def _rbac(self) -> list[dict]:
        role = load_yaml_docs(self.config_dir / "role.yaml")[0]
        role["metadata"] = {"name": "kueue-manager-role"}
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "kueue-manager-role"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "kueue-manager-role"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}],
        }
        secrets = load_yaml_docs(self.config_dir / "secrets-role.yaml")[0]
        secrets["metadata"] = {"name": "kueue-manager-secrets", "namespace": NAMESPACE}
        secrets_binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "kueue-manager-secrets", "namespace": NAMESPACE},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "kueue-manager-secrets"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}],
        }
        return [role, binding, secrets, secrets_binding]

    def _config(self, health: int, certs: Path) -> dict:
        return {
            "apiVersion": "config.kueue.x-k8s.io/v1beta2", "kind": "Configuration",
            "namespace": NAMESPACE,
            "health": {"healthProbeBindAddress": f"127.0.0.1:{health}"},
            "metrics": {"bindAddress": "0"},
            "webhook": {"host": "127.0.0.1", "port": self.port, "certDir": str(certs)},
            "leaderElection": {"leaderElect": False},
            "internalCertManagement": {"enable": False},
            "manageJobsWithoutQueueName": False,
            "managedJobsNamespaceSelector": {"matchLabels": dict([MANAGED_LABEL])},
            "integrations": {"frameworks": ["pod"]},
        }


def cluster_queue(name: str, gpus: int, cpus: str, memory: str) -> dict:
    """One ClusterQueue for every managed namespace: CPU, memory and GPUs in one flavor.
    BestEffortFIFO: a waiting GPU worker does not hold back a scheduler that fits."""
    return {
        "apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ClusterQueue",
        "metadata": {"name": name},
        "spec": {
            "namespaceSelector": {"matchLabels": dict([MANAGED_LABEL])},
            "queueingStrategy": "BestEffortFIFO",
            "resourceGroups": [{
                "coveredResources": ["cpu", "memory", "nvidia.com/gpu"],
                "flavors": [{"name": FLAVOR, "resources": [
                    {"name": "cpu", "nominalQuota": cpus},
                    {"name": "memory", "nominalQuota": memory},
                    {"name": "nvidia.com/gpu", "nominalQuota": gpus},
                ]}],
            }],
        },
    }
