"""Why a local cluster's process ended, in plain words (issue 10, case 7)."""

from __future__ import annotations

import signal
import subprocess
import sys

from jupyter_rapids_kf.backends.local.processes import Runner

INFO_ONLY = ["2026-12-04 distributed.scheduler INFO -   Scheduler at: tcp://127.0.0.1:40000"]


def test_a_killed_process_is_named_with_its_signal_and_what_to_do():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    process.send_signal(signal.SIGKILL)
    process.wait()
    reason = Runner(spec={"name": "x"}, pid=process.pid, process=process).failure_reason(INFO_ONLY)
    assert reason.startswith("the cluster process was killed by signal 9 (SIGKILL)")
    assert "create it again" in reason
    assert "Scheduler at" not in reason, "the last INFO line says nothing of what happened"


def test_an_error_in_the_log_is_still_the_reason_of_an_exit():
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    process.wait()
    lines = INFO_ONLY + ["ValueError: could not convert string to float: 'banana'"]
    reason = Runner(spec={"name": "x"}, pid=process.pid, process=process).failure_reason(lines)
    assert reason == "the cluster process exited with code 3: ValueError: could not convert string to float: 'banana'"


def test_a_process_found_after_a_restart_that_died_silently_is_said_to_be_killed():
    # Adopted after a server restart: no exit status can be read, only its log.
    reason = Runner(spec={"name": "x"}, pid=1, process=None).failure_reason(INFO_ONLY)
    assert "stopped without reporting an error" in reason and "create it again" in reason
