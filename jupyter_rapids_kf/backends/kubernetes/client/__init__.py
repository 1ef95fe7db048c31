"""Talking to the Kubernetes API: credentials, the namespace, requests, and errors users can read.

kr8s.asyncio provides authentication (kubeconfig or the pod's service account, with re-reads of
rotated tokens) and the httpx session; requests go through `Api.call_api`, so the cache keeps
plain dicts and every error passes through `map_error` exactly once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ....errors import Exists, Forbidden, Invalid, NotFound, RapidsKFError, Unavailable

log = logging.getLogger(__name__)

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DASK_GROUP = "kubernetes.dask.org"
REQUEST_TIMEOUT = 15.0

PERMISSION_FIX = (
    "ask your administrator to apply the manifests/ folder of jupyter-rapids-kf "
    "(kubectl apply -k manifests/): its ClusterRole jupyter-rapids-kf-edit is aggregated into "
    "kubeflow-edit and grants this to the notebooks of every KubeFlow profile"
)
OPERATOR_FIX = (
    "ask your administrator to install the dask-kubernetes operator: helm install "
    "--repo https://helm.dask.org --create-namespace -n dask-operator --generate-name "
    "dask-kubernetes-operator (see docs/admin.md)"
)


@dataclass(frozen=True)
class Resource:
    """One kind of object in the API, enough to build its URLs and name it in messages."""

    plural: str
    kind: str
    group: str = ""
    version: str = "v1"
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def full_name(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


DASKCLUSTERS = Resource("daskclusters", "DaskCluster", DASK_GROUP)
DASKWORKERGROUPS = Resource("daskworkergroups", "DaskWorkerGroup", DASK_GROUP)
DASKAUTOSCALERS = Resource("daskautoscalers", "DaskAutoscaler", DASK_GROUP)
PODS = Resource("pods", "Pod")
EVENTS = Resource("events", "Event")
SERVICES = Resource("services", "Service")
NODES = Resource("nodes", "Node", namespaced=False)
JOBS = Resource("jobs", "Job", "batch")
STATEFULSETS = Resource("statefulsets", "StatefulSet", "apps")
DEPLOYMENTS = Resource("deployments", "Deployment", "apps")  # the operator's one per worker
NOTEBOOKS = Resource("notebooks", "Notebook", "kubeflow.org")  # KubeFlow's notebook controller
ACCESS_REVIEWS = Resource(
    "selfsubjectaccessreviews", "SelfSubjectAccessReview", "authorization.k8s.io", namespaced=False
)


# --- where we are ---------------------------------------------------------------------------


def kubeconfig_paths() -> list[Path]:
    raw = os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p]


def in_pod() -> bool:
    return (SERVICE_ACCOUNT_DIR / "token").is_file() and bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


def credentials() -> str | None:
    """Where credentials come from, in words; None when there are none."""
    found = [p for p in kubeconfig_paths() if p.is_file()]
    if found:
        return f"kubeconfig {found[0]}"
    if in_pod():
        return "service account"
    return None


def kubeconfig_namespace() -> str | None:
    """The namespace of the current kubeconfig context, if one is set."""
    current, contexts = None, {}
    for path in kubeconfig_paths():
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        current = current or data.get("current-context")
        for ctx in data.get("contexts") or []:
            contexts.setdefault(ctx.get("name"), ctx.get("context") or {})
    if current and contexts.get(current, {}).get("namespace"):
        return contexts[current]["namespace"]
    return None


def detect_namespace(configured: str) -> tuple[str, str]:
    """The namespace and where it came from: config, service account, kubeconfig, 'default'.

    kr8s falls back to 'default' inside a pod without a kubeconfig, so the namespace is always
    resolved here and passed explicitly.
    """
    if configured:
        return configured, "c.RapidsKF.namespace"
    try:
        namespace = (SERVICE_ACCOUNT_DIR / "namespace").read_text().strip()
        if namespace:
            return namespace, "the service account"
    except OSError:
        pass
    namespace = kubeconfig_namespace()
    if namespace:
        return namespace, "the kubeconfig context"
    return "default", "no namespace configured anywhere: using 'default'"


# --- errors ---------------------------------------------------------------------------------


def _status(response: Any) -> dict[str, Any]:
    try:
        data = response.json()
    except (ValueError, AttributeError):
        return {}
    return data if isinstance(data, dict) and data.get("kind") == "Status" else {}


def map_error(err: BaseException, verb: str, resource: Resource, namespace: str | None,
              name: str | None = None) -> RapidsKFError:
    """Any failure of a request as the API's Error, in words a notebook user can act on.
    An answer of the API server keeps its status code in `kube_status`."""
    mapped = _map_error(err, verb, resource, namespace, name)
    response = getattr(err, "response", None)
    if getattr(mapped, "kube_status", None) is None and response is not None:
        mapped.kube_status = getattr(response, "status_code", None)  # type: ignore[attr-defined]
    return mapped


def kube_status(err: BaseException) -> int | None:
    """The API server's status code behind an error (mapped or not), if it answered."""
    code = getattr(err, "kube_status", None)
    if code is None:
        code = getattr(getattr(err, "response", None), "status_code", None)
    return code


def _map_error(err: BaseException, verb: str, resource: Resource, namespace: str | None,
               name: str | None) -> RapidsKFError:
    import httpx
    from kr8s._exceptions import APITimeoutError, ServerError

    if isinstance(err, RapidsKFError):
        return err
    where = f" in namespace {namespace}" if namespace and resource.namespaced else ""
    what = f"{resource.full_name}" + (f" {name!r}" if name else "")
    if isinstance(err, ServerError) and err.response is not None:
        code = err.response.status_code
        status = _status(err.response)
        message = status.get("message") or str(err)
        if code == 401:
            return Forbidden(
                "the Kubernetes API did not accept this notebook server's credentials (401)",
                fix="restart the notebook server so that it reads a fresh service account token",
            )
        if code == 403:
            return Forbidden(
                f"not allowed to {verb} {what}{where}: {message}",
                fix=PERMISSION_FIX,
            )
        if code == 404:
            details = status.get("details") or {}
            if status.get("reason") == "NotFound" and (details.get("name") or name):
                return NotFound(f"no {resource.kind} named {details.get('name') or name!r}{where}", field="name")
            if resource.group == DASK_GROUP:
                return Unavailable(
                    f"the Kubernetes API does not serve {resource.full_name}: the dask-kubernetes "
                    "operator's CustomResourceDefinitions are not installed",
                    fix=OPERATOR_FIX,
                )
            return NotFound(f"{what} not found{where}")
        if code == 409:
            return Exists(f"{what} already exists{where}: {message}", field="name")
        if code == 422:
            return Invalid(f"Kubernetes refused the {resource.kind}: {message}")
        if code == 400:
            return Invalid(f"Kubernetes refused the request to {verb} {what}: {message}")
        return Unavailable(f"the Kubernetes API answered {code} to {verb} {what}: {message}")
    if isinstance(err, (APITimeoutError, httpx.TimeoutException, TimeoutError)):
        return Unavailable(f"the Kubernetes API did not answer in time ({verb} {what})")
    if isinstance(err, (httpx.TransportError, OSError)):
        return Unavailable(f"cannot reach the Kubernetes API ({verb} {what}): {str(err) or type(err).__name__}")
    if isinstance(err, ValueError) and "credentials" in str(err):
        return Unavailable(
            f"no Kubernetes credentials: {err}",
            fix="run the notebook server in a pod with a service account, or set KUBECONFIG",
        )
    log.error("rapids-kf: unexpected error talking to Kubernetes", exc_info=err)
    return Unavailable(f"talking to Kubernetes failed ({verb} {what}): {type(err).__name__}")


def server_error(response: Any) -> Exception:
    """An error answer as kr8s' ServerError, as kr8s itself would raise it."""
    from kr8s._exceptions import ServerError

    status = _status(response)
    message = status.get("message") or f"{response.status_code} {response.reason_phrase}".strip()
    return ServerError(message, status=status or response.text, response=response)


def is_gone(err: BaseException) -> bool:
    from kr8s._exceptions import ServerError

    return isinstance(err, ServerError) and err.response is not None and err.response.status_code == 410


# --- requests -------------------------------------------------------------------------------


class Kube:
    """The API of one namespace: kr8s for credentials and the session, plain dicts for data."""

    def __init__(self, namespace: str, timeout: float = REQUEST_TIMEOUT):
        self.namespace = namespace
        self.timeout = timeout
        self._api: Any = None
        self._connecting: asyncio.Lock | None = None
        self._reauth: asyncio.Lock | None = None

    async def api(self) -> Any:
        if self._api is not None:
            return self._api
        # One connection attempt at a time: kr8s' re-authentication is not safe to run concurrently.
        self._connecting = self._connecting or asyncio.Lock()
        async with self._connecting:
            if self._api is not None:
                return self._api
            import kr8s.asyncio

            try:
                api = await kr8s.asyncio.api(
                    kubeconfig=os.environ.get("KUBECONFIG") or None, namespace=self.namespace
                )
            except Exception as err:  # no credentials, API down: say so, never a traceback
                raise map_error(err, "connect to", Resource("version", "API server"), None) from None
            api.timeout = self.timeout
            self._api = api
            return api

    @property
    def server(self) -> str:
        return getattr(getattr(self._api, "auth", None), "server", "") or "?"

    def _where(self, resource: Resource, name: str | None, sub: str | None) -> dict[str, Any]:
        url = resource.plural + (f"/{name}" if name else "") + (f"/{sub}" if sub else "")
        return {
            "version": resource.api_version,
            "base": "/apis" if resource.group else "/api",
            "namespace": self.namespace if resource.namespaced else None,
            "url": url,
        }

    async def request(
        self,
        method: str,
        resource: Resource,
        name: str | None = None,
        *,
        verb: str,
        sub: str | None = None,
        params: dict[str, Any] | None = None,
        body: Any = None,
        patch: bool = False,
        text: bool = False,
    ) -> Any:
        """One request; the answer's JSON (or text). Raises the mapped RapidsKFError."""
        kwargs: dict[str, Any] = {}
        if params:
            kwargs["params"] = params
        if body is not None:
            kwargs["content"] = json.dumps(body)
        if patch:
            kwargs["headers"] = {"Content-Type": "application/merge-patch+json"}
        try:
            return await self._send(method, self._where(resource, name, sub), text=text, **kwargs)
        except RapidsKFError:
            raise
        except Exception as err:
            raise map_error(err, verb, resource, self.namespace, name) from None

    async def _send(self, method: str, where: dict[str, Any], text: bool = False, **kwargs) -> Any:
        """One call through kr8s; an error status raises kr8s' ServerError."""
        api = await self.api()
        for attempt in range(2):
            # raise_for_status=False: kr8s answers every 401 *and 403* by re-reading the
            # credentials and replacing its HTTP session, three times over, which closes
            # every watch stream and request in flight on it. A 403 is an answer, not an
            # expired token; only a 401 is worth one fresh look at the credentials.
            async with api.call_api(method, **where, raise_for_status=False, **kwargs) as response:
                if response.status_code == 401 and attempt == 0:
                    await self.reauthenticate(api)
                    continue
                if response.is_error:
                    raise server_error(response)
                return response.text if text else response.json()

    async def reauthenticate(self, api: Any) -> None:
        """Reads the credentials again (a rotated service account token) and starts a new
        HTTP session with them, as kr8s does itself after a 401."""
        self._reauth = self._reauth or asyncio.Lock()
        async with self._reauth:
            await api.auth.reauthenticate()
            await api._create_session()

    def stream(self, resource: Resource, params: dict[str, Any]) -> Any:
        """An async context manager yielding the streaming response of a watch."""
        import httpx

        async def opened():
            api = await self.api()
            return api, api.call_api(
                "GET", **self._where(resource, None, None), params=params, stream=True,
                raise_for_status=False,  # see request()
                timeout=httpx.Timeout(self.timeout, read=float(params.get("timeoutSeconds", 300)) + 30),
            )

        return _Deferred(self, opened)

    async def discovery(self, group: str, version: str = "v1") -> set[str]:
        """Plural names served by an API group version; empty when it is not served."""
        from kr8s._exceptions import ServerError

        try:
            data = await self._send("GET", {"version": group, "base": "/apis", "url": version})
        except ServerError as err:
            if err.response is not None and err.response.status_code == 404:
                return set()
            raise map_error(err, "discover", Resource(group, "API group"), None) from None
        except RapidsKFError:
            raise
        except Exception as err:
            raise map_error(err, "discover", Resource(group, "API group"), None) from None
        return {r.get("name") for r in data.get("resources", [])}


class _Deferred:
    """`async with kube.stream(...)`: resolves the kr8s API first, then enters its context;
    an error status is raised as kr8s' ServerError (after a 401, with credentials re-read
    for the next attempt)."""

    def __init__(self, kube: Kube, factory):
        self._kube = kube
        self._factory = factory
        self._cm = None

    async def __aenter__(self):
        api, self._cm = await self._factory()
        response = await self._cm.__aenter__()
        if response.is_error:
            await response.aread()
            await self._cm.__aexit__(None, None, None)
            if response.status_code == 401:
                await self._kube.reauthenticate(api)
            raise server_error(response)
        return response

    async def __aexit__(self, *exc):
        return await self._cm.__aexit__(*exc)
