"""Child processes with their own log files and process groups."""

from __future__ import annotations

import concurrent.futures
import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


_PR_SET_PDEATHSIG = 1
# Looked up here, not in the child: between fork and exec only this call runs.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if os.uname().sysname == "Linux" else None
# PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, not the process.
# Tests call start/restart from worker threads (asyncio.to_thread, so a Jupyter server on
# the event loop keeps running meanwhile); those threads end with their event loop, and
# would take the operator or the API server with them. Every child is therefore forked
# from this one thread, which lives as long as the Python process.
_spawner = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="cp-spawn")


def _die_with_parent() -> None:
    """Runs in the child before exec: if the Python process that started us dies
    without cleaning up (SIGKILL, a crash), the kernel kills us too."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class StartError(RuntimeError):
    """A component failed to start or to become ready; the message has its log tail."""


class Process:
    """One child process; its stdout and stderr go to ``log``.

    It runs in a new session (its own process group) so that ``stop()`` also ends
    anything it started.
    """

    def __init__(self, name: str, argv: list[str], log: Path, env: dict | None = None):
        self.name, self.argv, self.log, self.env = name, argv, log, env
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            out.write(f"\n--- starting: {' '.join(self.argv)}\n".encode())
            out.flush()
            self.popen = _spawner.submit(
                subprocess.Popen,
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,
                preexec_fn=_die_with_parent if _prctl else None,  # noqa: PLW1509
            ).result()
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def fail(self, why: str) -> StartError:
        return StartError(f"{self.name}: {why}\n--- tail of {self.log}:\n{log_tail(self.log)}")

    def wait_until(self, check, timeout: float, what: str, interval: float = 0.2):
        """Polls ``check()`` until it returns a truthy value; fails early if we died."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if not self.running:
                code = self.popen.returncode if self.popen else None
                raise self.fail(f"exited with {code} while waiting for {what}")
            try:
                result = check()
                if result:
                    return result
            except Exception as exc:  # noqa: BLE001 - the component is still coming up
                last_error = exc
            time.sleep(interval)
        raise self.fail(f"not {what} after {timeout:.0f}s (last error: {last_error!r})")

    def stop(self, grace: float = 10.0) -> None:
        """Ends the process group: SIGTERM, then SIGKILL after ``grace``. Idempotent."""
        popen, self.popen = self.popen, None
        if popen is None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(popen.pid, sig)
            except ProcessLookupError:
                break
            try:
                popen.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Members of the group that outlived the leader.
        try:
            os.killpg(popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
