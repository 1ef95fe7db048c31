"""The job runner (`python -m jupyter_rapids_kf.batch.runner`) as a runner pod uses it: parameters
injected, the executed notebook carried in the log and read back intact, the cell's error named."""

from __future__ import annotations

import subprocess
import sys

import nbformat

from jupyter_rapids_kf.backends.kubernetes.jobs import runner_source
from jupyter_rapids_kf.batch.runner import decode_from_log, strip_payload


def test_the_executed_notebook_comes_back_through_the_log(tmp_path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("rows = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print('rows', rows * 2)"), nbformat.v4.new_code_cell("rows / 0")]
    source = tmp_path / "read-only" / "etl.ipynb"
    source.parent.mkdir()
    nbformat.write(nb, source)
    source.parent.chmod(0o555)  # a ConfigMap volume: the runner works on a copy
    try:
        # As in a runner pod: the runner file alone, run as a script from elsewhere.
        runner = tmp_path / ".rapids-kf-run.py"
        runner.write_text(runner_source())
        done = subprocess.run([sys.executable, "-I", str(runner), str(source), "--print-notebook",
                               "--parameters", '{"rows": 21}'], capture_output=True, text=True, timeout=120,
                              cwd="/")
    finally:
        source.parent.chmod(0o755)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    text, error = decode_from_log(lines)
    assert error == "ZeroDivisionError: division by zero"
    executed = nbformat.reads(text, as_version=4)
    assert executed.cells[1].source.endswith("rows = 21")
    assert executed.cells[2].outputs[0]["text"] == "rows 42\n"
    assert executed.cells[3].outputs[0]["ename"] == "ZeroDivisionError"
    shown = strip_payload(lines)
    assert len(shown) < 5 and shown[-1] == "rapids-kf error: ZeroDivisionError: division by zero"


def test_a_truncated_log_gives_no_copy_rather_than_a_broken_one():
    lines = ["----- rapids-kf executed notebook (gzip, base64) begin -----", "H4sIAAAA",
             "----- rapids-kf executed notebook end -----"]
    assert decode_from_log(lines) == (None, None)
