"""The objects of the REST API (`Cluster`, `ClusterRequest`, ...) and the rules that shape them.

Everything here is plain data plus pure functions, so both backends and the tests share one
definition of what a cluster looks like and which phase it is in.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from ..errors import Invalid
from .protocols import check_protocol
from .queue import Queued
from .limits import GPUS_PER_WORKER_MAX, IDLE_TIMEOUT_MAX, WORKERS_MAX, as_integer, check_int, check_quantity

# Kubernetes DNS-1123 label; the operator adds suffixes, so 53 characters at most. Matched
# whole (fullmatch): "$" alone would let a trailing newline through.
NAME_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
NAME_MAX = 53
ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
# Integer fields of a request and their absolute bounds (limits.py).
INT_BOUNDS = {
    "workers": (0, WORKERS_MAX),
    "gpus_per_worker": (0, GPUS_PER_WORKER_MAX),
    "idle_timeout": (0, IDLE_TIMEOUT_MAX),
    "lifetime": (0, IDLE_TIMEOUT_MAX),
}

Phase = Literal["Creating", "Pending", "Running", "Scaling", "Deleting", "Failed", "Unknown"]
PHASES: tuple[str, ...] = ("Creating", "Pending", "Running", "Scaling", "Deleting", "Failed", "Unknown")


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def iso_time(seconds: float | None) -> str | None:
    """Epoch seconds as the API writes times (whole seconds, UTC); None stays None."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(int(seconds), timezone.utc).isoformat().replace("+00:00", "Z")


def parse_iso(value: str | None) -> float | None:
    """An API time (ISO 8601, "Z" for UTC) as epoch seconds; None when absent or unreadable."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass
class Workers:
    desired: int = 0
    ready: int = 0
    pending: int = 0


@dataclass
class Scheduler:
    ready: bool = False
    address: str | None = None  # TCP: what this server, and any client, can dial
    ucx_address: str | None = None  # UCX clusters: the scheduler's UCX listener as well


@dataclass
class Adapt:
    minimum: int
    maximum: int


@dataclass
class GPUUsage:
    """GPUs the cluster's workers hold, and what NVML says about them (None when not reported)."""

    in_use: int = 0
    memory_used: int | None = None  # bytes, summed over workers
    memory_total: int | None = None  # bytes, summed over workers
    utilization: float | None = None  # percent, mean over GPUs


@dataclass
class GpuHours:
    """GPU-hours the cluster's workers held and how busy those GPUs were (clusters/gpu_hours.py).

    Counted up to `as_of`; from then on `gpus_held` GPUs add as many GPU-hours per hour, busy
    at `utilization` percent, until the next change (which the server announces)."""

    as_of: str
    held: float = 0.0  # GPU-hours held up to as_of
    read: float = 0.0  # of `held`, GPU-hours with a utilisation reading
    busy: float | None = None  # of `read`, GPU-hours busy (utilisation-weighted); None: nothing read
    busy_share: float | None = None  # busy / read, 0 to 1; None: unknown (no reading)
    gpus_held: int = 0  # GPUs held since as_of
    utilization: float | None = None  # percent, the reading since as_of; None: none
    counted_since: str | None = None  # when counting began; None: no GPU held yet
    idle_since: str | None = None  # GPUs held and read under idle_below % since; None: not idle
    idle_below: float = 5.0  # percent
    idle_after: int = 600  # seconds idle before the warning
    price_per_gpu_hour: float | None = None  # the admin's price (c.RapidsKF.gpu_hour_price); None: not set
    currency: str | None = None
    cost: float | None = None  # held x price, up to as_of; None: no price


@dataclass
class VersionSkew:
    """A package the cluster's image runs in another version than this notebook."""

    package: str  # python, distributed, dask, msgpack or cloudpickle
    cluster: str
    notebook: str


@dataclass
class WorkerGroup:
    """A worker group besides the default one (KubeCluster.add_worker_group); the slider scales
    only the default group, which `Cluster.workers` counts."""

    name: str
    desired: int = 0
    ready: int = 0
    gpus_per_worker: int = 0


@dataclass
class EndsWith:
    """The object whose deletion deletes the cluster (its Kubernetes owner): a KubeFlow
    Notebook, else the notebook's StatefulSet."""

    kind: str
    name: str


@dataclass
class StoppedWithNotebook:
    """What was done to the cluster when its KubeFlow notebook was stopped (the stopper)."""

    notebook: str
    stopped_at: str  # when the notebook was stopped (KubeFlow's kubeflow-resource-stopped)
    workers: int  # workers of the default group before
    adapt: Adapt | None = None  # adaptive scaling that was turned off


@dataclass
class Happening:
    """Something that happened to a running cluster (a worker replaced, a scheduler
    restarted, a worker out of memory), told on the card for a while after it recovered."""

    at: str  # when (ISO, UTC)
    what: str  # in words, naming the worker or pod


@dataclass
class Cluster:
    name: str
    namespace: str
    backend: str
    phase: str = "Creating"
    created: str = field(default_factory=now_iso)
    image: str | None = None
    worker_command: str = "dask-cuda-worker"
    gpus_per_worker: int = 0
    workers: Workers = field(default_factory=Workers)
    scheduler: Scheduler = field(default_factory=Scheduler)
    dashboard_url: str = ""
    adapt: Adapt | None = None
    idle_timeout: int = 0
    reasons: list[str] = field(default_factory=list)
    managed: bool = True
    cpu: str | None = None
    memory: str | None = None
    gpus: GPUUsage = field(default_factory=GPUUsage)
    worker_groups: list[WorkerGroup] = field(default_factory=list)
    version_skew: list[VersionSkew] = field(default_factory=list)  # [] when same or not known
    ends_with: EndsWith | None = None  # None: not tied to any notebook
    lifetime: int = 0  # seconds from `created` after which Kubernetes deletes it; 0: none
    idle_since: str | None = None  # when the scheduler last became idle; None: busy or not known
    stopped_with_notebook: StoppedWithNotebook | None = None  # None: not scaled to 0 by a stop
    protocol: str = "tcp"  # how the workers talk to each other: tcp or ucx (models/protocols.py)
    gpu_hours: GpuHours | None = None  # filled in by the ClusterService (clusters/gpu_hours.py)
    happened: list[Happening] = field(default_factory=list)  # newest first; [] on the local backend
    queue: Queued | None = None  # None: not going through Kueue (docs/kueue.md)

    # Not a field (no annotation): (epoch seconds, GPUs) for each worker holding GPUs now, from
    # when it took them, where the backend knows (Kubernetes: the pod's Ready time), so hours
    # held before this server first saw the cluster are counted too. () when not known.
    gpus_held_since = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def to_json_text(self) -> str:
        """`to_json()` encoded; a backend whose clusters never change after creation memoizes it."""
        return json.dumps(self.to_json())


def derive_phase(
    *,
    deleting: bool = False,
    failed: bool = False,
    started: bool = True,
    scheduler_ready: bool = False,
    desired: int = 0,
    ready: int = 0,
) -> str:
    """The phase rules of api.md, shared by every backend.

    `started` says whether the objects/processes behind the cluster exist yet.
    """
    if deleting:
        return "Deleting"
    if failed:
        return "Failed"
    if not started:
        return "Creating"
    if not scheduler_ready:
        return "Pending"
    return "Running" if ready == desired else "Scaling"


def dashboard_path(name: str, page: str = "status") -> str:
    """The proxied dashboard of a cluster, relative to the server's base_url."""
    return f"rapids-kf/clusters/{name}/dashboard/{page}"


# --- request parsing -------------------------------------------------------------------------

MAX_BODY = 64 * 1024


def decode_body(body: bytes) -> Any:
    """A request body as JSON; an empty body is {}. Anything else that is not JSON is a 400."""
    if len(body) > MAX_BODY:
        raise Invalid(f"the request body is {len(body)} bytes; the limit is {MAX_BODY} (64 KiB)")
    if not body.strip():
        return {}
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise Invalid(f"the request body is not valid JSON: {err}") from None
    except RecursionError:  # json.loads recurses once per level of nesting
        raise Invalid("the request body is not valid JSON: it is nested too deeply") from None


REQUEST_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "workers": int,
    "gpus_per_worker": int,
    "image": str,
    "worker_command": str,
    "cpu": str,
    "memory": str,
    "idle_timeout": int,
    "profile": str,
    "env": dict,
    "tie_to_notebook": bool,
    "lifetime": int,
    "protocol": str,
}


@dataclass
class ClusterRequest:
    """A create request after type checks; every field None means "use the default"."""

    name: str | None = None
    workers: int | None = None
    gpus_per_worker: int | None = None
    image: str | None = None
    worker_command: str | None = None
    cpu: str | None = None
    memory: str | None = None
    idle_timeout: int | None = None
    profile: str | None = None
    env: dict[str, str] | None = None
    tie_to_notebook: bool | None = None
    lifetime: int | None = None
    protocol: str | None = None

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class ClusterSpec:
    """A fully resolved request: what a backend is asked to create."""

    name: str
    workers: int
    gpus_per_worker: int
    image: str | None
    worker_command: str
    cpu: str
    memory: str
    idle_timeout: int
    env: dict[str, str]
    profile: str | None = None
    tie_to_notebook: bool = False
    lifetime: int = 0
    protocol: str = "tcp"


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {int: "an integer", str: "a string", dict: "an object", bool: "true or false"}
    return names.get(expected, str(expected)) if isinstance(expected, type) else "a value"


def check_type(field_name: str, value: Any, expected: type) -> Any:
    # bool is a subclass of int in Python; JSON true is never a count. 3.0 is one (JSON Schema).
    if expected is int:
        number = as_integer(value)
        if number is None:
            raise Invalid(f"{field_name} must be an integer", field=field_name)
        return number
    if not isinstance(value, expected):
        raise Invalid(f"{field_name} must be {_type_name(expected)}", field=field_name)
    return value


def check_text(field_name: str, value: str) -> str:
    """Text that can reach a process: no NUL character, no lone UTF-16 surrogate."""
    if "\x00" in value:
        raise Invalid(f"{field_name} must not contain a NUL character", field=field_name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(f"{field_name} must be valid Unicode text", field=field_name) from None
    return value


def check_name(name: str, field_name: str = "name") -> str:
    if len(name) > NAME_MAX:
        raise Invalid(f"{field_name} must be at most {NAME_MAX} characters", field=field_name)
    if not NAME_RE.fullmatch(name):
        raise Invalid(
            f"{field_name} must be lower-case letters, digits and '-', starting and ending "
            "with a letter or digit (a Kubernetes DNS-1123 label)",
            field=field_name,
        )
    return name


def parse_cluster_request(body: Any) -> ClusterRequest:
    """Type-check a POST body. Ranges and guardrails are the service's job."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object")
    unknown = sorted(set(body) - set(REQUEST_FIELDS))
    if unknown:
        raise Invalid(
            f"unknown field {unknown[0]!r}; allowed: {', '.join(REQUEST_FIELDS)}", field=unknown[0]
        )
    values: dict[str, Any] = {}
    for key, value in body.items():
        if value is None:
            continue
        values[key] = check_type(key, value, REQUEST_FIELDS[key])  # type: ignore[arg-type]
        if isinstance(value, str):
            check_text(key, value)
    if "name" in values:
        check_name(values["name"])
    for key, (low, high) in INT_BOUNDS.items():
        if key in values:
            check_int(key, values[key], low, high)
    for key in ("cpu", "memory"):
        if key in values:
            check_quantity(key, values[key])
    if "worker_command" in values and not values["worker_command"].strip():
        raise Invalid("worker_command must not be empty", field="worker_command")
    if "protocol" in values:
        check_protocol(values["protocol"])
    if "image" in values and not values["image"].strip():
        raise Invalid("image must not be empty", field="image")
    if "env" in values:
        for key, value in values["env"].items():
            if not ENV_NAME_RE.fullmatch(key):
                raise Invalid(f"env: {key!r} is not a valid environment variable name", field="env")
            if not isinstance(value, str):
                raise Invalid(f"env: the value of {key} must be a string", field="env")
            check_text("env", value)
    return ClusterRequest(**values)


def parse_scale_request(body: Any) -> tuple[str, Any]:
    """PATCH body: {"workers": n} or {"adapt": {"minimum": a, "maximum": b}} or {"adapt": null}."""
    if not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object")
    unknown = sorted(set(body) - {"workers", "adapt"})
    if unknown:
        raise Invalid(f"unknown field {unknown[0]!r}; allowed: workers, adapt", field=unknown[0])
    if len(body) != 1:
        raise Invalid("send exactly one of workers or adapt", field="workers")
    if "workers" in body:
        return "workers", check_int("workers", body["workers"], 0, WORKERS_MAX)
    adapt = body["adapt"]
    if adapt is None:
        return "adapt", None
    if not isinstance(adapt, dict):
        raise Invalid("adapt must be an object with minimum and maximum, or null", field="adapt")
    extra = sorted(set(adapt) - {"minimum", "maximum"})
    if extra:
        raise Invalid(f"unknown field adapt.{extra[0]}; allowed: minimum, maximum", field="adapt")
    bounds = {}
    for key in ("minimum", "maximum"):
        if key not in adapt:
            raise Invalid(f"adapt.{key} is required", field=f"adapt.{key}")
        bounds[key] = check_int(f"adapt.{key}", adapt[key], 0, WORKERS_MAX)
    return "adapt", Adapt(**bounds)
