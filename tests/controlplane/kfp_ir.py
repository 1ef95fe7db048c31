"""A task of a compiled KubeFlow Pipelines (v2 IR) pipeline as the Pod KFP would run it.

No KFP backend runs here. KFP's driver resolves a task's inputs (the run's parameters, else
the pipeline's defaults, passed down through the DAGs; runtime constants such as
`{{$.pipeline_job_uuid}}`) and its launcher runs the executor's container command and args
with the placeholders filled in. This does the same from the IR file itself, so the Pod runs
the image, command and args that the exported YAML holds, nothing written by hand. What it
leaves out: KFP's launcher wrapper (`/kfp-launcher/launch`) and the upload of output
artifacts to object storage (an output artifact is a path in the container here).
"""

from __future__ import annotations

import re
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\$\.(inputs\.parameters\['([^']+)'\]|outputs\.artifacts\['([^']+)'\]\.path)\}\}")
OUTPUTS = "/tmp/kfp/outputs"  # where output artifacts go in the container


def _dags(ir: dict) -> dict[str, dict]:
    """Every DAG by the name of its component ("root" for the pipeline's own)."""
    dags = {"root": ir["root"]["dag"]}
    dags.update({name: comp["dag"] for name, comp in ir["components"].items() if "dag" in comp})
    return dags


def _where(ir: dict, task: str) -> tuple[str, dict]:
    """(the component whose DAG holds the task, the task)."""
    for owner, dag in _dags(ir).items():
        if task in dag["tasks"]:
            return owner, dag["tasks"][task]
    raise KeyError(f"no task {task!r} in the pipeline")


def _caller(ir: dict, component: str) -> tuple[str, dict]:
    """The task (and its DAG's component) that runs a DAG component such as an exit handler."""
    for owner, dag in _dags(ir).items():
        for spec in dag["tasks"].values():
            if spec["componentRef"]["name"] == component:
                return owner, spec
    raise KeyError(f"no task runs {component!r}")


def _value(ir: dict, owner: str, spec: dict, run_id: str, parameters: dict[str, str]) -> str:
    if "runtimeValue" in spec:
        return str(spec["runtimeValue"]["constant"]).replace("{{$.pipeline_job_uuid}}", run_id)
    name = spec["componentInputParameter"]
    if owner == "root":  # the run's parameter, else the pipeline's default
        if name in parameters:
            return parameters[name]
        return ir["root"]["inputDefinitions"]["parameters"][name]["defaultValue"]
    parent_owner, caller = _caller(ir, owner)
    return _value(ir, parent_owner, caller["inputs"]["parameters"][name], run_id, parameters)


def task_container(ir: dict, task: str, run_id: str, parameters: dict[str, str] | None = None) -> dict:
    """The container of `task` with every placeholder resolved: {image, command, args}."""
    owner, spec = _where(ir, task)
    component = ir["components"][spec["componentRef"]["name"]]
    container = ir["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
    inputs = {name: _value(ir, owner, value, run_id, parameters or {})
              for name, value in spec.get("inputs", {}).get("parameters", {}).items()}

    def fill(arg: str) -> str:
        def one(match: re.Match) -> str:
            if match.group(2):
                return inputs[match.group(2)]
            return f"{OUTPUTS}/{task}/{match.group(3)}"
        filled = PLACEHOLDER.sub(one, arg)
        if "{{$" in filled:
            raise ValueError(f"task {task}: placeholder not understood in {arg!r}")
        return filled

    return {"image": container["image"], "command": [fill(a) for a in container.get("command", [])],
            "args": [fill(a) for a in container.get("args", [])]}


def task_pod(ir: dict, task: str, run_id: str, *, name: str, namespace: str, service_account: str,
             parameters: dict[str, str] | None = None) -> dict:
    """The Pod of one task of the run, in the profile namespace, as the run's service account.
    The image pull policy is left to Kubernetes' default, as KFP leaves it."""
    container = task_container(ir, task, run_id, parameters)
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"rapids-kf.test/task": task}},
        "spec": {"restartPolicy": "Never", "serviceAccountName": service_account,
                 "containers": [{"name": "main", **container}]},
    }
