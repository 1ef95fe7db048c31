"""Jobs on the local backend, through the real server: a notebook run as a job computes on its
own LocalCluster, its executed copy appears next to it; a failing cell fails the job with that
error; cancel ends the processes; bad requests are clear errors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

import nbformat
import pytest

pytestmark = pytest.mark.timeout(300)


def write_notebook(path, *sources: str, parameters: str | None = None) -> None:
    nb = nbformat.v4.new_notebook()
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


COMPUTE = (
    "from distributed import Client\n"
    "client = Client()  # DASK_SCHEDULER_ADDRESS: the job's own cluster\n"
    "workers = len(client.scheduler_info()['workers'])\n"
    "total = client.submit(lambda k: sum(range(k)), n).result()\n"
    "print(f'workers={workers} total={total}')"
)


async def wait_job(api, name: str, phases: tuple[str, ...], timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    job = None
    while time.monotonic() < deadline:
        code, job = await api.call("GET", f"jobs/{name}")
        assert code == 200, job
        if job["phase"] in phases and (job["phase"] not in ("Successful", "Failed") or job["output"] or job["error"]):
            return job
        await asyncio.sleep(0.5)
    raise AssertionError(f"job {name} not {phases} after {timeout}s: {job}")


async def test_a_notebook_job_computes_and_its_executed_copy_appears(api, events, jp_root_dir):
    write_notebook(jp_root_dir / "work" / "etl.ipynb", COMPUTE, parameters="n = 10")
    async with events() as stream:
        code, job = await api.call("POST", "jobs", {"path": "work/etl.ipynb", "name": "etl-job",
                                                    "parameters": {"n": 100}, "cluster": {"workers": 2}})
        assert code == 202, job
        assert job["name"] == "etl-job" and job["backend"] == "local" and job["file"] == "work/etl.ipynb"
        assert job["phase"] == "Running" and job["workers"] == 2 and job["parameters"] == {"n": 100}
        done = await stream.next("job", lambda j: j["name"] == "etl-job" and j["phase"] == "Successful",
                                 timeout=180)
    assert done["output"] == "work/etl.etl-job.ipynb" and done["error"] is None
    assert done["started"] and done["finished"]
    executed = nbformat.read(jp_root_dir / "work" / "etl.etl-job.ipynb", as_version=4)
    texts = [o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert "workers=2 total=4950\n" in texts  # the injected n=100 won over the cell's n=10
    assert "injected-parameters" in executed.cells[1].metadata["tags"]
    listed = (await api.get("jobs"))["jobs"]
    assert [j["name"] for j in listed] == ["etl-job"]
    logs = (await api.get("jobs/etl-job/logs"))["lines"]
    assert any("running etl.ipynb on the Dask cluster at tcp://127.0.0.1:" in line for line in logs), logs
    code, gone = await api.call("DELETE", "jobs/etl-job")
    assert code == 202 and gone["phase"] == "Deleting"
    code, _ = await api.call("GET", "jobs/etl-job")
    assert code == 404
    assert (jp_root_dir / "work" / "etl.etl-job.ipynb").exists()  # the executed copy stays


async def test_a_failing_cell_fails_the_job_with_its_error(api, jp_root_dir):
    write_notebook(jp_root_dir / "bad.ipynb", "x = 1", "1 / 0", "print('never')")
    code, job = await api.call("POST", "jobs", {"path": "bad.ipynb", "cluster": {"workers": 1}})
    assert code == 202, job
    assert job["name"].startswith("bad-")
    failed = await wait_job(api, job["name"], ("Failed",))
    assert failed["error"] == "ZeroDivisionError: division by zero"
    executed = nbformat.read(jp_root_dir / failed["output"], as_version=4)
    assert executed.cells[1].outputs[0]["ename"] == "ZeroDivisionError"
    assert executed.cells[2].outputs == []  # nothing ran after the failing cell
    await api.call("DELETE", f"jobs/{job['name']}")


async def test_a_python_file_job_and_its_log_copy(api, jp_root_dir):
    (jp_root_dir / "count.py").write_text(
        "from distributed import Client\nprint('sum', Client().submit(sum, range(n)).result())\n")
    code, job = await api.call("POST", "jobs", {"path": "count.py", "name": "count", "parameters": {"n": 5}})
    assert code == 202, job
    done = await wait_job(api, "count", ("Successful", "Failed"))
    assert done["phase"] == "Successful", done
    assert "sum 10" in (jp_root_dir / "count.count.log").read_text()
    await api.call("DELETE", "jobs/count")


def job_processes(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if marker in line and "jupyter_rapids_kf.batch.runner" in line]


async def test_cancel_ends_the_job_and_its_processes(api, jp_root_dir):
    write_notebook(jp_root_dir / "slow-job.ipynb", "import time\ntime.sleep(600)")
    code, job = await api.call("POST", "jobs", {"path": "slow-job.ipynb", "name": "slow", "cluster": {"workers": 1}})
    assert code == 202, job
    assert job_processes("slow-job.ipynb")
    code, cancelled = await api.call("DELETE", "jobs/slow")
    assert code == 202 and cancelled["phase"] == "Deleting"
    deadline = time.monotonic() + 20
    while job_processes("slow-job.ipynb") and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert job_processes("slow-job.ipynb") == []
    assert (await api.get("jobs"))["jobs"] == []


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({}, 400, "path"),
        ({"path": "../etc/passwd.py"}, 400, "path"),
        ({"path": "/etc/x.py"}, 400, "path"),
        ({"path": "notes.txt"}, 400, "path"),
        ({"path": "missing.ipynb"}, 404, "path"),
        ({"path": "ok.py", "colour": 1}, 400, "colour"),
        ({"path": "ok.py", "parameters": {"not a name": 1}}, 400, "parameters"),
        ({"path": "ok.py", "parameters": [1]}, 400, "parameters"),
        ({"path": "ok.py", "name": "Bad_Name"}, 400, "name"),
        ({"path": "ok.py", "cluster": {"workers": 99}}, 403, "workers"),
        ({"path": "ok.py", "cluster": {"image": "x"}}, 400, "image"),
        ({"path": "ok.py", "cluster": {"name": "x"}}, 400, "cluster.name"),
    ],
)
async def test_bad_job_requests_are_clear_errors(api, jp_root_dir, body, status, field):
    (jp_root_dir / "ok.py").write_text("print(1)\n")
    code, error = await api.call("POST", "jobs", body)
    assert code == status, error
    assert error["error"]["field"] == field, error
    assert (await api.get("jobs"))["jobs"] == []


async def test_unknown_job_is_404_and_bad_tail_400(api):
    code, error = await api.call("GET", "jobs/nope")
    assert code == 404 and error["error"]["code"] == "not_found"
    code, error = await api.call("DELETE", "jobs/nope")
    assert code == 404
    code, error = await api.call("GET", "jobs/nope/logs", tail="x")
    assert code == 400 and error["error"]["field"] == "tail"
