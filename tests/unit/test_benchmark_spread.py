"""Every benchmark prints a headline ratio only when its bootstrap interval excludes 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from spread import compare, headline, quantile, spread  # noqa: E402


def test_spread_is_min_median_max():
    assert spread([3.0, 1.0, 2.0]) == {"min": 1.0, "median": 2.0, "max": 3.0}
    with pytest.raises(ValueError):
        spread([])


def test_a_clear_effect_gets_a_ratio_with_its_interval():
    ratio, text = headline([10.0, 10.5, 11.0], [1.0, 1.05, 1.1])
    assert ratio == pytest.approx(10.5 / 1.05)
    assert text.startswith("10.0x (95% interval ")
    result = compare([10.0, 10.5, 11.0], [1.0, 1.05, 1.1])
    assert 1 < result["low"] <= ratio <= result["high"]


def test_runs_whose_ranges_are_apart_get_a_headline_even_when_the_ranges_are_wide():
    # The 2026-12-07 shape: 5 runs each, 0.43-0.57 s against 0.70-1.08 s. Every run of one side
    # beat every run of the other; the earlier rule (ranges' widths 0.52 s > 0.28 s between the
    # medians) refused it.
    ratio, text = headline([0.70, 0.76, 0.80, 0.95, 1.08], [0.43, 0.50, 0.52, 0.55, 0.57])
    assert ratio == pytest.approx(0.80 / 0.52)
    assert "no headline" not in text


def test_overlapping_runs_get_no_headline_even_when_the_medians_differ():
    # api_latency run 3 (5 runs a side): medians 1.409 s vs 0.829 s (1.7x), ranges overlapping.
    run3 = json.loads((ROOT / "docs/results/api_latency_run3.json").read_text())["metrics"]
    ratio, text = headline(run3["dask-labextension"]["usable_runs_s"], run3["jupyter-rapids-kf"]["usable_runs_s"])
    assert ratio is None and text.startswith("no headline: 1.70x but its 95% interval")
    # Two engines within noise of each other.
    ratio, text = headline([1.0, 1.3, 2.0], [1.1, 1.2, 1.6])
    assert ratio is None and "includes 1" in text


def test_the_same_runs_on_both_sides_never_make_a_headline():
    runs = [0.5, 0.9, 0.6, 1.4, 0.7, 0.8, 1.1]
    assert headline(runs, list(reversed(runs)))[0] is None


def test_with_three_runs_a_side_the_ranges_must_be_apart():
    assert headline([2.0, 2.1, 2.2], [1.0, 1.1, 1.2])[0] is not None
    # One run of the slow side as fast as the fast side's slowest: no headline.
    assert headline([1.2, 2.1, 2.2], [1.0, 1.1, 1.2])[0] is None


def test_more_runs_of_the_same_effect_do_not_lose_the_headline():
    # The earlier rule used the ranges' widths, which only grow with more runs.
    few_slow, few_fast = [1.9, 2.0, 2.1, 2.2, 2.4], [1.0, 1.1, 1.2, 1.3, 1.5]
    assert headline(few_slow, few_fast)[0] is not None
    many_slow = few_slow * 4 + [1.45, 3.6]  # two stragglers widen the ranges past the effect
    many_fast = few_fast * 4 + [0.6, 2.2]
    width = (max(many_slow) - min(many_slow)) + (max(many_fast) - min(many_fast))
    assert width > 2.1 - 1.2  # the earlier rule would refuse this
    assert headline(many_slow, many_fast)[0] is not None


def test_slower_is_a_headline_too_when_the_whole_interval_is_below_1():
    ratio, text = headline([0.74, 0.75, 0.76, 0.80, 0.90], [1.8, 1.9, 2.0, 2.6, 2.9])
    assert ratio is not None and ratio < 1
    assert compare([0.74, 0.75, 0.76, 0.80, 0.90], [1.8, 1.9, 2.0, 2.6, 2.9])["high"] < 1


def test_too_few_runs_get_no_headline():
    ratio, text = headline([10.0, 11.0], [1.0, 1.1, 1.2])
    assert ratio is None and "fewer than 3" in text


def test_a_percentile_compares_that_percentile():
    slow = [1.0] * 80 + [9.0] * 20  # p95 9.0, median 1.0
    fast = [1.0] * 100
    assert quantile(slow, 0.95) == 9.0
    assert headline(slow, fast)[0] is None  # same medians
    result = compare(slow, fast, q=0.95, unit="ms", what="samples")
    assert result["statistic"] == "p95" and result["ratio"] == pytest.approx(9.0)
    assert result["headline"] and "p95 9.000 ms vs 1.000 ms, 100 and 100 samples" in result["reads"]


def test_a_re_evaluation_prints_the_same_interval():
    a, b = [1.3, 1.5, 1.2, 1.9, 1.4], [1.0, 1.25, 0.9, 1.1, 1.6]
    assert compare(a, b) == compare(a, b)


def re_evaluate(script: str, *files: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--from-json",
                           *(str(ROOT / "docs/results" / f) for f in files)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_every_benchmark_prints_its_ratios_through_the_rule():
    """Each script's --from-json re-evaluates a kept file: a ratio where the rule lets one
    through, "no headline" with the interval where it does not (the figures of the kept files)."""
    api = re_evaluate("api_latency.py", "api_latency_run3.json", "api_latency_run4.json")
    assert "usable_2_workers_s" in api and "no headline: 1.70x but its 95% interval" in api  # run 3
    assert "3.00x (95% interval" in api  # run 4, 10 runs a side, ranges overlapping a little
    assert "create_request_s" in api and "no headline: 1 and 1 runs" in api  # one median kept
    gpu = re_evaluate("gpu_etl.py", "gpu_etl_run1.json")
    assert "800M dask-cpu / dask-cudf: 9.26x (95% interval" in gpu
    assert "800M cudf / dask-cudf: no headline: 1.00x" in gpu and "n.h." in gpu
    burst = re_evaluate("list_burst.py", "list_burst.json")
    assert "burst answered, median, list / floor: 0.95x (95% interval" in burst
    listing = re_evaluate("list_latency.py", "list_latency.json")
    assert "no headline: one p95 a side" in listing and "emulator" in listing
    start = re_evaluate("k8s_start.py", "k8s_start_2026-12-04.json")
    assert "KubeCluster / ours (spread.py rule): no headline: 0.99x" in start
