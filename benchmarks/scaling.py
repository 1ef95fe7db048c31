"""Scaling efficiency of the dask-cuDF ETL over GPU counts and protocols (gpu_etl.py --gpus, --protocol).

Efficiency at N GPUs = time at the base count / (N / base x time at N): 1.0 is perfect scaling,
0.5 means half of the added GPUs' worth is lost (to the shuffle, the joins, the scheduler). The
base is 1 GPU where that ran; where it did not (a size too large for one GPU), the smallest count
that did, and the table says so. Times are medians of the timed runs; each efficiency carries the
bootstrap interval of the speed-up it comes from (spread.py), and is printed only where that rule
lets the speed-up through ("n.h." otherwise: the runs cannot tell N from the base apart). UCX
against TCP at each N goes through the same rule.
"""

from __future__ import annotations

import statistics
from typing import Any

from spread import compare, times

TARGET_EFFICIENCY = 0.8  # at 4 GPUs, with the better protocol, at the largest size (the project's target)


def scaling_runs(results: list[dict]) -> dict[tuple[int, str], dict[int, dict]]:
    """{(rows, protocol): {gpus: result}} of the results that belong to the scaling leg."""
    runs: dict[tuple[int, str], dict[int, dict]] = {}
    for r in results:
        if r.get("gpus") is None or not r.get("times_s"):
            continue
        runs.setdefault((r["rows"], r.get("protocol", "tcp")), {})[r["gpus"]] = r
    return runs


def efficiencies(results: list[dict]) -> list[dict[str, Any]]:
    """One row per (rows, protocol, N): the median, the base, the efficiency and its interval."""
    rows_out = []
    for (rows, protocol), by_n in sorted(scaling_runs(results).items()):
        base = min(by_n)
        base_times = by_n[base]["times_s"]
        for n in sorted(by_n):
            median = statistics.median(by_n[n]["times_s"])
            row: dict[str, Any] = {"rows": rows, "protocol": protocol, "gpus": n, "base_gpus": base,
                                   "median_s": median}
            if n == base:
                row.update(efficiency=1.0, low=None, high=None, headline=None, reads="the base")
            else:
                speedup = compare(base_times, by_n[n]["times_s"])
                scale = base / n
                row.update(
                    efficiency=statistics.median(base_times) / median * scale,
                    low=None if speedup["low"] is None else speedup["low"] * scale,
                    high=None if speedup["high"] is None else speedup["high"] * scale,
                    headline=speedup["headline"], reads=f"speed-up over {base}: {speedup['reads']}")
            rows_out.append(row)
    return rows_out


def protocol_ratios(results: list[dict]) -> list[dict[str, Any]]:
    """TCP time / UCX time at each size and N where both ran (above 1: UCX faster)."""
    runs = scaling_runs(results)
    out = []
    for (rows, protocol), by_n in sorted(runs.items()):
        if protocol != "ucx" or (rows, "tcp") not in runs:
            continue
        for n in sorted(set(by_n) & set(runs[(rows, "tcp")])):
            verdict = compare(runs[(rows, "tcp")][n]["times_s"], by_n[n]["times_s"])
            out.append({"rows": rows, "gpus": n, "ratio_of": "tcp / ucx"} | verdict)
    return out


def cell(row: dict[str, Any]) -> str:
    """An efficiency as the table prints it: 0.91 (0.85-0.97), 1 for the base, n.h. where the rule says no."""
    if row["headline"] is None:
        return "1 (base)"
    if not row["headline"]:
        return "n.h."
    return f"{row['efficiency']:.2f} ({row['low']:.2f}-{row['high']:.2f})"


def scaling_table(results: list[dict], unit: str = "GPUs") -> str:
    """Median seconds and efficiency per size, protocol and count; TCP/UCX ratios below."""
    rows = efficiencies(results)
    if not rows:
        return f"no scaling runs (no result with a count of {unit})"
    lines = [f"{'rows':>8} {'protocol':>8} {unit:>5} {'median':>10} {'base':>5}  efficiency (95% interval)"]
    for row in rows:
        lines.append(f"{human(row['rows']):>8} {row['protocol']:>8} {row['gpus']:>5} {row['median_s']:>9.3f}s "
                     f"{row['base_gpus']:>5}  {cell(row)}")
    for ratio in protocol_ratios(results):
        shown = times(ratio["ratio"]) if ratio["headline"] else "n.h."
        lines.append(f"{human(ratio['rows'])} at {ratio['gpus']} {unit}: tcp / ucx = {shown} ({ratio['reads']})")
    return "\n".join(lines)


def target(results: list[dict], gpus: int = 4) -> str:
    """Whether the better protocol reaches TARGET_EFFICIENCY at `gpus` at the largest size."""
    rows = [r for r in efficiencies(results) if r["gpus"] == gpus]
    if not rows:
        return f"target: efficiency >= {TARGET_EFFICIENCY} at {gpus} GPUs: not shown, no run at {gpus}"
    largest = max(r["rows"] for r in rows)
    at = [r for r in rows if r["rows"] == largest]
    best = max(at, key=lambda r: r["efficiency"])
    if not best["headline"]:
        return (f"target: efficiency >= {TARGET_EFFICIENCY} at {gpus} GPUs, {human(largest)}: not shown "
                f"(no headline: {best['reads']})")
    met = best["low"] >= TARGET_EFFICIENCY
    return (f"target: efficiency >= {TARGET_EFFICIENCY} at {gpus} GPUs, {human(largest)}: {best['protocol']} "
            f"{cell(best)} from base {best['base_gpus']}: {'MET' if met else 'NOT MET'} (interval's lower end)")


def human(rows: int) -> str:
    return f"{rows / 1e9:g}G" if rows >= 10**9 else f"{rows / 1e6:g}M"
