"""Which GPU nodes hold an image (node.status.images), and the preference workers get."""

from __future__ import annotations

import pytest

from jupyter_rapids_kf.backends.kubernetes.image_nodes import normalize, prefer, where


@pytest.mark.parametrize("given,kubelet", [
    ("rapidsai/base:26.10-cuda13-py3.12", "docker.io/rapidsai/base:26.10-cuda13-py3.12"),
    ("ubuntu", "docker.io/library/ubuntu:latest"),
    ("nvcr.io/nvidia/rapidsai/base:26.10", "nvcr.io/nvidia/rapidsai/base:26.10"),
    ("localhost:5000/me/img", "localhost:5000/me/img:latest"),
    ("rapidsai/base@sha256:abc", "docker.io/rapidsai/base@sha256:abc"),
])
def test_names_are_compared_as_the_kubelet_spells_them(given, kubelet):
    assert normalize(given) == kubelet == normalize(kubelet)


def node(name: str, gpus: int, images: list[list[str]], unschedulable: bool = False) -> dict:
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": f"host-{name}"}},
            "spec": {"unschedulable": unschedulable},
            "status": {"allocatable": {"nvidia.com/gpu": str(gpus)},
                       "images": [{"names": n, "sizeBytes": 7_000_000_000} for n in images]}}


def test_only_schedulable_gpu_nodes_that_hold_the_image_are_named():
    image = "rapidsai/base:26.10"
    nodes = [
        node("gpu-a", 2, [["docker.io/rapidsai/base@sha256:1", "docker.io/rapidsai/base:26.10"]]),
        node("gpu-b", 2, [["docker.io/rapidsai/base:26.08"]]),
        node("cpu-a", 0, [["docker.io/rapidsai/base:26.10"]]),
        node("gpu-c", 2, [["docker.io/rapidsai/base:26.10"]], unschedulable=True),
    ]
    found = where(image, nodes)
    assert (found.nodes, found.hostnames, found.gpu_nodes) == (["gpu-a"], ["host-gpu-a"], 2)
    assert found.message == f"{image} is already on 1 of 2 GPU node(s): gpu-a; new workers prefer them"
    assert "none of the 2 GPU node(s)" in where("other:1", nodes).message


def test_workers_prefer_those_nodes_and_are_never_bound_to_them():
    spec: dict = {"containers": []}
    prefer(spec, ["host-gpu-a"])
    affinity = spec["affinity"]["nodeAffinity"]
    assert "requiredDuringSchedulingIgnoredDuringExecution" not in affinity
    assert affinity["preferredDuringSchedulingIgnoredDuringExecution"] == [{
        "weight": 100, "preference": {"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["host-gpu-a"]}]}}]
    untouched: dict = {"containers": []}
    prefer(untouched, [])
    assert "affinity" not in untouched
