"""Runs one notebook or .py file as a batch job: `python -m jupyter_rapids_kf.batch.runner FILE`.

Standard library only at import time: on Kubernetes this file itself travels to the runner
pod (in the job's ConfigMap) and runs as a script in whatever image the job uses.

Executed in a DaskJob's runner pod (the operator sets DASK_SCHEDULER_ADDRESS, so `Client()`
connects to the job's own cluster), in a local subprocess, or in a pipeline step. Notebooks
run with nbclient; parameters go into a cell after the one tagged `parameters` (papermill's
convention), or first. The executed notebook is written to `--output`, or printed at the
end of the log between markers when the file system is not shared (Kubernetes), where the
Jupyter server reads it back. A failing cell ends the run with exit status 1 and one
`rapids-kf error:` line naming the cell's error.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import runpy
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

BEGIN = "----- rapids-kf executed notebook (gzip, base64) begin -----"
END = "----- rapids-kf executed notebook end -----"
ERROR_PREFIX = "rapids-kf error: "
LINE_WIDTH = 76


def parameter_cell_source(parameters: dict[str, Any]) -> str:
    lines = ["# Parameters (injected by jupyter-rapids-kf)"]
    lines += [f"{name} = {value!r}" for name, value in parameters.items()]
    return "\n".join(lines)


def inject_parameters(nb: Any, parameters: dict[str, Any]) -> None:
    """A code cell with the parameters after the cell tagged `parameters` (else at the top)."""
    import nbformat

    if not parameters:
        return
    cell = nbformat.v4.new_code_cell(parameter_cell_source(parameters))
    cell.metadata["tags"] = ["injected-parameters"]
    where = next(
        (i + 1 for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), 0
    )
    nb.cells.insert(where, cell)


def cell_error(err: BaseException) -> str:
    """`NameError: name 'x' is not defined` from nbclient's CellExecutionError."""
    ename, evalue = getattr(err, "ename", None), getattr(err, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    return f"{type(err).__name__}: {err}".strip()


def execute_notebook(source: Path, parameters: dict[str, Any], timeout: int | None = None) -> tuple[Any, str | None]:
    """The executed notebook (with outputs up to the failing cell) and the error, if any."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(source, as_version=4)
    inject_parameters(nb, parameters)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(source.parent)}}
    )
    try:
        client.execute()
    except CellExecutionError as err:
        return nb, cell_error(err)
    except Exception as err:  # the kernel died, a timeout: still a result to show
        return nb, cell_error(err)
    return nb, None


def run_script(source: Path, parameters: dict[str, Any]) -> str | None:
    """A .py file run as __main__ with the parameters as globals; its error, if any."""
    try:
        runpy.run_path(str(source), init_globals=dict(parameters), run_name="__main__")
    except SystemExit as err:
        if err.code not in (None, 0):
            return f"SystemExit: {err.code}"
    except BaseException as err:  # the user's code: report whatever it raised
        traceback.print_exc()
        return cell_error(err)
    return None


def encode_notebook(text: str) -> list[str]:
    data = base64.b64encode(gzip.compress(text.encode("utf-8"))).decode("ascii")
    return [data[i:i + LINE_WIDTH] for i in range(0, len(data), LINE_WIDTH)]


def decode_from_log(lines: list[str]) -> tuple[str | None, str | None]:
    """(executed notebook JSON, error line) from a runner's log lines; None for what is missing."""
    notebook = error = None
    try:
        start = len(lines) - 1 - lines[::-1].index(BEGIN)
        end = lines.index(END, start)
    except ValueError:
        pass
    else:
        data = "".join(line.strip() for line in lines[start + 1:end])
        try:
            notebook = gzip.decompress(base64.b64decode(data)).decode("utf-8")
        except (ValueError, OSError, EOFError):
            notebook = None  # a truncated log: no copy rather than a broken one
    for line in lines:
        if line.startswith(ERROR_PREFIX):
            error = line[len(ERROR_PREFIX):]
    return notebook, error


def strip_payload(lines: list[str]) -> list[str]:
    """Log lines without the encoded notebook (what users read as the job's log)."""
    out, inside = [], False
    for line in lines:
        if line == BEGIN:
            inside = True
        elif line == END:
            inside = False
        elif not inside:
            out.append(line)
    return out


def local_cluster(workers: int, gpu: bool, ucx: bool = False) -> Any:
    """As the local backend makes them (backends/local/runner.py): GPU workers with an RMM pool and
    one thread each; a CPU cluster that leaves the GPUs alone."""
    import dask

    if gpu:
        from dask_cuda import LocalCUDACluster

        pool = os.environ.get("RAPIDS_KF_RMM_POOL_SIZE") or "0.5"
        # protocol "ucx": workers on UCX, the scheduler on TCP and UCX (models/protocols.py)
        ucx = {"protocol": "ucx", "scheduler_kwargs": {"protocol": ["tcp", "ucx"], "port": [0, 0]}} if ucx else {}
        return LocalCUDACluster(n_workers=workers or None, rmm_pool_size=pool, threads_per_worker=1,
                                dashboard_address=None, host="127.0.0.1", **ucx)
    from distributed import LocalCluster

    dask.config.set({"distributed.diagnostics.nvml": False})
    return LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None, host="127.0.0.1")


def close_default_client() -> None:
    try:
        from distributed import default_client

        default_client().close()
    except (ImportError, ValueError):  # no client was made
        pass


def writable_copy(source: Path) -> Path:
    """The file in a writable directory (a ConfigMap volume is read-only; kernels write there)."""
    if os.access(source.parent, os.W_OK):
        return source
    target = Path(tempfile.mkdtemp(prefix="rapids-kf-job-")) / source.name
    shutil.copyfile(source, target)
    return target


def quit_sidecar(url: str, timeout: float = 5.0) -> None:
    """Asks a service mesh's sidecar in this pod to exit (Istio: POST /quitquitquit on the pod's
    loopback), so that a pod whose sidecar was injected as a plain container can end. Nothing
    listening (no sidecar, or a native one already gone) is fine."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST"),
                                    timeout=timeout) as answer:
            print(f"rapids-kf: asked the sidecar to quit ({url}): {answer.status}", flush=True)
    except urllib.error.HTTPError as err:
        print(f"rapids-kf: the sidecar did not quit ({url}): HTTP {err.code}", flush=True)
    except (OSError, ValueError) as err:  # refused, timed out, unreachable: no sidecar to stop
        print(f"rapids-kf: no sidecar to quit at {url} ({err})", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyter_rapids_kf.batch.runner")
    parser.add_argument("file", type=Path)
    parser.add_argument("--parameters", default="{}", help="JSON object of parameters")
    parser.add_argument("--output", type=Path, help="where to write the executed notebook")
    parser.add_argument("--print-notebook", action="store_true", help="print it at the end of the log")
    parser.add_argument("--local-workers", type=int, help="start a LocalCluster of this many workers first")
    parser.add_argument("--gpu", action="store_true", help="a LocalCUDACluster (one worker per GPU)")
    parser.add_argument("--ucx", action="store_true", help="with --gpu: protocol ucx")
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell")
    parser.add_argument("--quit-sidecar", metavar="URL", help="POST here when done (a mesh's sidecar)")
    args = parser.parse_args(argv)
    try:
        return run_file(args)
    finally:
        if args.quit_sidecar:
            quit_sidecar(args.quit_sidecar)


def run_file(args: argparse.Namespace) -> int:
    parameters = json.loads(args.parameters)

    source = writable_copy(args.file)
    cluster = None
    if args.local_workers is not None:
        cluster = local_cluster(args.local_workers, args.gpu, args.ucx)
        os.environ["DASK_SCHEDULER_ADDRESS"] = cluster.scheduler_address  # `Client()` in kernels finds it
        import dask

        dask.config.set({"scheduler-address": cluster.scheduler_address})  # and in a .py file here
    print(f"rapids-kf: running {source.name} on the Dask cluster at "
          f"{os.environ.get('DASK_SCHEDULER_ADDRESS', '(none)')}", flush=True)
    try:
        if source.suffix == ".ipynb":
            import nbformat

            nb, error = execute_notebook(source, parameters, args.timeout)
            text = nbformat.writes(nb)
            if args.output:
                args.output.write_text(text, encoding="utf-8")
            if args.print_notebook:
                print(BEGIN)
                print("\n".join(encode_notebook(text)))
                print(END, flush=True)
        else:
            error = run_script(source, parameters)
    finally:
        if cluster is not None:
            close_default_client()  # a script's Client, before its cluster goes
            cluster.close()
    if error:
        print(ERROR_PREFIX + error.replace("\n", " "), flush=True)
        return 1
    print("rapids-kf: finished", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
