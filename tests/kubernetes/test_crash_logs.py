"""A crashing scheduler or worker: the card quotes the crashed container's last log line."""

from __future__ import annotations

from . import fake_operator
from .conftest import until

TRACEBACK = """2026-12-04 08:00:01,000 - distributed.nanny - INFO - Start Nanny
Traceback (most recent call last):
  File "/opt/conda/bin/dask-cuda-worker", line 5, in <module>
ModuleNotFoundError: No module named 'dask_cuda'

"""
WORKER = "crashy-default-worker-0000-pod"


def previous_log_reads(k8s, pod: str) -> list[str]:
    return [uri for method, uri in k8s.requests if f"/pods/{pod}/log" in uri and "previous=true" in uri]


async def start_crashing(api, k8s, **fields) -> None:
    code, body = await api.call("POST", "clusters", {"name": "crashy", "workers": 1, **fields})
    assert code == 202, body
    fake_operator.reconcile(k8s, "crashy")
    await api.wait_for("crashy", lambda c: c["phase"] == "Running")


async def test_a_crash_loop_quotes_the_last_line_of_the_crashed_container(api, k8s):
    await start_crashing(api, k8s)
    k8s.previous_logs[WORKER] = TRACEBACK
    fake_operator.pod(k8s, "crashy", "worker", WORKER, ready=False, crashed=(1, 3))
    failed = await api.wait_for("crashy", lambda c: any("No module named" in r for r in c["reasons"]))
    assert failed["phase"] == "Failed"
    [reason] = [r for r in failed["reasons"] if "keeps crashing" in r]
    assert reason.startswith(
        f"worker pod {WORKER} keeps crashing (CrashLoopBackOff, exit code 1): "
        "ModuleNotFoundError: No module named 'dask_cuda'. Check the worker command (dask-cuda-worker)"), reason
    # Read once, as the previous container's log, a few lines at most.
    [uri] = previous_log_reads(k8s, WORKER)
    assert "tailLines=" in uri and "limitBytes=" in uri and "container=worker" in uri

    # The same crash seen again (watch events, status polls) is not read again.
    fake_operator.pod(k8s, "crashy", "worker", WORKER, ready=False, crashed=(1, 3))
    for _ in range(5):
        await api.get("clusters/crashy")
        await api.get("clusters")
    assert len(previous_log_reads(k8s, WORKER)) == 1

    # The next crash is read again: its own last line replaces the old one.
    k8s.previous_logs[WORKER] = "Error: No such option: --nthreadz\n"
    fake_operator.pod(k8s, "crashy", "worker", WORKER, ready=False, crashed=(2, 4))
    failed = await api.wait_for("crashy", lambda c: any("--nthreadz" in r for r in c["reasons"]))
    assert not any("dask_cuda" in r for r in failed["reasons"]), failed["reasons"]
    assert any("(CrashLoopBackOff, exit code 2): Error: No such option: --nthreadz" in r for r in failed["reasons"])
    assert len(previous_log_reads(k8s, WORKER)) == 2


async def test_a_crashing_scheduler_says_so_and_its_line(api, k8s):
    await start_crashing(api, k8s)
    scheduler = "crashy-scheduler-7d9f8-abcde"
    k8s.previous_logs[scheduler] = "/usr/bin/sh: 1: dask-scheduler: not found\n"
    fake_operator.pod(k8s, "crashy", "scheduler", scheduler, ready=False, crashed=(127, 1))
    failed = await api.wait_for("crashy", lambda c: any("not found" in r for r in c["reasons"]))
    assert failed["phase"] == "Failed" and failed["scheduler"]["ready"] is False
    assert any(r.startswith(f"scheduler pod {scheduler} keeps crashing (CrashLoopBackOff, exit code 127): "
                            "/usr/bin/sh: 1: dask-scheduler: not found. Check that the image starts `dask scheduler`")
               for r in failed["reasons"]), failed["reasons"]


async def test_without_the_right_to_read_logs_the_crash_is_still_told(api, k8s):
    k8s.denied.add(("get", "pods/log"))
    await start_crashing(api, k8s)
    k8s.previous_logs[WORKER] = TRACEBACK
    fake_operator.pod(k8s, "crashy", "worker", WORKER, ready=False, crashed=(1, 1))
    failed = await api.wait_for("crashy", lambda c: c["phase"] == "Failed")
    await until(lambda: previous_log_reads(k8s, WORKER), what="the refused log read")
    cluster = await api.get("clusters/crashy")
    [reason] = [r for r in cluster["reasons"] if "keeps crashing" in r]
    assert reason.startswith(f"worker pod {WORKER} keeps crashing (CrashLoopBackOff, exit code 1). Check"), reason
    assert failed["phase"] == cluster["phase"] == "Failed"
