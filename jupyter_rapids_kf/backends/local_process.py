"""The processes behind local clusters: one runner per cluster, plus one standby runner.

A runner (local_runner.py) runs in a session of its own, so it outlives a server restart
and Ctrl-C in the server's terminal spares it; signals go to its whole process group (the
runner and its workers).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Unavailable

log = logging.getLogger(__name__)


@dataclass
class Runner:
    """What the backend knows of one cluster's runner process."""

    spec: dict[str, Any]
    pid: int
    process: subprocess.Popen | None = None  # None when adopted after a restart
    address: str | None = None
    dashboard_port: int | None = None
    state: dict[str, Any] = field(default_factory=dict)
    deleting_since: float | None = None
    failed: str | None = None
    pending_scale: int | None = None  # asked for while the scheduler was starting

    @property
    def name(self) -> str:
        return self.spec["name"]

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return _is_runner(self.pid)

    def signal(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)  # the runner and its worker processes
        except (ProcessLookupError, PermissionError):
            pass

    def failure_reason(self, log_lines: list[str]) -> str:
        """What happened, in plain words, and what to do; the log's last line says neither
        when the process was killed."""
        code = self.process.poll() if self.process else None
        if code is not None and code < 0:
            return (
                f"the cluster process was killed by signal {-code} ({_signal_name(-code)}), "
                "by the system (out of memory?) or by someone; its workers stopped with it. "
                "Delete the cluster and create it again, with less memory per worker if the "
                "machine ran out."
            )
        errors = [line for line in log_lines if "Error" in line or "error" in line]
        if not errors and code is None:  # adopted after a restart: no exit status to read
            return (
                "the cluster process stopped without reporting an error (killed, perhaps out "
                "of memory). Delete the cluster and create it again."
            )
        detail = (errors or log_lines or ["no output"])[-1].strip()
        prefix = "the cluster process exited" + (f" with code {code}" if code is not None else "")
        return f"{prefix}: {detail}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"


def _is_runner(pid: int) -> bool:
    """Guards against a recycled pid after a reboot or a long downtime."""
    try:
        return b"local_runner" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS): trust the pid


def log_path(spec_path: Path) -> Path:
    return spec_path.with_suffix("").with_suffix(".log")  # x.spec.json -> x.log


class Launcher:
    """Starts runners, handing each new cluster to a standby runner when one is ready."""

    def __init__(self, state_dir: Path, *, gpu: bool, standby: bool = True):
        self.state_dir = state_dir
        self.gpu = gpu
        self.use_standby = standby
        self._standby: subprocess.Popen | None = None

    def start(self, spec_path: Path) -> subprocess.Popen:
        process = self._take_standby(spec_path) or self._spawn([str(spec_path)], spec_path)
        self.keep_standby()
        return process

    def keep_standby(self) -> None:
        """Keep one runner with dask already imported, so that a new cluster starts sooner."""
        if not self.use_standby or (self._standby and self._standby.poll() is None):
            return
        try:
            self._standby = self._spawn(["--standby"] + (["--gpu"] if self.gpu else []))
        except Unavailable as err:
            log.warning("rapids-kf: no standby runner: %s", err)
            self._standby = None

    def stop(self) -> None:
        if self._standby is not None:
            self._standby.kill()
            self._standby.wait()
            self._standby = None

    def _spawn(self, args: list[str], spec_path: Path | None = None) -> subprocess.Popen:
        with open(log_path(spec_path) if spec_path else os.devnull, "ab") as log_file:
            try:
                return subprocess.Popen(
                    [sys.executable, "-m", "jupyter_rapids_kf.backends.local_runner", *args],
                    stdin=subprocess.PIPE if spec_path is None else subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    cwd=self.state_dir,
                )
            except OSError as err:
                if spec_path:
                    spec_path.unlink(missing_ok=True)
                raise Unavailable(f"could not start the cluster process: {err}") from err

    def _take_standby(self, spec_path: Path) -> subprocess.Popen | None:
        standby, self._standby = self._standby, None
        if standby is None or standby.poll() is not None or standby.stdin is None:
            return None
        try:
            standby.stdin.write(f"{spec_path}\n".encode())
            standby.stdin.close()
        except OSError:
            return None
        return standby
