"""A Jupyter server with this extension on 127.0.0.1, in a process of its own, for the benchmarks."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ports import free_port  # noqa: E402


class JupyterServer:
    """Started with `extensions` enabled and `args` on its command line; ready once /api/status answers.

    `token=""`: no token option of ours, for a caller whose `args` set the login (KubeFlow's)."""

    def __init__(self, workdir: Path, *, extensions: Iterable[str], args: Iterable[str] = (),
                 env: dict[str, str] | None = None, start_timeout: float = 60, request_timeout: float = 300,
                 token: str | None = None):
        self.port = free_port()
        self.token = secrets.token_hex(16) if token is None else token
        self.request_timeout = request_timeout
        self.log = workdir / "server.log"
        config = workdir / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "jupyter_server_config.json").write_text(json.dumps(
            {"ServerApp": {"jpserver_extensions": {name: True for name in extensions}}}))
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
                f"--ServerApp.port={self.port}", "--ServerApp.ip=127.0.0.1",
                *([f"--IdentityProvider.token={self.token}"] if self.token else []),
                f"--ServerApp.root_dir={workdir}", *args,
            ],
            env=dict(os.environ, JUPYTER_RUNTIME_DIR=str(workdir / "runtime"), JUPYTER_CONFIG_DIR=str(config),
                     **(env or {})),
            stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"),
        )
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            try:
                self.request("GET", "/api/status")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the Jupyter server did not start:\n" + self.log.read_text()[-3000:])

    def connect(self, timeout: float | None = None) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout or self.request_timeout)

    def request(self, method: str, path: str, body: Any = None,
                conn: http.client.HTTPConnection | None = None) -> tuple[int, Any, float]:
        """(status, decoded body, seconds); on `conn` when given (kept alive), else on a new connection."""
        own = conn is None
        conn = conn or self.connect()
        headers = {"Authorization": f"token {self.token}", "Content-Type": "application/json"}
        try:
            start = time.perf_counter()
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = conn.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - start
        finally:
            if own:
                conn.close()
        try:
            return response.status, (json.loads(data) if data else None), elapsed
        except ValueError:
            return response.status, data.decode(errors="replace"), elapsed

    def stop(self, timeout: float = 60) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
