"""The spread of repeated timings, and a headline ratio only where the spread allows one.

A ratio of two medians says nothing when the runs of either side scatter over more than the
difference between them: then the benchmark says so instead of printing a number.
"""

from __future__ import annotations

import statistics
from typing import Sequence


def spread(times: Sequence[float]) -> dict[str, float]:
    """min, median and max of one engine's timed runs (warm-up excluded)."""
    if not times:
        raise ValueError("no timed runs")
    return {"min": min(times), "median": statistics.median(times), "max": max(times)}


def headline(slow: Sequence[float], fast: Sequence[float]) -> tuple[float | None, str]:
    """(median ratio slow/fast, how it reads), or (None, why not) when the spread is larger.

    The effect is the difference of the medians; the spread is the width of both ranges
    together. A ratio is printed only when the effect is larger than that spread.
    """
    a, b = spread(slow), spread(fast)
    effect = abs(a["median"] - b["median"])
    width = (a["max"] - a["min"]) + (b["max"] - b["min"])
    if effect <= width:
        return None, (f"no headline: the runs spread over {width:.3f} s, more than the "
                      f"{effect:.3f} s between the medians")
    ratio = a["median"] / b["median"]
    return ratio, (f"{ratio:.1f}x (medians {a['median']:.3f} s / {b['median']:.3f} s; "
                   f"spread {width:.3f} s < effect {effect:.3f} s)")
