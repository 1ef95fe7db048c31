"""Which notebook a new cluster ends with: the owner chain pod -> StatefulSet -> Notebook."""

from __future__ import annotations

import pytest

from jupyter_rapids_kf.backends.kubernetes import notebook_owner
from jupyter_rapids_kf.backends.kubernetes.spec import build_daskcluster
from jupyter_rapids_kf.backends.kubernetes.status import Objects, Timeouts, cluster_status
from jupyter_rapids_kf.errors import Forbidden, NotFound
from jupyter_rapids_kf.models.cluster import ClusterSpec

NS = "kubeflow-user-example-com"


def ref(api_version: str, kind: str, name: str, uid: str) -> dict:
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": True}


POD = {"metadata": {"name": "nb-0", "ownerReferences": [ref("apps/v1", "StatefulSet", "nb", "sts-uid")]}}
STS = {"metadata": {"name": "nb", "uid": "sts-uid",
                    "ownerReferences": [ref("kubeflow.org/v1", "Notebook", "nb", "nb-uid")]}}
NOTEBOOK = {"apiVersion": "kubeflow.org/v1", "kind": "Notebook", "metadata": {"name": "nb", "uid": "nb-uid"}}


class FakeKube:
    """Answers GETs from a dict of (plural, name) -> object or exception."""

    def __init__(self, objects: dict):
        self.objects = objects
        self.asked: list[tuple[str, str]] = []

    async def request(self, method, resource, name=None, **_):
        self.asked.append((resource.plural, name))
        found = self.objects.get((resource.plural, name))
        if isinstance(found, Exception):
            raise found
        if found is None:
            raise NotFound(f"no {resource.kind} named {name!r}")
        return found


async def test_the_chain_leads_to_the_kubeflow_notebook():
    kube = FakeKube({("pods", "nb-0"): POD, ("statefulsets", "nb"): STS})
    tie = await notebook_owner.find(kube, NS, "nb-0", "")
    assert tie.owner == notebook_owner.Owner("kubeflow.org/v1", "Notebook", "nb", "nb-uid")
    assert "Notebook nb" in tie.reason and not tie.forbidden
    # Exactly what the garbage collector needs, nothing that would need more rights.
    assert tie.owner.reference() == {"apiVersion": "kubeflow.org/v1", "kind": "Notebook",
                                     "name": "nb", "uid": "nb-uid"}


async def test_nb_prefix_names_the_notebook_when_statefulsets_may_not_be_read():
    kube = FakeKube({("pods", "nb-0"): POD, ("statefulsets", "nb"): Forbidden("no"),
                     ("notebooks", "nb"): NOTEBOOK})
    tie = await notebook_owner.find(kube, NS, "nb-0", f"/notebook/{NS}/nb")
    assert tie.owner is not None and tie.owner.kind == "Notebook" and tie.owner.uid == "nb-uid"


async def test_a_statefulset_without_notebook_is_the_owner():
    sts = {"metadata": {"name": "nb", "uid": "sts-uid"}}
    tie = await notebook_owner.find(FakeKube({("pods", "nb-0"): POD, ("statefulsets", "nb"): sts}), NS, "nb-0", "")
    assert tie.owner == notebook_owner.Owner("apps/v1", "StatefulSet", "nb", "sts-uid")


async def test_a_replaced_statefulset_is_not_trusted():
    """An ownerReference with a stale uid would have the garbage collector delete the cluster."""
    sts = {**STS, "metadata": {**STS["metadata"], "uid": "another"}}
    tie = await notebook_owner.find(FakeKube({("pods", "nb-0"): POD, ("statefulsets", "nb"): sts}), NS, "nb-0", "")
    assert tie.owner is None and "replaced" in tie.reason


@pytest.mark.parametrize("objects,pod,prefix,words,forbidden", [
    ({}, "", "", "HOSTNAME", False),
    ({("pods", "nb-0"): {"metadata": {"name": "nb-0"}}}, "nb-0", "", "not part of a StatefulSet", False),
    ({("pods", "nb-0"): Forbidden("not allowed to get pods")}, "nb-0", "", "not readable", True),
    ({}, "nb-0", "/notebook/other-ns/nb", "no pod nb-0", False),
])
async def test_nothing_to_end_with_says_why(objects, pod, prefix, words, forbidden):
    tie = await notebook_owner.find(FakeKube(objects), NS, pod, prefix)
    assert tie.owner is None and words in tie.reason and tie.forbidden is forbidden


def spec(**kw) -> ClusterSpec:
    values = dict(name="etl", workers=1, gpus_per_worker=1, image=None, worker_command="dask-cuda-worker",
                  cpu="1", memory="4Gi", idle_timeout=0, env={})
    return ClusterSpec(**{**values, **kw})


def test_the_owner_goes_into_the_daskcluster_and_the_card_reads_it_back():
    owner = notebook_owner.Owner("kubeflow.org/v1", "Notebook", "nb", "nb-uid")
    body = build_daskcluster(spec(), image="img", scheduler_cpu="1", scheduler_memory="1Gi", owner=owner)
    assert body["metadata"]["ownerReferences"] == [owner.reference()]
    body["metadata"].update(name="etl", creationTimestamp="2026-12-04T00:00:00Z")
    cluster = cluster_status(Objects(cluster=body), NS, Timeouts())
    assert cluster.to_json()["ends_with"] == {"kind": "Notebook", "name": "nb"}

    untied = build_daskcluster(spec(), image="img", scheduler_cpu="1", scheduler_memory="1Gi")
    assert "ownerReferences" not in untied["metadata"]
    untied["metadata"].update(name="etl")
    assert cluster_status(Objects(cluster=untied), NS, Timeouts()).ends_with is None
