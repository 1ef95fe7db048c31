"""benchmarks/run_facts.py: every benchmark's --json file says which machine, load and software
its figures came from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import distributed

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from run_facts import RunFacts  # noqa: E402


def test_the_json_file_holds_the_figures_with_the_machine_facts(tmp_path):
    facts = RunFacts()
    out = tmp_path / "result.json"
    facts.write(out, "example", settings={"repeat": 3, "json": out}, metrics={"p95_ms": 1.5})

    result = json.loads(out.read_text())
    assert result["benchmark"] == "example"
    assert result["settings"] == {"repeat": 3}  # where the file went is not a setting of the run
    assert result["metrics"] == {"p95_ms": 1.5}
    machine = result["machine"]
    assert machine["cores"] == os.cpu_count()
    assert len(machine["load_average_before"]) == 3 and len(machine["load_average_after"]) == 3
    assert machine["versions"]["distributed"] == distributed.__version__
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:  # a checkout; an unpacked source archive has no commit to name
        assert machine["git"]["commit"] == head.stdout.strip()
    assert machine["memory"]["total_gib"] is None or machine["memory"]["total_gib"] > 0


def test_without_a_path_nothing_is_written(tmp_path):
    result = RunFacts().write(None, "example", settings={}, metrics={"n": 1})
    assert result["metrics"] == {"n": 1} and list(tmp_path.iterdir()) == []


def test_every_benchmark_but_the_gpu_one_offers_json():
    """gpu_etl.py writes its own report (its --json predates this module)."""
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        text = script.read_text()
        if "parser.add_argument" not in text:
            continue  # a helper module, not a benchmark
        assert '"--json"' in text, f"{script.name} has no --json option"
        if script.name != "gpu_etl.py":
            assert "RunFacts" in text, f"{script.name} does not write the machine facts"
