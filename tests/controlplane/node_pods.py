"""One-off pods on the real node (``RealNode.run_pod``): a command run in an image as a
service account of a ``real-*`` namespace, to its end, with its log read back through the
API server (from the kubelet)."""

from __future__ import annotations

from dataclasses import dataclass

from .kubeapi import KubeAPI

# What every pod sees (the kubelet injects the `kubernetes` Service of `default`), and the
# address in-cluster clients use when they go by name.
IN_CLUSTER_API = "https://kubernetes.default.svc"


@dataclass
class PodRun:
    phase: str  # Succeeded or Failed
    log: str
    pod: dict


def run_pod(api: KubeAPI, namespace: str, name: str, image: str, command: list[str], *,
            service_account: str = "default-editor", env: dict[str, str] | None = None,
            timeout: float = 180, keep: bool = False) -> PodRun:
    """Runs ``command`` in a pod (restartPolicy Never, the image as imported: never
    pulled) and waits until it has ended. Returns its phase and log; deletes the pod
    unless ``keep``."""
    pods = f"/api/v1/namespaces/{namespace}/pods"
    api.request("POST", pods, json={
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
        "spec": {"restartPolicy": "Never", "serviceAccountName": service_account,
                 "terminationGracePeriodSeconds": 0,
                 "containers": [{"name": "main", "image": image, "imagePullPolicy": "Never",
                                 "command": command,
                                 "env": [{"name": k, "value": v} for k, v in (env or {}).items()]}]},
    })
    try:
        pod = api.wait_for(lambda: _ended(api.get(f"{pods}/{name}")), timeout,
                           f"pod {namespace}/{name} to end")
        log = api.request("GET", f"{pods}/{name}/log").text
        return PodRun(pod["status"]["phase"], log, pod)
    except TimeoutError as err:
        status = api.get(f"{pods}/{name}").get("status", {})
        raise AssertionError(f"{err}; pod status: {status}") from None
    finally:
        if not keep:
            api.http.delete(f"{pods}/{name}", params={"gracePeriodSeconds": "0"})


def _ended(pod: dict) -> dict | None:
    return pod if pod.get("status", {}).get("phase") in ("Succeeded", "Failed") else None
