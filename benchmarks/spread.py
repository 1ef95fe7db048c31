"""The spread of repeated timings, and a headline ratio only where the runs allow one.

One rule for every benchmark in this directory (api_latency, list_latency, list_burst,
gpu_etl, k8s_start): a ratio of two sides' statistics (median, or a percentile such as p95)
is a headline only when its bootstrap confidence interval excludes 1. Each side's runs are
resampled with replacement (independently, `resamples` times, with a fixed seed so that a
re-evaluation of the same raw file prints the same interval), the statistic is computed on
each resample, and the interval is the central `confidence` share of the resampled ratios.
Otherwise the benchmark prints "no headline" with the interval, not a number to quote.

Why not the earlier rule (the width of both sides' ranges must be below the difference of the
medians): it refused runs whose ranges do not even overlap (5 runs each at 0.43-0.57 s against
0.70-1.08 s: every run of one side beat every run of the other, yet 0.52 s of ranges "exceeds"
the 0.24 s effect), and since the range of n runs widens as n grows, more runs made a real
effect harder to claim. The interval narrows with more runs instead.

What the interval can and cannot say:
- With fewer than `min_runs` (3) values on a side there is no headline at all.
- With 3 runs a side, the resampled median of each side spans the whole range of its runs,
  so the interval excludes 1 exactly when the two ranges are apart; with 5 or more it can
  also pass with a small overlap.
- Resampling treats the values as independent. Runs made one after another on a loaded
  machine are not quite (load drifts); the interval says what scatter was seen in that one
  sitting, not what another machine or another hour would give. Benchmarks print every run.
"""

from __future__ import annotations

import math
import statistics
from typing import Any, Sequence

CONFIDENCE = 0.95
RESAMPLES = 10_000
SEED = 20261207
MIN_RUNS = 3


def spread(times: Sequence[float]) -> dict[str, float]:
    """min, median and max of one engine's timed runs (warm-up excluded)."""
    if not times:
        raise ValueError("no timed runs")
    return {"min": min(times), "median": statistics.median(times), "max": max(times)}


def quantile(values: Sequence[float], q: float) -> float:
    """The value at rank round(q * (n - 1)) of the sorted values (what the benchmarks print as p95)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def statistic_of(values: Sequence[float], q: float | None) -> float:
    return statistics.median(values) if q is None else quantile(values, q)


def _resampled(values: Sequence[float], q: float | None, resamples: int, rng) -> Any:
    """The statistic of `resamples` bootstrap resamples of `values` (numpy array)."""
    import numpy as np

    data = np.asarray(values, dtype=float)
    n = len(data)
    out = np.empty(resamples)
    batch = max(1, 2_000_000 // n)  # bounded memory for samples of thousands of requests
    for start in range(0, resamples, batch):
        count = min(batch, resamples - start)
        draws = data[rng.integers(0, n, size=(count, n))]
        if q is None:
            out[start:start + count] = np.median(draws, axis=1)
        else:
            draws.sort(axis=1)
            out[start:start + count] = draws[:, min(n - 1, int(round(q * (n - 1))))]
    return out


def figure(value: float, unit: str = "") -> str:
    """Four significant digits, trailing zeros kept (0.5255 s, 16.00 s, 285.8 ms)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}{(' ' + unit) if unit else ''}"
    decimals = max(0, 3 - int(math.floor(math.log10(abs(value)))))
    return f"{value:.{decimals}f}{(' ' + unit) if unit else ''}"


def span(low: float, high: float, unit: str = "") -> str:
    """A range with the precision of its larger end: 0.472-1.283 s."""
    top = max(abs(low), abs(high))
    decimals = 3 if top == 0 or not math.isfinite(top) else max(0, 3 - int(math.floor(math.log10(top))))
    return f"{low:.{decimals}f}-{high:.{decimals}f}{(' ' + unit) if unit else ''}"


def times(ratio: float) -> str:
    """A ratio as the docs quote it: 0.83x, 1.46x, 12.8x, 300x."""
    if not math.isfinite(ratio):
        return "infx"
    if abs(ratio) >= 100:
        return f"{ratio:.0f}x"
    return f"{ratio:.1f}x" if abs(ratio) >= 10 else f"{ratio:.2f}x"


def compare(slow: Sequence[float], fast: Sequence[float], *, q: float | None = None, unit: str = "s",
            confidence: float = CONFIDENCE, resamples: int = RESAMPLES, seed: int = SEED,
            min_runs: int = MIN_RUNS, what: str = "runs") -> dict[str, Any]:
    """The ratio statistic(slow) / statistic(fast), its bootstrap interval and the verdict.

    `q=None` compares medians, `q=0.95` the p95. Above 1 the `fast` side is faster; below 1
    it is slower (a headline too when the whole interval is below 1). Returns a dict for the
    JSON with `headline` (bool) and `reads` (the printed sentence).
    """
    name = "median" if q is None else f"p{round(q * 100):g}"
    result: dict[str, Any] = {"statistic": name, "n_slow": len(slow), "n_fast": len(fast),
                              "confidence": confidence, "resamples": resamples, "seed": seed}
    if len(slow) < min_runs or len(fast) < min_runs:
        result.update(ratio=None, low=None, high=None, headline=False,
                      reads=f"no headline: {len(slow)} and {len(fast)} {what}, fewer than {min_runs} a side")
        return result
    a, b = statistic_of(slow, q), statistic_of(fast, q)
    ratio = a / b if b else math.inf
    import numpy as np

    rng = np.random.default_rng(seed)
    ra, rb = _resampled(slow, q, resamples, rng), _resampled(fast, q, resamples, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(rb > 0, ra / np.where(rb > 0, rb, 1), np.inf)
    low, high = (float(x) for x in np.quantile(ratios, [(1 - confidence) / 2, (1 + confidence) / 2]))
    passes = low > 1 or high < 1
    level = f"{confidence * 100:g}%"
    sides = (f"{name} {figure(a, unit)} vs {figure(b, unit)}, {len(slow)} and {len(fast)} {what}, "
             f"ranges {span(min(slow), max(slow), unit)} and {span(min(fast), max(fast), unit)}")
    if passes:
        reads = f"{times(ratio)} ({level} interval {times(low)[:-1]}-{times(high)}; {sides})"
    else:
        reads = (f"no headline: {times(ratio)} but its {level} interval {times(low)[:-1]}-{times(high)} "
                 f"includes 1 ({sides})")
    result.update(ratio=ratio, low=low, high=high, headline=passes, reads=reads,
                  slow=a, fast=b, slow_range=[min(slow), max(slow)], fast_range=[min(fast), max(fast)])
    return result


def headline(slow: Sequence[float], fast: Sequence[float], **kwargs) -> tuple[float | None, str]:
    """(ratio slow/fast, how it reads), or (None, why not) when its interval includes 1."""
    result = compare(slow, fast, **kwargs)
    return (result["ratio"] if result["headline"] else None), result["reads"]
