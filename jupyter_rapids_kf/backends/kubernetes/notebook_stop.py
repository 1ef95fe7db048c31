"""What the stopper (`python -m jupyter_rapids_kf.stopper`) did to a cluster when its KubeFlow
notebook was stopped, as it wrote it on the DaskCluster, and how the card says it.

KubeFlow's Stop button and culler set `kubeflow-resource-stopped` on the Notebook and scale its
StatefulSet to 0; this server is then down. The stopper, an admin-installed controller, scales
the notebook's clusters to 0 workers (keeping the scheduler) and records here what they had
before, so that after the notebook starts again the card can say what happened.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from ...models.cluster import Adapt, StoppedWithNotebook, parse_iso

# On the DaskCluster: a JSON Record.
STOPPED_ANNOTATION = "rapids-kf.jupyter.org/stopped-with-notebook"
# On the Notebook, set by KubeFlow's notebook controller (Stop button, culler) to an RFC 3339 time.
KUBEFLOW_STOPPED = "kubeflow-resource-stopped"


@dataclass
class Record:
    notebook: str  # the Notebook's name
    stopped: str  # the value of its kubeflow-resource-stopped annotation (when it was stopped)
    at: str  # when the stopper acted (ISO, UTC)
    workers: dict[str, int] = field(default_factory=dict)  # worker group -> replicas before
    adapt: dict[str, int] | None = None  # the DaskAutoscaler's {minimum, maximum} before, if any
    scaled: bool = False  # the scale to 0 was written (else the stopper redoes it)
    released: str | None = None  # when no worker Deployment of those groups was left

    def dump(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def load(cls, text: str | None) -> Record | None:
        """The record, or None when there is none or it cannot be read (never raises)."""
        if not text:
            return None
        try:
            raw = json.loads(text)
            workers = {str(k): int(v) for k, v in (raw.get("workers") or {}).items()}
            adapt = raw.get("adapt")
            if adapt is not None:
                adapt = {"minimum": int(adapt["minimum"]), "maximum": int(adapt["maximum"])}
            return cls(notebook=str(raw["notebook"]), stopped=str(raw["stopped"]), at=str(raw["at"]),
                       workers=workers, adapt=adapt, scaled=bool(raw.get("scaled")),
                       released=raw.get("released"))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def default_workers(self, cluster: str) -> int:
        return self.workers.get(f"{cluster}-default", 0)


def record_of(dc: dict[str, Any]) -> Record | None:
    return Record.load(((dc.get("metadata") or {}).get("annotations") or {}).get(STOPPED_ANNOTATION))


def when(stamp: str, now: float | None = None) -> str:
    """`14:02 UTC` today, `2026-12-06 14:02 UTC` another day; the raw text if unreadable."""
    seconds = parse_iso(stamp)
    if seconds is None:
        return stamp
    at = datetime.fromtimestamp(seconds, timezone.utc)
    today = datetime.fromtimestamp(time.time() if now is None else now, timezone.utc).date()
    return at.strftime("%H:%M UTC") if at.date() == today else at.strftime("%Y-%m-%d %H:%M UTC")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def applies(record: Record | None, desired: int, has_autoscaler: bool) -> bool:
    """The record still describes the cluster: it is at 0 workers and not adaptive. Once the
    user scales up (here or with KubeCluster.scale) the card no longer says it."""
    return record is not None and record.scaled and desired == 0 and not has_autoscaler


def reason(record: Record, cluster: str, now: float | None = None) -> str:
    """The card's words, e.g. "Scaled to 0 workers (from 2) when notebook nb was stopped at
    14:02 UTC, so that it holds no GPU; scale up to continue"."""
    before = record.default_workers(cluster)
    others = sum(n for g, n in record.workers.items() if g != f"{cluster}-default")
    had = [_plural(before, "worker")] if before or not others else []
    if others:
        had.append(_plural(others, "worker") + " of other groups")
    what = f"Scaled to 0 workers (from {' and '.join(had)})"
    if record.adapt is not None:
        what += f" and adaptive scaling ({record.adapt['minimum']}-{record.adapt['maximum']}) turned off"
    text = f"{what} when notebook {record.notebook} was stopped at {when(record.stopped, now)}, so that it holds no GPU"
    if record.adapt is not None:
        return text + "; scale up or turn adaptive scaling on to continue"
    return text + "; scale up to continue"


def stopped_with_notebook(dc: dict[str, Any], desired: int, has_autoscaler: bool,
                          now: float | None = None) -> tuple[StoppedWithNotebook, str] | None:
    """The Cluster field and the card's reason while the record applies, else None."""
    record = record_of(dc)
    if record is None or not applies(record, desired, has_autoscaler):
        return None
    name = (dc.get("metadata") or {}).get("name", "")
    adapt = Adapt(**record.adapt) if record.adapt else None
    return (StoppedWithNotebook(record.notebook, record.stopped, record.default_workers(name), adapt),
            reason(record, name, now))


def forget_stop(dc: dict[str, Any] | None) -> dict[str, Any]:
    """The merge patch that removes the record (the user scaled up again); {} when there is none."""
    if STOPPED_ANNOTATION in (((dc or {}).get("metadata") or {}).get("annotations") or {}):
        return {"metadata": {"annotations": {STOPPED_ANNOTATION: None}}}
    return {}
