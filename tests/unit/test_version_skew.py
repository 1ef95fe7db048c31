"""What counts as a version skew between a cluster's scheduler and this notebook."""

from __future__ import annotations

from jupyter_rapids_kf.models.versions import compare, describe, notebook_versions

HERE = {"python": "3.12", "distributed": "2026.8.0", "dask": "2026.8.0", "msgpack": "1.1.0", "cloudpickle": "3.1.1"}


def answer(python="3.12.3.final.0", **packages) -> dict:
    """A scheduler's versions() answer, shaped as distributed.versions.get_versions()."""
    base = {"distributed": "2026.8.0", "dask": "2026.8.0", "msgpack": "1.1.0", "cloudpickle": "3.1.1",
            "tornado": "6.5", "numpy": None}
    return {"host": {"python": python, "OS": "Linux"}, "packages": {**base, **packages}}


def test_the_same_versions_are_no_skew():
    assert compare(answer(), HERE) == []


def test_each_differing_package_is_named_with_both_versions():
    skew = compare(answer(python="3.11.9.final.0", distributed="2025.1.0", msgpack="1.0.8", tornado="6.1"), HERE)
    assert [(s.package, s.cluster, s.notebook) for s in skew] == [
        ("python", "3.11", "3.12"), ("distributed", "2025.1.0", "2026.8.0"), ("msgpack", "1.0.8", "1.1.0")]


def test_a_package_the_cluster_lacks_is_not_called_skew():
    assert compare(answer(cloudpickle=None), HERE) == []


def test_the_sentence_names_the_fix():
    text = describe(compare(answer(distributed="2025.1.0"), HERE), "rapidsai/notebooks:26.10")
    assert "distributed 2025.1.0 (notebook: 2026.8.0)" in text
    assert "this notebook's image (rapidsai/notebooks:26.10)" in text


def test_this_server_knows_its_own_versions():
    import distributed

    assert notebook_versions()["distributed"] == distributed.__version__
