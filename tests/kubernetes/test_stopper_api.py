"""After the restart, through the REST API against the emulator: the card of a cluster the
stopper scaled to 0 says so, and a scale-up through the panel (or adaptive scaling) removes
the stopper's record, so a later scale to 0 by hand is not blamed on the stop."""

from __future__ import annotations

from jupyter_rapids_kf.backends.kubernetes.notebook_stop import STOPPED_ANNOTATION, Record

from . import fake_operator
from .test_api_flow import create_running


def stop(k8s, name: str) -> None:
    """What the stopper leaves: the record, the worker group and the DaskCluster at 0."""
    record = Record(notebook="nb", stopped="2030-03-17T17:46:40Z", at="2030-03-17T17:46:41Z",
                    workers={f"{name}-default": 2}, scaled=True, released="2030-03-17T17:47:05Z")
    dc = k8s.get("daskclusters", name)
    dc["metadata"].setdefault("annotations", {})[STOPPED_ANNOTATION] = record.dump()
    dc["spec"]["worker"]["replicas"] = 0
    k8s.put("daskclusters", dc)
    group = k8s.get("daskworkergroups", f"{name}-default")
    group["spec"]["worker"]["replicas"] = 0
    k8s.put("daskworkergroups", group)
    fake_operator.reconcile(k8s, name)


async def test_the_card_says_it_until_a_scale_up_removes_the_record(api, k8s):
    await create_running(api, k8s)
    stop(k8s, "gpu-etl")
    card = await api.wait_for("gpu-etl", lambda c: c.get("stopped_with_notebook") is not None)
    assert card["reasons"][0].startswith("Scaled to 0 workers (from 2 workers) when notebook nb was stopped at ")
    assert card["stopped_with_notebook"] == {"notebook": "nb", "stopped_at": "2030-03-17T17:46:40Z",
                                             "workers": 2, "adapt": None}
    code, card = await api.call("PATCH", "clusters/gpu-etl", {"workers": 2})
    assert code == 202 and card["stopped_with_notebook"] is None, card
    assert STOPPED_ANNOTATION not in (k8s.get("daskclusters", "gpu-etl")["metadata"].get("annotations") or {})
    code, card = await api.call("PATCH", "clusters/gpu-etl", {"workers": 0})
    # A scale to 0 by hand later is not blamed on the stop.
    assert code == 202 and card["stopped_with_notebook"] is None, card
    assert not any(r.startswith("Scaled to 0") for r in card["reasons"]), card


async def test_turning_adaptive_scaling_on_removes_the_record(api, k8s):
    await create_running(api, k8s)
    stop(k8s, "gpu-etl")
    await api.wait_for("gpu-etl", lambda c: c.get("stopped_with_notebook") is not None)
    code, card = await api.call("PATCH", "clusters/gpu-etl", {"adapt": {"minimum": 1, "maximum": 2}})
    assert code == 202 and card["stopped_with_notebook"] is None, card
    assert STOPPED_ANNOTATION not in (k8s.get("daskclusters", "gpu-etl")["metadata"].get("annotations") or {})
