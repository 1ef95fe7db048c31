"""The watch-fed cache: resumes after dropped watches, lists again after 410 Gone."""

from __future__ import annotations

import re

from . import fake_operator
from .conftest import until


def lists(k8s, plural: str = "daskclusters") -> int:
    rx = re.compile(rf"/{plural}(\?|$)")
    return sum(1 for m, uri in k8s.requests if m == "GET" and rx.search(uri) and "watch=true" not in uri)


def watches(k8s, plural: str = "daskclusters") -> list[str]:
    return [uri for m, uri in k8s.requests if m == "GET" and f"/{plural}?" in uri and "watch=true" in uri]


async def test_dropped_watch_resumes_from_its_version_without_listing_again(api, k8s):
    await api.get("clusters")
    assert lists(k8s) == 1
    first = len(watches(k8s))
    k8s.drop_watches()
    fake_operator.external_cluster(k8s, "after-drop")
    await api.wait_for("after-drop", lambda c: True, timeout=5)
    assert lists(k8s) == 1
    resumed = watches(k8s)[first:]
    assert resumed and all("resourceVersion=" in uri for uri in resumed)


async def test_gone_watch_lists_again_and_forgets_what_was_deleted_meanwhile(api, k8s):
    fake_operator.external_cluster(k8s, "old")
    await api.wait_for("old", lambda c: True, timeout=5)
    # While the watch is down: one cluster goes, another comes, and history is compacted.
    k8s.drop_watches()
    k8s.remove("daskclusters", "old")
    fake_operator.external_cluster(k8s, "new")
    k8s.expire()
    await api.wait_for("new", lambda c: True, timeout=5)
    await api.wait_gone("old", timeout=5)
    assert lists(k8s) >= 2


async def test_watch_errors_are_retried_and_the_cache_keeps_serving(api, k8s):
    fake_operator.external_cluster(k8s, "steady")
    await api.wait_for("steady", lambda c: True, timeout=5)
    k8s.fail("GET", r"/daskclusters$", 500, "apiserver restarting", times=3)
    k8s.drop_watches()
    listed = await api.get("clusters")  # served from the cache while the watch retries
    assert [c["name"] for c in listed["clusters"]] == ["steady"]
    await until(lambda: k8s.faults[0].times == 0, what="the retries")
    fake_operator.external_cluster(k8s, "later")
    await api.wait_for("later", lambda c: True, timeout=15)


async def test_a_forbidden_request_leaves_the_watches_alone(api, k8s):
    """kr8s answers any 401/403 by re-reading credentials and replacing its HTTP session
    (three times), which closes every watch stream of the backend. KubeFlow's notebooks
    may not list nodes without manifests/optional, so that 403 is routine."""
    k8s.deny("list", "nodes")
    await api.get("clusters")
    kinds = ("daskclusters", "daskworkergroups", "daskautoscalers", "pods", "events")
    await until(lambda: all(len(watches(k8s, p)) == 1 for p in kinds), what="the watches")
    before = {p: 1 for p in kinds}
    env = await api.get("environment")  # counts GPUs: GET nodes -> 403
    gpus = next(c for c in env["checks"] if c["name"] == "gpus")
    assert "GPU capacity unknown" in gpus["message"]
    assert k8s.count("GET", r"/api/v1/nodes") == 1  # asked once, not again with re-read credentials
    fake_operator.external_cluster(k8s, "after-403")
    await api.wait_for("after-403", lambda c: True, timeout=5)
    assert {p: len(watches(k8s, p)) for p in before} == before  # the same streams still open
    assert lists(k8s) == 1


async def test_a_refused_first_list_is_reported_without_waiting(api, k8s, caplog):
    """The first lists get 5 s to arrive before requests are answered with an error; a
    403 (or 404) will not change by waiting, so it is answered at once."""
    k8s.deny("list", "daskclusters")
    code, body = await api.call("GET", "clusters")
    assert code == 403 and "list daskclusters" in body["error"]["message"], body
    # The grace period did not run out: start() stopped waiting at the refusal.
    assert not [r for r in caplog.records if "not readable yet" in r.getMessage()]
