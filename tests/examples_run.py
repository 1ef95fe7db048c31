"""Runs the example notebook and snippets as a user would: in a fresh Python or kernel."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOK = EXAMPLES / "etl-dask-cudf.ipynb"

_EXECUTE = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
try:
    NotebookClient(nb, timeout=float(sys.argv[4]), kernel_name="python3",
                   resources={"metadata": {"path": sys.argv[3]}}).execute()
finally:
    nbformat.write(nb, sys.argv[2])
"""


async def run_python(code: str, timeout: float = 300, env: dict[str, str] | None = None) -> tuple[str, str]:
    """Runs code in a fresh Python; fails with its stderr when it fails."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode == 0, err.decode()[-3000:]
    return out.decode(), err.decode()


async def run_notebook(address: str, rows: str, workdir: Path, executed: Path, timeout: float = 600) -> dict:
    """Executes the example notebook against a cluster; returns the executed notebook."""
    env = {
        "RAPIDS_KF_SCHEDULER": address,
        "ETL_ROWS": rows,
        "ETL_DATA": str(workdir / "data"),
        "ETL_OUT": str(workdir / "out"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _EXECUTE, str(NOTEBOOK), str(executed), str(EXAMPLES), str(timeout),
        env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(process.communicate(), timeout + 60)
    assert process.returncode == 0, err.decode()[-4000:]
    return json.loads(executed.read_text())


def outputs_text(notebook: dict) -> str:
    """Everything the notebook's cells printed or displayed as text."""
    parts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain") or ""
            parts.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(parts)
