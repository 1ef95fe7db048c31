"""Version skew from a real scheduler on the real node: a cluster whose image runs an older
`dask`/`distributed` than this notebook (the Dask image plus dask and distributed 2026.8.0,
build_layer_image.sh). The server asks that cluster's scheduler for its versions over Dask's
comm, as in a notebook pod, and names the difference on the card and above the snippet."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from .node_server import server_fixture, wait_cluster_pods_gone

pytestmark = pytest.mark.controlplane

NAMESPACE = "real-versions"
OLDER = "2026.8.0"  # the release before this checkout's pin; `dask scheduler` is in both
SMALL = {"cpu": "500m", "memory": "1Gi"}

server = server_fixture(NAMESPACE, gpu_metrics_interval=2)


@pytest.fixture(scope="module")
def older_image(real_node) -> str:
    assert version("distributed") != OLDER, "pick another release than the notebook's"
    # --no-deps: only dask and distributed change; everything else stays the image's.
    return real_node.layer_image("older-dask", f"dask=={OLDER}", f"distributed=={OLDER}", no_deps=True)


@pytest.mark.timeout(600)
def test_a_cluster_of_another_distributed_is_named_on_the_card_and_in_the_snippet(
        server, control_plane, older_image):
    resp = server.post("clusters", {"name": "older", "workers": 1, "image": older_image, **SMALL})
    assert resp.status_code == 202, resp.text
    try:
        card = server.wait_for_cluster(
            "older", lambda c: c["phase"] == "Running" and c["version_skew"], 240,
            "Running with its version skew named")
        here = version("distributed")
        skew = {s["package"]: (s["cluster"], s["notebook"]) for s in card["version_skew"]}
        # What the real scheduler said it runs, against this server's own environment.
        assert skew["distributed"] == (OLDER, here) and skew["dask"] == (OLDER, version("dask")), skew
        assert set(skew) == {"dask", "distributed"}, skew
        snippet = server.get("clusters/older/snippet", kind="client")
        assert snippet.status_code == 200, snippet.text
        code = snippet.json()["code"]
        warning = " ".join(line.lstrip("# ") for line in code.splitlines() if line.startswith("#"))
        assert f"distributed {OLDER} (notebook: {here})" in warning, code
        assert "deserialization errors" in warning, code
        # A cluster of the notebook's own versions says nothing (the same server, same node;
        # the node's 2 CPUs hold one such cluster at a time).
        assert server.delete("clusters/older").status_code == 202
        wait_cluster_pods_gone(control_plane, NAMESPACE, 120, "dask.org/cluster-name=older")
        resp = server.post("clusters", {"name": "same", "workers": 1, **SMALL})
        assert resp.status_code == 202, resp.text
        same = server.wait_for_cluster("same", lambda c: c["phase"] == "Running", 240, "Running")
        assert same["version_skew"] == [], same["version_skew"]
        assert "WARNING" not in server.get("clusters/same/snippet", kind="client").json()["code"]
    finally:
        server.delete("clusters/older")
        server.delete("clusters/same")
        wait_cluster_pods_gone(control_plane, NAMESPACE)
