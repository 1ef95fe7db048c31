"""The GPU benchmark prints a headline ratio only when the runs' spread allows one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from spread import headline, spread  # noqa: E402


def test_spread_is_min_median_max():
    assert spread([3.0, 1.0, 2.0]) == {"min": 1.0, "median": 2.0, "max": 3.0}
    with pytest.raises(ValueError):
        spread([])


def test_a_clear_effect_gets_a_ratio():
    ratio, text = headline([10.0, 10.5, 11.0], [1.0, 1.05, 1.1])
    assert ratio == pytest.approx(10.5 / 1.05)
    assert text.startswith("10.0x")


def test_a_spread_larger_than_the_effect_gets_no_ratio():
    # CPU runs from 8.3 s to 12.6 s, GPU 1.0 to 1.2 s: effect 9.4 s > spread 4.5 s -> ratio.
    assert headline([8.3, 9.4, 12.6], [1.0, 1.0, 1.2])[0] is not None
    # Two engines within noise of each other: no headline.
    ratio, text = headline([1.0, 1.3, 2.0], [1.1, 1.2, 1.6])
    assert ratio is None and "no headline" in text
