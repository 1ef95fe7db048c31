"""Request parsing and the phase rules of api.md."""

from __future__ import annotations

import pytest

from jupyter_rapids_kf.errors import Invalid
from jupyter_rapids_kf.models import (
    Adapt,
    check_name,
    derive_phase,
    parse_cluster_request,
    parse_scale_request,
)


@pytest.mark.parametrize("name", ["gpu-etl", "a", "a1", "x" * 53, "1abc", "a-b-c"])
def test_valid_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "A", "a_b", "-a", "a-", "a.b", "x" * 54, "é", "a b"])
def test_invalid_names_name_the_field(name):
    with pytest.raises(Invalid) as info:
        check_name(name)
    assert info.value.field == "name"


def test_request_keeps_only_given_fields_and_checks_types():
    request = parse_cluster_request({"name": "etl", "workers": 3, "cpu": "500m", "memory": "16Gi", "image": None})
    assert request.given() == {"name": "etl", "workers": 3, "cpu": "500m", "memory": "16Gi"}
    assert parse_cluster_request(None).given() == {}
    with pytest.raises(Invalid, match="unknown field 'gpus'"):
        parse_cluster_request({"gpus": 1})
    with pytest.raises(Invalid, match="must be an integer"):
        parse_cluster_request({"idle_timeout": "1h"})


@pytest.mark.parametrize("quantity", ["4", "0.5", ".5", "500m", "16Gi", "1.5G", "100Mi"])
def test_kubernetes_quantities_are_accepted(quantity):
    assert parse_cluster_request({"cpu": quantity, "memory": quantity}).cpu == quantity


@pytest.mark.parametrize("quantity", ["", "4 cores", "16GB", "-1", "1e3", "Gi"])
def test_other_quantities_are_refused(quantity):
    with pytest.raises(Invalid) as info:
        parse_cluster_request({"memory": quantity})
    assert info.value.field == "memory"


def test_scale_requests():
    assert parse_scale_request({"workers": 4}) == ("workers", 4)
    assert parse_scale_request({"adapt": None}) == ("adapt", None)
    assert parse_scale_request({"adapt": {"minimum": 1, "maximum": 5}}) == ("adapt", Adapt(1, 5))
    for body in ({}, {"workers": 1, "adapt": None}, {"adapt": {"minimum": 1, "maximum": 2, "step": 1}}, []):
        with pytest.raises(Invalid):
            parse_scale_request(body)


@pytest.mark.parametrize(
    "state,phase",
    [
        (dict(deleting=True, failed=True, scheduler_ready=True, desired=2, ready=2), "Deleting"),
        (dict(failed=True, scheduler_ready=True, desired=2, ready=2), "Failed"),
        (dict(started=False), "Creating"),
        (dict(scheduler_ready=False, desired=2, ready=2), "Pending"),
        (dict(scheduler_ready=True, desired=2, ready=1), "Scaling"),
        (dict(scheduler_ready=True, desired=2, ready=3), "Scaling"),
        (dict(scheduler_ready=True, desired=2, ready=2), "Running"),
        (dict(scheduler_ready=True, desired=0, ready=0), "Running"),
    ],
)
def test_phase_rules(state, phase):
    assert derive_phase(**state) == phase
