"""Clusters that cannot run, on the real node: the card says why in plain words."""

from __future__ import annotations


import pytest

from . import node_net as net
from .node_server import server_fixture, wait_cluster_pods_gone

pytestmark = pytest.mark.controlplane

NAMESPACE = "real-faults"
SMALL = {"cpu": "300m", "memory": "768Mi"}


server = server_fixture(NAMESPACE)


@pytest.fixture
def cleanup(server, control_plane):
    made = []
    yield made
    for name in made:
        server.delete(f"clusters/{name}")
    wait_cluster_pods_gone(control_plane, NAMESPACE)


def test_an_image_that_is_not_on_the_node_fails_with_the_pull_reason(server, cleanup):
    image = "rapids-kf.test/no-such-image:1"
    resp = server.post("clusters", {"name": "noimage", "workers": 1, "image": image, **SMALL})
    assert resp.status_code == 202, resp.text
    cleanup.append("noimage")
    failed = server.wait_for_cluster("noimage", lambda c: c["phase"] == "Failed", 120, "Failed")
    text = " ".join(failed["reasons"])
    assert image in text and ("ErrImagePull" in text or "ImagePullBackOff" in text), failed["reasons"]
    # The pull was refused on loopback (containerd's closed proxy): nothing left the machine.
    assert all(n == 0 for n in net.dropped_packets().values()), net.dropped_packets()


def test_a_worker_command_that_exits_is_a_crash_loop_on_the_card(server, cleanup):
    # A typo a user makes: `dask worker` prints click's error and exits 2 at every start.
    resp = server.post("clusters", {"name": "crash", "workers": 1,
                                    "worker_command": "dask worker --nthreads two", **SMALL})
    assert resp.status_code == 202, resp.text
    cleanup.append("crash")
    failed = server.wait_for_cluster(
        "crash", lambda c: c["phase"] == "Failed" and any("not a valid integer" in r for r in c["reasons"]),
        180, "Failed with the worker's last log line")
    [reason] = [r for r in failed["reasons"] if "keeps crashing" in r]
    # The last line the crashed container printed, read from the kubelet (previous=true).
    assert reason.startswith("worker pod crash-default-worker-"), reason
    assert "keeps crashing (CrashLoopBackOff, exit code 2): Error: Invalid value for '--nthreads': " \
           "'two' is not a valid integer." in reason, reason
    assert "Check the worker command (dask worker --nthreads two)" in reason, reason
    assert failed["scheduler"]["ready"] is True  # only the workers crash
