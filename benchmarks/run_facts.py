"""What a benchmark's raw result file says about the run besides its figures.

Every benchmark in this directory (run as `python benchmarks/NAME.py`) takes `--json PATH` and
writes its figures with the facts below, so that a number in the docs can be set against the
machine, the load and the software it was measured on:

    from run_facts import RunFacts
    facts = RunFacts()                    # before measuring: load average, versions, commit
    ...
    facts.write(args.json, "list_latency", settings=vars(args), metrics=figures)

The load average is read before and after the measurement: a run on a machine busy with
something else shows it. Only this machine is read (/proc, `git`, installed package metadata).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# Distributions whose versions decide the figures (absent ones are written as null).
PACKAGES = (
    "jupyter-rapids-kf", "distributed", "dask", "jupyter_server", "jupyterlab", "tornado",
    "dask-labextension", "jupyter-server-proxy", "kr8s", "pandas", "numpy", "pyarrow",
    "cudf-cu12", "cudf-cu13", "dask-cuda",
)


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def commit() -> dict[str, Any]:
    """The commit measured, and whether the tree had uncommitted changes (then the commit alone
    does not say what ran)."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"commit": _git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}


def memory() -> dict[str, float | None]:
    """GiB total and available, from /proc/meminfo (null where there is none)."""
    fields: dict[str, float] = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, value = line.split(":", 1)
            fields[key] = int(value.split()[0]) / 2**20  # kB -> GiB
    except (OSError, ValueError, IndexError):
        pass
    return {"total_gib": _round(fields.get("MemTotal")), "available_gib": _round(fields.get("MemAvailable"))}


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def gpus() -> list[str]:
    """GPU names and memory as nvidia-smi reports them; empty without one."""
    if not shutil.which("nvidia-smi"):
        return []
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip()] if done.returncode == 0 else []


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def machine_facts() -> dict[str, Any]:
    """The machine and software, read now (no load average: that is read around a run)."""
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu_model(),
        "memory": memory(),
        "gpus": gpus(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions(),
        "git": commit(),
    }


class RunFacts:
    """Made before a measurement (reads the load average then); `finish()` or `write()` after."""

    def __init__(self) -> None:
        self.started = time.time()
        self.load_before = load_average()
        self.machine = machine_facts()

    def finish(self) -> dict[str, Any]:
        """The facts, with the load average after the run and its duration."""
        return self.machine | {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "duration_s": round(time.time() - self.started, 1),
            "load_average_before": self.load_before,
            "load_average_after": load_average(),
        }

    def write(self, path: str | Path | None, benchmark: str, *, settings: dict[str, Any],
              metrics: dict[str, Any]) -> dict[str, Any]:
        """The whole result; written to `path` as JSON when one is given."""
        result = {
            "benchmark": benchmark,
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in settings.items() if k != "json"},
            "metrics": metrics,
            "machine": self.finish(),
        }
        if path:
            Path(path).write_text(json.dumps(result, indent=1) + "\n")
        return result

    def summary(self) -> str:
        """One line for a benchmark's printed output."""
        done = self.finish()
        return (f"{done['cores']} cores, load average before {done['load_average_before']} after "
                f"{done['load_average_after']}; Python {done['python']}; commit "
                f"{(done['git']['commit'] or '?')[:10]}{' (dirty)' if done['git']['dirty'] else ''}")
