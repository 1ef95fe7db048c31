"""Rules of tying clusters to their notebook and of lifetimes, in the service (no backend I/O)."""

from __future__ import annotations

import pytest

from jupyter_rapids_kf.backends.base import BackendFacts
from jupyter_rapids_kf.backends.kubernetes import lifetime
from jupyter_rapids_kf.backends.kubernetes.notebook_owner import Owner
from jupyter_rapids_kf.errors import Invalid, Limit

from .test_service import RecordingBackend, make_service, run

NOTEBOOK = {"kind": "Notebook", "name": "nb"}


def kube(ends_with=NOTEBOOK) -> RecordingBackend:
    return RecordingBackend(BackendFacts(namespace="team-a", default_image="img", ends_with=ends_with, can_tie=True))


def local() -> RecordingBackend:
    backend = RecordingBackend(BackendFacts(namespace="local", accepts_image=False))
    backend.name = "local"
    return backend


def test_new_clusters_end_with_the_notebook_unless_untied():
    service, backend = make_service(kube())
    env = run(service.environment())
    assert env["ends_with"] == NOTEBOOK and env["defaults"]["tie_to_notebook"] is True
    run(service.create({"name": "a"}))
    run(service.create({"name": "b", "tie_to_notebook": False}))
    assert [s.tie_to_notebook for s in backend.created] == [True, False]


def test_the_admin_can_turn_tying_off():
    service, backend = make_service(kube(), tie_to_notebook=False)
    assert run(service.environment())["defaults"]["tie_to_notebook"] is False
    run(service.create({"name": "a"}))
    assert backend.created[0].tie_to_notebook is False


@pytest.mark.parametrize("backend,body,words", [
    (local, {"tie_to_notebook": True}, "only to Kubernetes"),
    (lambda: kube(None), {"tie_to_notebook": True}, "no notebook was found"),
    (local, {"lifetime": 60}, "only to Kubernetes"),
    (kube, {"tie_to_notebook": "yes"}, "true or false"),
])
def test_what_cannot_be_done_is_refused_with_the_field(backend, body, words):
    service, made = make_service(backend())
    with pytest.raises(Invalid, match=words) as info:
        run(service.create(body))
    assert info.value.field == next(iter(body)) and made.created == []


def test_lifetime_defaults_and_guardrail():
    service, backend = make_service(kube(), lifetime=7200, max_lifetime=86400)
    env = run(service.environment())
    assert env["defaults"]["lifetime"] == 7200 and env["limits"]["max_lifetime"] == 86400
    run(service.create({"name": "a"}))
    assert backend.created[0].lifetime == 7200
    for asked in (0, 86401):
        with pytest.raises(Limit, match="c.RapidsKF.max_lifetime|between 1 and 86400"):
            run(service.create({"name": "b", "lifetime": asked}))
    # The local backend has no lifetime: its defaults and limits say 0, so creating works.
    service, backend = make_service(local(), lifetime=7200, max_lifetime=86400)
    env = run(service.environment())
    assert env["defaults"]["lifetime"] == 0 and env["limits"]["max_lifetime"] == 0
    run(service.create({"name": "c", "gpus_per_worker": 0}))


def test_the_lifetime_job_is_a_timer_owned_by_the_notebook():
    owner = Owner("kubeflow.org/v1", "Notebook", "nb", "nb-uid")
    job = lifetime.job_body("etl", 3600, "img", owner)
    assert job["spec"]["parallelism"] == 0  # never a pod
    assert job["spec"]["activeDeadlineSeconds"] == 3600 and job["spec"]["ttlSecondsAfterFinished"] == 0
    assert job["metadata"]["ownerReferences"] == [owner.reference()]
    body = {"metadata": {"name": "etl", "ownerReferences": [owner.reference()]}}
    lifetime.mark(body, 3600, {"metadata": {"name": "etl-lifetime", "uid": "job-uid"}}, owner)
    # One owner only: the collector deletes an object when *all* its owners are gone.
    assert body["metadata"]["ownerReferences"] == [
        {"apiVersion": "batch/v1", "kind": "Job", "name": "etl-lifetime", "uid": "job-uid"}]
    assert body["metadata"]["annotations"] == {lifetime.LIFETIME_ANNOTATION: "3600",
                                               lifetime.ENDS_WITH_ANNOTATION: "Notebook/nb"}
