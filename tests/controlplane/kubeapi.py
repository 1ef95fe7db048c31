"""A small synchronous Kubernetes client for setting up the test cluster.

The tests themselves use kr8s; this is for the plumbing (server-side apply of any
kind, TokenRequest, waiting), where a plain HTTP client with the admin certificate is
simpler than an event loop. It only ever talks to the loopback API server.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import yaml

FIELD_MANAGER = "rapids-kf-controlplane"


def assert_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"refusing to talk to non-loopback address {url}")


class KubeAPI:
    def __init__(self, server: str, ca: Path, cert: Path, key: Path):
        assert_loopback(server)
        # An SSLContext: httpx 0.28 ignores `cert=` next to a CA path in `verify=`.
        tls = ssl.create_default_context(cafile=str(ca))
        tls.load_cert_chain(str(cert), str(key))
        self.http = httpx.Client(base_url=server, verify=tls, timeout=30, trust_env=False)
        self._resources: dict[tuple[str, str], tuple[str, bool]] = {}

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        resp = self.http.request(method, path, **kwargs)
        if resp.status_code >= 400:
            raise httpx.HTTPStatusError(
                f"{method} {path}: {resp.status_code} {resp.text[:500]}",
                request=resp.request,
                response=resp,
            )
        return resp

    def get(self, path: str, **params) -> dict:
        return self.request("GET", path, params=params or None).json()

    def exists(self, path: str) -> bool:
        return self.http.get(path).status_code == 200

    # --- discovery: which URL serves a kind -----------------------------------------
    def _resource(self, api_version: str, kind: str) -> tuple[str, bool]:
        key = (api_version, kind)
        if key not in self._resources:
            base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            for res in self.get(base)["resources"]:
                if "/" not in res["name"]:
                    self._resources[(api_version, res["kind"])] = (
                        f"{base}/{res['name']}",
                        res["namespaced"],
                    )
        if key not in self._resources:
            raise LookupError(f"the API server does not serve {kind} in {api_version}")
        return self._resources[key]

    def path_for(self, obj: dict, with_name: bool = True) -> str:
        collection, namespaced = self._resource(obj["apiVersion"], obj["kind"])
        meta = obj.get("metadata", {})
        if namespaced:
            ns = meta.get("namespace") or "default"
            prefix, plural = collection.rsplit("/", 1)
            collection = f"{prefix}/namespaces/{ns}/{plural}"
        return f"{collection}/{meta['name']}" if with_name else collection

    def forget_discovery(self) -> None:
        self._resources.clear()

    # --- writes --------------------------------------------------------------------
    def apply(self, obj: dict) -> dict:
        """Server-side apply: creates or updates, whatever the kind."""
        return self.request(
            "PATCH",
            self.path_for(obj),
            params={"fieldManager": FIELD_MANAGER, "force": "true"},
            headers={"Content-Type": "application/apply-patch+yaml"},
            content=yaml.safe_dump(obj),
        ).json()

    def apply_all(self, docs) -> list[dict]:
        return [self.apply(d) for d in docs if d]

    def delete(self, obj: dict) -> None:
        resp = self.http.delete(self.path_for(obj))
        if resp.status_code not in (200, 202, 404):
            raise httpx.HTTPStatusError(
                f"DELETE: {resp.status_code} {resp.text[:300]}",
                request=resp.request,
                response=resp,
            )

    def create_token(self, namespace: str, sa: str, seconds: int = 86400) -> str:
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": seconds},
        }
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{sa}/token"
        return self.request("POST", path, json=body).json()["status"]["token"]

    # --- waiting -------------------------------------------------------------------
    def wait_for(self, check, timeout: float, what: str, interval: float = 0.25):
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                result = check()
                if result:
                    return result
            except (httpx.HTTPError, KeyError, LookupError) as exc:
                last = exc
            time.sleep(interval)
        raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} ({last!r})")


def load_yaml_docs(path: Path) -> list[dict]:
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]
