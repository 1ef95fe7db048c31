"""The bytes of a job's file as they travel to a runner pod (ConfigMap), within its limit."""

from __future__ import annotations

from pathlib import Path

from ..errors import Invalid
from .models import MAX_FILE_BYTES


def payload(source: Path) -> bytes:
    """The file, a notebook without its outputs (the job makes new ones); Invalid past the limit."""
    if source.suffix == ".ipynb":
        from ..pipelines.export import stripped_notebook

        content = stripped_notebook(source).encode("utf-8")
    else:
        content = source.read_bytes()
    if len(content) > MAX_FILE_BYTES:
        raise Invalid(
            f"{source.name} is {len(content)} bytes" + (" without outputs" if source.suffix == ".ipynb" else "")
            + f"; a job's file travels in a ConfigMap and may be at most {MAX_FILE_BYTES} bytes",
            field="path",
            fix="move data and long code into files the job reads from object storage or imports from "
            "its image",
        )
    return content
