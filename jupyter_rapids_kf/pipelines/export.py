"""Export as pipeline: a notebook next to its compiled KFP pipeline YAML.

The notebook travels inside the pipeline (outputs stripped, gzip + base64) as a parameter,
so the step needs no shared volume; Linux passes it on the command line, which bounds it
(MAX_PACKED). The cluster request is checked now with the server's guardrails, and again by
the step when it runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..batch.files import stripped_notebook
from ..errors import Invalid
from .component import STEP_COMPONENT, compile_pipeline, notebook_pipeline
from .step import pack_notebook

# One command-line argument may hold at most 128 KiB on Linux (MAX_ARG_STRLEN).
MAX_PACKED = 120 * 1024


@dataclass
class Exported:
    path: str  # relative to the server's root, like the notebook's
    component: str
    image: str
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "component": self.component, "image": self.image, "bytes": self.bytes}


def pipeline_name(stem: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", stem.lower()).strip("-")[:60] or "notebook"


def export(source: Path, relative: str, image: str, request: dict[str, Any], parameters: dict[str, Any]) -> Exported:
    packed = pack_notebook(stripped_notebook(source))
    if len(packed) > MAX_PACKED:
        raise Invalid(
            f"the notebook is {len(packed)} bytes compressed without outputs; a pipeline can carry "
            f"at most {MAX_PACKED}",
            field="path",
            fix="move data and long code into files the notebook reads or imports",
        )
    target = source.with_name(source.stem + ".pipeline.yaml")
    compile_pipeline(notebook_pipeline(pipeline_name(source.stem), image, packed, request, parameters), str(target))
    rel = str(Path(relative).with_name(target.name))
    return Exported(rel, STEP_COMPONENT, image, target.stat().st_size)
