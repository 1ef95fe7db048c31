"""A real browser on the real node's pods: the loopback gateway to a notebook pod (gateway.py)
and the Playwright spec of ui-tests/tests/real-node/ (Debian's Chromium, as the browser tier).

    with Gateway(real_node, nb.pod_ip()) as url:      # http://127.0.0.1:PORT
        out = run_spec(url + nb.prefix, {...})         # the spec's output; fails if it failed
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .node_notebook import KUBEFLOW_USER
from .procs import Process
from ..ports import free_port

HERE = Path(__file__).resolve().parent
UI_TESTS = HERE.parents[1] / "ui-tests"
JLPM = Path(sys.executable).parent / "jlpm"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Where the in-page helpers galata drives JupyterLab with live in the notebook image (its
# JupyterLab's own copy); a test server loads them as an extra labextension.
GALATA_IN_IMAGE = "/opt/dask/lib/python3.11/site-packages/jupyterlab/galata"
GALATA_SERVER_CONFIG = {"LabServerApp": {"extra_labextensions_path": [GALATA_IN_IMAGE]},
                        "LabApp": {"expose_app_in_browser": True}}


class Gateway:
    """gateway.py on a free loopback port to ``pod_ip:8888``, as a context manager."""

    def __init__(self, node, pod_ip: str, port: int = 8888):
        self.listen = f"127.0.0.1:{free_port()}"
        self.url = f"http://{self.listen}"
        self.proc = Process("gateway", [sys.executable, str(HERE / "gateway.py"), self.listen,
                                        f"{pod_ip}:{port}", KUBEFLOW_USER], node.logs / "gateway.log")

    def __enter__(self) -> str:
        proc = self.proc.start()
        proc.wait_until(lambda: f"gateway {self.listen} ->" in proc.log.read_text(), 30, "listening")
        return self.url

    def __exit__(self, *exc) -> None:
        self.proc.stop()


def run_spec(lab_url: str, env: dict[str, str], timeout: float = 720) -> str:
    """Runs the real-node spec against ``lab_url``; its output (list reporter), or an
    AssertionError with it. Installs ui-tests' packages first when they are missing."""
    assert Path(CHROMIUM).exists(), (
        f"no Chromium at {CHROMIUM}: install Debian's chromium (make test-controlplane does)")
    if not (UI_TESTS / "node_modules" / ".bin" / "playwright").exists():
        subprocess.run([str(JLPM), "install", "--immutable"], cwd=UI_TESTS, check=True)
    run_env = {**os.environ, "CHROMIUM_PATH": CHROMIUM, "RAPIDS_KF_LAB_URL": lab_url, **env}
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        run_env.pop(var, None)
    done = subprocess.run([str(JLPM), "playwright", "test", "--config", "real-node.config.js"],
                          cwd=UI_TESTS, env=run_env, capture_output=True, text=True, timeout=timeout)
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"the browser test failed (exit {done.returncode}):\n{out}"
    return out
