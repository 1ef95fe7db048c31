"""How a local cluster looks to the user: phase, counts and reasons from its runner process
and the last state its scheduler reported (runner.py's rapids_kf_state)."""

from __future__ import annotations

from ...models.cluster import (
    Adapt,
    Cluster,
    GPUUsage,
    Scheduler,
    Workers,
    dashboard_path,
    derive_phase,
    iso_time,
)
from .processes import Runner


def cluster_view(runner: Runner, backend: str) -> Cluster:
    """The Cluster a user sees, from the runner's spec and its scheduler's last state."""
    spec, state = runner.spec, runner.state
    desired = state.get("desired", spec["workers"])
    ready = state.get("ready", 0)
    started = runner.address is not None
    phase = derive_phase(
        deleting=runner.deleting_since is not None,
        failed=runner.failed is not None,
        started=started,
        scheduler_ready=bool(state),
        desired=desired,
        ready=ready,
    )
    reasons: list[str] = []
    if runner.failed:
        reasons.append(runner.failed)
    elif phase == "Creating":
        reasons.append("starting the scheduler process")
    elif phase in ("Pending", "Scaling") and state:
        if ready < desired:
            # The runner starts every worker process at once; `ready` counts only those its
            # scheduler lists as running (local_runner.py), as on Kubernetes.
            n = desired - ready
            reasons.append(f"{n} worker{'' if n == 1 else 's'} started, waiting for "
                           f"{'it' if n == 1 else 'them'} to join the scheduler")
        elif ready > desired:
            reasons.append(f"{ready - desired} workers retiring")
    adapt = state.get("adapt", spec.get("adapt"))
    gpu = state.get("gpus") or {}
    return Cluster(
        name=runner.name,
        namespace="local",
        backend=backend,
        phase=phase,
        created=spec["created"],
        image=None,
        worker_command=spec["worker_command"],
        gpus_per_worker=spec["gpus_per_worker"],
        workers=Workers(desired=desired, ready=ready, pending=max(0, desired - ready)),
        scheduler=Scheduler(ready=bool(state), address=runner.address, ucx_address=runner.ucx_address),
        dashboard_url=dashboard_path(runner.name),
        adapt=Adapt(**adapt) if adapt else None,
        idle_timeout=spec["idle_timeout"],
        reasons=reasons,
        managed=True,
        cpu=spec["cpu"],
        memory=spec["memory"],
        gpus=GPUUsage(
            in_use=ready * spec["gpus_per_worker"],
            memory_used=gpu.get("memory_used"),
            memory_total=gpu.get("memory_total"),
            utilization=gpu.get("utilization"),
        ),
        idle_since=iso_time(state.get("idle_since")) if spec["idle_timeout"] else None,
        protocol=spec.get("protocol", "tcp"),
    )
