"""`jupyter rapids-kf doctor`: the preflight checks of the Environment route, in a terminal.

Reads the same configuration as the Jupyter server (jupyter_server_config.py/.json), picks
the backend the same way, prints each check with its fix, and exits 1 when one fails.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

from jupyter_core.application import JupyterApp
from traitlets import Bool

from . import __version__
from .clusters.build import DOCTOR, cluster_service
from .config import RapidsKF


class DoctorApp(JupyterApp):
    name = "jupyter-rapids-kf-doctor"
    description = "Check that GPU Dask clusters can be created from this notebook server."
    version = __version__
    config_file_name = "jupyter_server_config"  # the admin's settings for the server
    classes = [RapidsKF]
    json_output = Bool(False, help="Print the checks as JSON.").tag(config=True)
    flags = {"json": ({"DoctorApp": {"json_output": True}}, "Print the checks as JSON.")}
    aliases = {"backend": "RapidsKF.backend", "namespace": "RapidsKF.namespace"}

    def start(self) -> None:
        report = asyncio.run(environment(RapidsKF(parent=self)))
        failed = [c for c in report["checks"] if c["status"] == "failed"]
        unknown = [c for c in report["checks"] if c["status"] == "unknown"]
        if self.json_output:
            print(json.dumps(report, indent=2))
        else:
            print(f"jupyter-rapids-kf {report['version']}: {report['backend']} backend "
                  f"({report['backend_reason']}), namespace {report['namespace']}")
            for check in report["checks"]:
                mark = {"ok": "ok  ", "failed": "FAIL", "unknown": " ?? "}[check["status"]]
                print(f"  [{mark}] {check['name']}: {check['message']}")
                if not check["ok"] and check.get("fix"):
                    print(f"         fix: {check['fix']}")
            if failed:
                print(f"{len(failed)} check(s) failed")
            elif unknown:
                print(f"no check failed; {len(unknown)} could not tell: {', '.join(c['name'] for c in unknown)}")
            else:
                print("all checks passed")
        # An unknown is not a failure: the exit status says whether something is known to be wrong.
        self.exit(1 if failed else 0)


async def environment(config: RapidsKF) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        service = cluster_service(config, Path(scratch), use=DOCTOR)
        try:
            return await service.environment()
        finally:
            await service.stop()


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "doctor":
        print("usage: jupyter rapids-kf doctor [--json] [--backend=auto|local|kubernetes] [--namespace=NS]")
        sys.exit(0 if argv and argv[0] in ("-h", "--help") else 2)
    DoctorApp.launch_instance(argv[1:])


if __name__ == "__main__":
    main()
