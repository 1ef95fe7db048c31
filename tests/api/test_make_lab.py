"""The README's run command: `make lab` starts JupyterLab with the extension on loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ..ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def fetch(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.mark.timeout(180)
def test_make_lab_serves_jupyterlab_with_the_extension(tmp_path):
    port = free_port()
    log = tmp_path / "lab.log"
    env = {**os.environ, "PORT": str(port), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    with log.open("w") as out:
        lab = subprocess.Popen(["make", "-s", "lab"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        token = None
        deadline = time.monotonic() + 120
        while token is None and time.monotonic() < deadline:
            assert lab.poll() is None, f"make lab exited with {lab.returncode}:\n{log.read_text()[-3000:]}"
            found = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=([0-9a-f]+)", log.read_text())
            token = found and found.group(1)
            time.sleep(0.5)
        assert token, f"no URL with a token in the log:\n{log.read_text()[-3000:]}"
        base = f"http://127.0.0.1:{port}"

        status, page = fetch(f"{base}/lab", token)
        assert status == 200 and b"jupyter-rapids-kf" in page, "the labextension is not in the page config"
        status, body = fetch(f"{base}/rapids-kf/environment", token)
        environment = json.loads(body)
        assert status == 200 and environment["backend"] == "local", environment
        assert fetch(f"{base}/rapids-kf/environment")[0] == 403, "the API must need the token"
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
