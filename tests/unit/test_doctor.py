"""`jupyter rapids-kf doctor` runs the preflight checks from a terminal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def doctor(*args: str, config_dir: Path | None = None) -> subprocess.CompletedProcess:
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent))
    env = dict(os.environ)
    if config_dir:
        env["JUPYTER_CONFIG_DIR"] = str(config_dir)
    return subprocess.run([jupyter, "rapids-kf", "doctor", *args], capture_output=True, text=True, env=env, timeout=120)


def test_doctor_passes_on_the_local_backend_and_says_why_it_was_chosen():
    result = doctor("--backend=local")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "local backend (c.RapidsKF.backend is 'local')" in result.stdout
    assert "[ok  ] dask:" in result.stdout
    assert "all checks passed" in result.stdout


def test_doctor_reads_the_servers_config_file_and_prints_json(tmp_path):
    (tmp_path / "jupyter_server_config.json").write_text(json.dumps({"RapidsKF": {"backend": "local", "max_clusters": 2}}))
    result = doctor("--json", config_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["backend"] == "local"
    assert report["limits"]["max_clusters"] == 2
    assert {c["name"] for c in report["checks"]} >= {"dask", "proxy"}


def test_doctor_without_a_subcommand_shows_usage():
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent))
    result = subprocess.run([jupyter, "rapids-kf"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "usage: jupyter rapids-kf doctor" in result.stdout


def test_doctor_says_whether_gpu_clusters_may_use_ucx_here():
    from jupyter_rapids_kf.models.protocols import ucx_missing

    result = doctor("--backend=local")
    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if "] ucx:" in line]
    assert line.startswith("  [ok  ]")  # TCP always works: a missing UCX is no failure
    if ucx_missing():
        assert "GPU clusters use TCP" in line and "pip install distributed-ucxx-cu13" in line
    else:
        assert "may use protocol ucx" in line
