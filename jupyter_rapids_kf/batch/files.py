"""The user's file of a run: found inside the server's root only, stripped of outputs, and its
bytes as they travel to a runner pod (ConfigMap), within their limit."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ..errors import Invalid, NotFound

SUFFIXES = (".ipynb", ".py")
# A DaskJob's file travels in a ConfigMap, which etcd caps at 1 MiB with its metadata.
MAX_FILE_BYTES = 900 * 1024


def user_file(root: Path, path: str, suffixes: tuple[str, ...] = SUFFIXES) -> Path:
    """The file a user named, inside the server's root only."""
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts:
        raise Invalid("path must be relative to the Jupyter root, without '..'", field="path")
    if rel.suffix not in suffixes:
        raise Invalid(f"path must end in {' or '.join(suffixes)}", field="path")
    full = (root / rel).resolve()
    if root.resolve() not in full.parents:
        raise Invalid("path must stay inside the Jupyter root", field="path")
    if not full.is_file():
        raise NotFound(f"no file {path!r}", field="path")
    return full


def stripped_notebook(source: Path) -> str:
    import nbformat

    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nbformat.writes(nb)


def payload(source: Path) -> bytes:
    """The file, a notebook without its outputs (the job makes new ones); Invalid past the limit."""
    if source.suffix == ".ipynb":
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
