"""The scaling efficiency of benchmarks/gpu_etl.py (benchmarks/scaling.py): time at the base count /
(N / base x time at N), printed only where the spread rule lets the speed-up through."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from scaling import efficiencies, protocol_ratios, scaling_table, target  # noqa: E402


def run(gpus: int, protocol: str, seconds: list[float], rows: int = 3_200_000_000) -> dict:
    return {"engine": "dask-cudf", "rows": rows, "gpus": gpus, "protocol": protocol, "times_s": seconds,
            "etl_s": sorted(seconds)[1], "layout": f"{gpus}gpu-{protocol}"}


RESULTS = [
    run(1, "tcp", [8.0, 8.1, 8.2]), run(2, "tcp", [5.0, 5.1, 5.2]), run(4, "tcp", [4.0, 4.1, 4.2]),
    run(1, "ucx", [8.0, 8.1, 8.2]), run(2, "ucx", [4.2, 4.25, 4.3]), run(4, "ucx", [2.3, 2.35, 2.4]),
    {"engine": "dask-cpu", "rows": 3_200_000_000, "layout": "16x1", "times_s": [30.0, 31.0, 32.0],
     "etl_s": 31.0},
]


def at(rows: list[dict], gpus: int, protocol: str) -> dict:
    return next(r for r in rows if r["gpus"] == gpus and r["protocol"] == protocol)


def test_efficiency_is_the_base_time_over_n_times_the_time_at_n():
    rows = efficiencies(RESULTS)
    assert len(rows) == 6  # the CPU layout is no part of the scaling leg
    assert at(rows, 1, "tcp")["efficiency"] == 1.0 and at(rows, 1, "tcp")["headline"] is None
    assert at(rows, 4, "tcp")["efficiency"] == pytest.approx(8.1 / (4 * 4.1))  # 0.49
    four = at(rows, 4, "ucx")
    assert four["efficiency"] == pytest.approx(8.1 / (4 * 2.35))  # 0.86
    assert four["headline"] and four["low"] <= four["efficiency"] <= four["high"]


def test_without_a_one_gpu_run_the_smallest_count_that_ran_is_the_base():
    rows = efficiencies([run(2, "tcp", [6.0, 6.1, 6.2]), run(4, "tcp", [3.2, 3.3, 3.4])])
    four = at(rows, 4, "tcp")
    assert four["base_gpus"] == 2 and four["efficiency"] == pytest.approx(6.1 / (2 * 3.3))


def test_overlapping_runs_get_no_efficiency_and_the_table_says_so():
    rows = efficiencies([run(1, "tcp", [4.0, 8.0, 12.0]), run(2, "tcp", [3.0, 7.0, 11.0])])
    assert at(rows, 2, "tcp")["headline"] is False
    assert "n.h." in scaling_table([run(1, "tcp", [4.0, 8.0, 12.0]), run(2, "tcp", [3.0, 7.0, 11.0])])


def test_the_table_prints_every_count_protocol_and_the_tcp_over_ucx_ratio():
    table = scaling_table(RESULTS)
    lines = table.splitlines()
    assert "efficiency" in lines[0]
    assert any("3.2G" in line and "ucx" in line and " 4 " in line and "0.86 (" in line for line in lines)
    assert any("1 (base)" in line for line in lines)
    [ratio] = [r for r in protocol_ratios(RESULTS) if r["gpus"] == 4]
    assert ratio["headline"] and ratio["ratio"] == pytest.approx(4.1 / 2.35)
    assert "tcp / ucx = 1.74x" in table
    assert scaling_table([]).startswith("no scaling runs")


def test_the_target_reads_the_better_protocol_at_four_gpus_at_the_largest_size():
    text = target(RESULTS)
    assert "ucx" in text and ("MET" in text)
    assert "NOT MET" in target([r for r in RESULTS if r.get("protocol") != "ucx"])
    assert "no run at 4" in target(RESULTS[:2])


def test_gpu_etl_reads_the_scaling_leg_back_from_a_kept_file(tmp_path):
    import json
    import subprocess

    kept = tmp_path / "run.json"
    kept.write_text(json.dumps({"sizes": [3_200_000_000], "repeat": 3, "machine": {"gpus": ["H100"] * 4},
                                "results": RESULTS}))
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_etl.py"), "--from-json", str(kept)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "efficiency" in done.stdout and "tcp / ucx" in done.stdout
    assert "target: efficiency >= 0.8 at 4 GPUs" in done.stdout
