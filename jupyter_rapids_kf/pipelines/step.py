"""The exported pipeline's containers: `python -m jupyter_rapids_kf.pipelines.step run|cleanup`.

`run` unpacks the notebook carried in the pipeline (gzip + base64, outputs stripped), makes
the run's GPU cluster, executes the notebook with DASK_SCHEDULER_ADDRESS set to it (so
`Client()` in the notebook connects there), prints what its cells printed to the step's log,
writes the executed copy to the step's output and deletes the cluster. `cleanup` is the exit
handler: it deletes the run's cluster if a killed or failed step left it behind.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..errors import RapidsKFError
from .cluster import cluster_name_for_run, delete_cluster, run_on_gpu_cluster


class NotebookFailed(Exception):
    pass


def pack_notebook(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode("utf-8"))).decode("ascii")


def unpack_notebook(packed: str) -> str:
    return gzip.decompress(base64.b64decode(packed)).decode("utf-8")


def print_outputs(nb: Any) -> None:
    """What the notebook printed, in the step's log (the Logs tab of a KFP run), cell by cell:
    the executed notebook itself is an artifact the user has to download."""
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.output_type == "stream":
                text = output.text
            elif output.output_type == "execute_result":
                text = output.get("data", {}).get("text/plain", "")
            else:
                continue
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def run_notebook(packed: str, request: dict[str, Any], parameters: dict[str, Any], run_id: str,
                 executed: Path | None, **kwargs: Any) -> None:
    import nbformat

    from ..batch.runner import execute_notebook

    scratch = Path(tempfile.mkdtemp(prefix="rapids-kf-step-"))
    source = scratch / "notebook.ipynb"
    source.write_text(unpack_notebook(packed), encoding="utf-8")

    def work(client: Any) -> None:
        os.environ["DASK_SCHEDULER_ADDRESS"] = client.scheduler.address  # inherited by the kernel
        nb, error = execute_notebook(source, parameters)
        print_outputs(nb)
        if executed is not None:
            executed.parent.mkdir(parents=True, exist_ok=True)
            executed.write_text(nbformat.writes(nb), encoding="utf-8")
        if error:
            raise NotebookFailed(error)

    run_on_gpu_cluster(work, request, name=cluster_name_for_run(run_id), **kwargs)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(prog="python -m jupyter_rapids_kf.pipelines.step")
    sub = parser.add_subparsers(dest="what", required=True)
    run = sub.add_parser("run")
    run.add_argument("--notebook", required=True, help="gzip + base64 of the notebook")
    run.add_argument("--request", default="{}", help="ClusterRequest JSON")
    run.add_argument("--parameters", default="{}", help="parameters JSON")
    run.add_argument("--run-id", required=True)
    run.add_argument("--executed", type=Path, help="where to write the executed notebook")
    cleanup = sub.add_parser("cleanup")
    cleanup.add_argument("--run-id", required=True)
    args = parser.parse_args(argv)
    try:
        if args.what == "cleanup":
            delete_cluster(cluster_name_for_run(args.run_id))
            return 0
        run_notebook(args.notebook, json.loads(args.request), json.loads(args.parameters), args.run_id,
                     args.executed)
    except NotebookFailed as err:
        print(f"rapids-kf error: {err}", file=sys.stderr)
        return 1
    except RapidsKFError as err:
        print(f"rapids-kf error: {err.message}" + (f" (fix: {err.fix})" if err.fix else ""), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
