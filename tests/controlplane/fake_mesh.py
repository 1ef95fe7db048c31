"""A stand-in for Istio's sidecar injector, for tests on the real node. It is NOT Istio.

Like Istio's injector it is a mutating admission webhook on pod CREATE that adds a proxy
container which keeps running for the pod's whole life; it serves HTTPS on 127.0.0.1 (the API
server calls it there; the serving certificate comes from the tier's own CA, `pki.py`). Unlike
Istio, it does not honour `sidecar.istio.io/inject: "false"`: it stands for a mesh that
*requires* sidecars on every pod of a namespace. Namespaces opt in by label:

- `rapids-kf.test/fake-mesh=classic`: the proxy is appended to `spec.containers`, as Istio does
  without native sidecars; it exits only on `POST 127.0.0.1:15020/quitquitquit` (Istio's
  pilot-agent endpoint for Jobs) or a signal;
- `rapids-kf.test/fake-mesh=native`: the proxy is an init container with `restartPolicy:
  Always` (a Kubernetes native sidecar, as Istio injects with native sidecars on), which the
  kubelet stops once the main containers have ended.

The proxy relays no traffic (there are no iptables rules): it only has a proxy's lifetime.
Injected pods are annotated `rapids-kf.test/fake-mesh: injected`.
"""

from __future__ import annotations

import base64
import http.server
import json
import ssl
import threading
from typing import Any
from urllib.parse import urlsplit

from ..ports import free_port

LABEL = "rapids-kf.test/fake-mesh"
INJECTED = "rapids-kf.test/fake-mesh"
PROXY = "mesh-proxy"
CONFIG_NAME = "rapids-kf-test-fake-mesh"
# The stand-in proxy: an HTTP server on the pod's loopback that quits on /quitquitquit.
PROXY_CODE = r'''
import http.server, os, threading
class Admin(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path != "/quitquitquit":
            self.send_response(404); self.end_headers(); return
        self.send_response(200); self.end_headers(); self.wfile.write(b"OK\n")
        print("mesh-proxy: quitquitquit, exiting", flush=True)
        threading.Timer(0.2, os._exit, (0,)).start()
    def log_message(self, *args):
        pass
print("mesh-proxy: up, admin on 127.0.0.1:15020", flush=True)
http.server.HTTPServer(("127.0.0.1", 15020), Admin).serve_forever()
'''


def proxy_container(image: str, native: bool) -> dict[str, Any]:
    container = {
        "name": PROXY,
        "image": image,
        "command": ["python", "-c", PROXY_CODE],
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
    }
    if native:
        container["restartPolicy"] = "Always"
    return container


def patch_for(pod: dict[str, Any], mode: str, image: str) -> list[dict[str, Any]]:
    spec, meta = pod.get("spec") or {}, pod.get("metadata") or {}
    native = mode == "native"
    sidecar = proxy_container(image, native)
    ops: list[dict[str, Any]] = []
    if native:
        if spec.get("initContainers"):
            ops.append({"op": "add", "path": "/spec/initContainers/-", "value": sidecar})
        else:
            ops.append({"op": "add", "path": "/spec/initContainers", "value": [sidecar]})
    else:
        ops.append({"op": "add", "path": "/spec/containers/-", "value": sidecar})
    if meta.get("annotations"):
        ops.append({"op": "add", "path": "/metadata/annotations/" + INJECTED.replace("/", "~1"),
                    "value": "injected"})
    else:
        ops.append({"op": "add", "path": "/metadata/annotations", "value": {INJECTED: "injected"}})
    return ops


class FakeMeshInjector:
    """`start()` serves the webhook and registers it; `stop()` removes both. `injected` lists
    (namespace, pod name or generateName, mode) of every pod it changed."""

    def __init__(self, control_plane, image: str):
        self.cp, self.image = control_plane, image
        self.port = free_port()
        self.injected: list[tuple[str, str, str]] = []
        self._server: http.server.ThreadingHTTPServer | None = None

    def _handler(self):
        injector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                mode = urlsplit(self.path).path.rsplit("/", 1)[-1]  # the API server adds ?timeout=
                review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                request = review["request"]
                pod = request["object"]
                response: dict[str, Any] = {"uid": request["uid"], "allowed": True}
                assert mode in ("classic", "native"), self.path
                if mode in ("classic", "native"):
                    ops = patch_for(pod, mode, injector.image)
                    response.update(patchType="JSONPatch",
                                    patch=base64.b64encode(json.dumps(ops).encode()).decode())
                    meta = pod.get("metadata") or {}
                    injector.injected.append((request.get("namespace", ""),
                                              meta.get("name") or meta.get("generateName", ""), mode))
                body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                                   "response": response}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def webhook_configuration(self) -> dict[str, Any]:
        ca = base64.b64encode(self.cp.ca.read_bytes()).decode()
        hooks = []
        for mode in ("classic", "native"):
            hooks.append({
                "name": f"{mode}.fake-mesh.rapids-kf.test",
                "clientConfig": {"url": f"https://127.0.0.1:{self.port}/inject/{mode}", "caBundle": ca},
                "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                           "resources": ["pods"], "scope": "Namespaced"}],
                "namespaceSelector": {"matchLabels": {LABEL: mode}},
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "failurePolicy": "Fail",  # a pod of a meshed namespace never starts without its proxy
                "timeoutSeconds": 10,
            })
        return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
                "metadata": {"name": CONFIG_NAME}, "webhooks": hooks}

    def start(self) -> FakeMeshInjector:
        crt, key = self.cp.pki.serving("fake-mesh-injector", ["fake-mesh-injector.test"], ["127.0.0.1"])
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(str(crt), str(key))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="fake-mesh-injector", daemon=True).start()
        self._server = server
        self.cp.api.apply(self.webhook_configuration())
        return self

    def stop(self) -> None:
        self.cp.api.delete(self.webhook_configuration())
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def mesh_namespace(self, namespace: str, mode: str) -> None:
        """Labels a namespace so that every pod made in it gets the stand-in proxy."""
        self.cp.api.request("PATCH", f"/api/v1/namespaces/{namespace}",
                            headers={"Content-Type": "application/merge-patch+json"},
                            content=json.dumps({"metadata": {"labels": {LABEL: mode}}}))
