"""Request parsing and the phase rules of api.md."""

from __future__ import annotations

import pytest

from jupyter_rapids_kf.errors import Invalid
from jupyter_rapids_kf.models.cluster import (
    Adapt,
    check_name,
    decode_body,
    derive_phase,
    parse_cluster_request,
    parse_scale_request,
)


@pytest.mark.parametrize("name", ["gpu-etl", "a", "a1", "x" * 53, "1abc", "a-b-c"])
def test_valid_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "A", "a_b", "-a", "a-", "a.b", "x" * 54, "é", "a b", "abc\n"])
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


@pytest.mark.parametrize("cpu", ["4", "0.5", ".5", "500m", "1m", "1024", "1k"])
def test_cpu_quantities_are_accepted(cpu):
    assert parse_cluster_request({"cpu": cpu}).cpu == cpu


@pytest.mark.parametrize("memory", ["16Gi", "1.5G", "100Mi", "64Mi", "64Ti", "0.5Gi", "67108864"])
def test_memory_quantities_are_accepted(memory):
    assert parse_cluster_request({"memory": memory}).memory == memory


@pytest.mark.parametrize(
    "field,quantity",
    [
        ("memory", ""), ("memory", "4 cores"), ("memory", "16GB"), ("memory", "-1"), ("memory", "1e3"),
        ("memory", "Gi"), ("memory", "16Gi\n"),
        # well-formed, but no worker can have it: too small, too large, too long to be a number
        ("memory", "500m"), ("memory", "1"), ("memory", "63Mi"), ("memory", "65Ti"), ("memory", "1Ei"),
        ("memory", "9" * 400), ("cpu", "0.0001"), ("cpu", "0"), ("cpu", "1025"), ("cpu", "2k"),
        ("cpu", "1" + "0" * 30 + "m"),
    ],
)
def test_other_quantities_are_refused_with_the_field(field, quantity):
    with pytest.raises(Invalid) as info:
        parse_cluster_request({field: quantity})
    assert info.value.field == field


@pytest.mark.parametrize(
    "body,field",
    [
        ({"workers": 10**400}, "workers"),
        ({"workers": 10_001}, "workers"),
        ({"gpus_per_worker": 65}, "gpus_per_worker"),
        ({"idle_timeout": 10**400}, "idle_timeout"),
        ({"idle_timeout": 366 * 24 * 3600 + 1}, "idle_timeout"),
        ({"workers": 1.5}, "workers"),  # 1.0 is an integer (JSON Schema): see the next test
        ({"workers": 1e400}, "workers"),  # inf
        ({"workers": 1e20}, "workers"),  # integral, but past the bound
        ({"env": {"A": "x\x00y"}}, "env"),
        ({"env": {"A": "\ud800"}}, "env"),
        ({"image": "img\x00"}, "image"),
    ],
)
def test_numbers_and_text_that_cannot_be_used_are_refused_with_the_field(body, field):
    with pytest.raises(Invalid) as info:
        parse_cluster_request(body)
    assert info.value.field == field


def test_integral_floats_are_integers_as_json_schema_counts_them():
    request = parse_cluster_request({"workers": 2.0, "gpus_per_worker": 1.0, "idle_timeout": 60.0})
    assert (request.workers, request.gpus_per_worker, request.idle_timeout) == (2, 1, 60)
    assert all(type(v) is int for v in (request.workers, request.gpus_per_worker, request.idle_timeout))


def test_the_largest_usable_numbers_are_accepted():
    request = parse_cluster_request({"workers": 10_000, "gpus_per_worker": 64, "idle_timeout": 366 * 24 * 3600})
    assert (request.workers, request.gpus_per_worker, request.idle_timeout) == (10_000, 64, 31_622_400)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 20_000 + b"]" * 20_000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b"1" * 5000,  # more digits than int() takes
    ],
)
def test_bodies_nested_too_deeply_or_too_long_a_number_are_invalid(body):
    with pytest.raises(Invalid, match="not valid JSON"):
        decode_body(body)


def test_scale_requests():
    assert parse_scale_request({"workers": 4}) == ("workers", 4)
    assert parse_scale_request({"adapt": None}) == ("adapt", None)
    assert parse_scale_request({"adapt": {"minimum": 1, "maximum": 5}}) == ("adapt", Adapt(1, 5))
    for body in ({}, {"workers": 1, "adapt": None}, {"adapt": {"minimum": 1, "maximum": 2, "step": 1}}, []):
        with pytest.raises(Invalid):
            parse_scale_request(body)
    for body, field in [
        ({"workers": 10**400}, "workers"),
        ({"workers": -1}, "workers"),
        ({"adapt": {"minimum": 0, "maximum": 10**400}}, "adapt.maximum"),
        ({"adapt": {"minimum": -1, "maximum": 2}}, "adapt.minimum"),
    ]:
        with pytest.raises(Invalid) as info:
            parse_scale_request(body)
        assert info.value.field == field


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
