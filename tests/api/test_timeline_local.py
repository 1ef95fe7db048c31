"""The start-up timeline of real local clusters: the same steps as on Kubernetes where they
apply, durations that add up to the start the test measured, and an ETA for the next start."""

from __future__ import annotations

import json
import time
from datetime import datetime


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def start(api, name: str) -> float:
    began = time.time()
    status, _ = await api.call("POST", "clusters", {"name": name, "workers": 2, "gpus_per_worker": 0})
    assert status == 202
    await api.wait_for(name, lambda c: c["phase"] == "Running", 90, "Running")
    return time.time() - began


async def test_the_timeline_of_a_local_start_adds_up_and_gives_the_next_start_an_eta(api):
    try:
        measured = await start(api, "first")
        timeline = await api.get("clusters/first/timeline")
        steps = [(s["component"], s["step"], s["state"]) for s in timeline["steps"]]
        assert steps == [("cluster", "accepted", "done"), ("scheduler", "started", "done"),
                         ("scheduler", "ready", "done"), ("worker", "registered", "done"),
                         ("worker", "registered", "done")]
        assert timeline["ready"] is not None and 0 < timeline["seconds"] <= measured + 1.5
        # Along the slowest path the steps' durations add up to the whole start.
        scheduler = sum(s["seconds"] for s in timeline["steps"] if s["component"] == "scheduler")
        last_worker = max(seconds(s["at"]) for s in timeline["steps"] if s["component"] == "worker")
        scheduler_ready = seconds(timeline["steps"][2]["at"])
        assert abs(scheduler - (scheduler_ready - seconds(timeline["created"]))) <= 1.0
        assert abs(seconds(timeline["ready"]) - max(last_worker, scheduler_ready)) <= 1.0
        assert timeline["eta_seconds"] is None  # started already

        code, second = await api.call("POST", "clusters", {"name": "second", "workers": 2, "gpus_per_worker": 0})
        assert code == 202
        starting = await api.get("clusters/second/timeline")
        # Asked at once, while it starts: the first start is the estimate.
        assert starting["ready"] is None and "1 recent start" in starting["eta_basis"]
        assert 0 <= starting["eta_seconds"] <= timeline["seconds"] + 0.05  # ETAs are in tenths
        await api.wait_for("second", lambda c: c["phase"] == "Running", 90, "Running")
    finally:
        for name in ("first", "second"):
            await api.call("DELETE", f"clusters/{name}")
        for name in ("first", "second"):
            await api.wait_gone(name)
    code, error = await api.call("GET", "clusters/first/timeline")
    assert code == 404 and error["error"]["code"] == "not_found"


async def test_image_nodes_on_the_local_backend_says_there_is_no_image(api, raw_get, jp_base_url):
    code, answer = await api.call("GET", "image-nodes", image="rapidsai/base:26.10")
    assert code == 200 and answer["known"] is False and "no image" in answer["message"]
    assert answer["image"] == "rapidsai/base:26.10"
    code, answer = await api.call("GET", "image-nodes")  # the default image of new clusters
    assert code == 200 and answer["known"] is False
    for params, field in (({"image": " "}, "image"), ({"image": "a", "tag": "x"}, "tag"), ({"image": ""}, "image"),
                          ({"image": "x" * 513}, "image")):
        code, error = await api.call("GET", "image-nodes", **params)
        assert code == 400 and error["error"]["field"] == field, (params, error)
    twice = await raw_get(f"{jp_base_url}rapids-kf/image-nodes?image=a&image=b")
    assert twice.code == 400 and json.loads(twice.body)["error"]["field"] == "image", twice.body
    api.check_openapi = False  # not in the document: the route has no POST
    code, error = await api.call("POST", "image-nodes", {"image": "a"})  # a read is a GET
    assert code == 405 and error["error"]["code"] == "invalid", error
