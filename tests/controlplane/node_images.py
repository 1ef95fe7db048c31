"""Images built on top of the real node's Dask image, on demand (``RealNode.notebook_image``):
only the tests that need one pay for building and importing it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTEBOOK_SCRIPT = HERE / "build_notebook_image.sh"
LAYER_SCRIPT = HERE / "build_layer_image.sh"


def build_on_dask_image(script: Path, *args: str | Path) -> tuple[str, str, Path]:
    """Runs a build script given the Dask image's archive (and what else it takes); (name,
    reference, archive). The script returns at once when its cached archive is there."""
    out = subprocess.run(["bash", str(script), *map(str, args)], capture_output=True, text=True,
                         env=dict(os.environ, PYTHON=sys.executable))
    if out.returncode != 0:
        raise RuntimeError(f"{script.name} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    name, ref, archive = out.stdout.split()
    return name, ref, Path(archive)
