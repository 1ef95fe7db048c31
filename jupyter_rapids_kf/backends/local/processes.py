"""The processes behind local clusters: one runner per cluster, plus one standby runner.

A runner (runner.py) runs in a session of its own, so it outlives a server restart
and Ctrl-C in the server's terminal spares it; signals go to its whole process group (the
runner and its workers).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import Unavailable, describe
from .runner import standby_note

log = logging.getLogger(__name__)


@dataclass
class Runner:
    """What the backend knows of one cluster's runner process."""

    spec: dict[str, Any]
    pid: int
    process: subprocess.Popen | None = None  # None when adopted after a restart
    address: str | None = None
    ucx_address: str | None = None  # protocol "ucx": the scheduler's UCX listener
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
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS): trust the pid
    # backends.local_runner: a runner started before the local backend became a package
    return b"backends.local.runner" in cmdline or b"local_runner" in cmdline


def log_path(spec_path: Path) -> Path:
    return spec_path.with_suffix("").with_suffix(".log")  # x.spec.json -> x.log


# After a standby is used, wait this long before starting the next one, so that its start
# (imports, and the cluster in advance) does not compete with the first seconds of the
# cluster the user just got.
REFILL_DELAY = 2.0


class Launcher:
    """Starts runners, handing each new cluster to a standby runner when one is ready.

    With `warm_spec` (the default CPU cluster's spec) the standby also starts that cluster in
    advance (runner.standby), so a new cluster of that shape is usable at once.
    """

    def __init__(self, state_dir: Path, *, gpu: bool, standby: bool = True, warm_spec: dict | None = None):
        self.state_dir = state_dir
        self.gpu = gpu
        self.use_standby = standby
        self.warm_spec = warm_spec
        self._standby: subprocess.Popen | None = None
        self._taken_at = -REFILL_DELAY

    def start(self, spec_path: Path) -> subprocess.Popen:
        process = self._take_standby(spec_path) or self._spawn([str(spec_path)], spec_path)
        self._taken_at = time.monotonic()
        return process

    def keep_standby(self) -> None:
        """Keep one runner with dask already imported, so that a new cluster starts sooner."""
        if not self.use_standby or (self._standby and self._standby.poll() is None):
            return
        if time.monotonic() - self._taken_at < REFILL_DELAY:
            return
        args = ["--standby"] + (["--gpu"] if self.gpu else [])
        if self.warm_spec is not None:
            args += ["--warm", json.dumps(self.warm_spec)]
        try:
            self._standby = self._spawn(args)
        except Unavailable as err:
            log.warning("rapids-kf: no standby runner: %s", err)
            self._standby = None

    def warm_cluster(self) -> dict | None:
        """What the standby says of the cluster it starts in advance: {"ready": True}, or
        {"ready": False, "error": ...}; None while it starts, or with no such cluster."""
        if self.warm_spec is None or self._standby is None or self._standby.poll() is not None:
            return None
        try:
            return json.loads(standby_note(self._standby.pid, self.state_dir).read_text())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        if self._standby is not None:
            standby_note(self._standby.pid, self.state_dir).unlink(missing_ok=True)
            try:
                os.killpg(self._standby.pid, signal.SIGKILL)  # with the workers of its cluster
            except (ProcessLookupError, PermissionError):
                pass
            self._standby.wait()
            self._standby = None

    def _spawn(self, args: list[str], spec_path: Path | None = None) -> subprocess.Popen:
        with open(log_path(spec_path) if spec_path else os.devnull, "ab") as log_file:
            try:
                return subprocess.Popen(
                    [sys.executable, "-m", "jupyter_rapids_kf.backends.local.runner", *args],
                    stdin=subprocess.PIPE if spec_path is None else subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    cwd=self.state_dir,
                )
            except OSError as err:
                if spec_path:
                    spec_path.unlink(missing_ok=True)
                raise Unavailable(f"could not start the cluster process: {describe(err)}") from err

    def _take_standby(self, spec_path: Path) -> subprocess.Popen | None:
        standby, self._standby = self._standby, None
        if standby is not None:
            standby_note(standby.pid, self.state_dir).unlink(missing_ok=True)
        if standby is None or standby.poll() is not None or standby.stdin is None:
            return None
        try:
            standby.stdin.write(f"{spec_path}\n".encode())
            standby.stdin.close()
        except OSError:
            return None
        return standby
