"""docs/admin.md's install steps, run as written with the tier's own kubectl (built by build.sh
from the same k8s.io/kubernetes module as the API server), against a fresh state: KubeFlow's
kubeflow-edit alone. Then a user of the profile (default-editor) makes a cluster through our
REST API. Blocks are marked in the doc with `<!-- admin-steps: install|check|uninstall -->` on
the line before a ```sh fence; `NAMESPACE` is the only thing the test sets, as the doc says.
The operator's install (section 1, Helm) is not run: the tier runs the operator itself."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from .conftest import MANIFESTS, PROXY_VARS, SERVICE_ACCOUNT, eventually, in_thread

NAMESPACE = "cp-admin"
ROOT = Path(__file__).resolve().parents[2]
ADMIN = ROOT / "docs" / "admin.md"
MARKED = re.compile(r"^<!-- admin-steps: (\w+) -->\n```sh\n(.*?)^```$", re.M | re.S)
CHECK_WAIT = 60  # seconds: kubeflow-edit's aggregation is the controller-manager's, asynchronous
pytestmark = pytest.mark.controlplane


def admin_steps(text: str) -> list[tuple[str, str]]:
    """(kind, script) of every marked block, in the doc's order."""
    return [(m.group(1), m.group(2)) for m in MARKED.finditer(text)]


def run_block(cp, script: str, namespace: str) -> subprocess.CompletedProcess:
    """The block as an admin's shell runs it: bash, -e (the first failing command fails the block),
    in the repository root, kubectl on PATH, the tier's admin kubeconfig."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS and k != "KUBECONFIG"}
    env.update(PATH=f"{cp.bin_dir}:{env.get('PATH', '/usr/bin:/bin')}",
               KUBECONFIG=str(cp.admin_kubeconfig), NAMESPACE=namespace, HOME=str(cp.work_dir))
    return subprocess.run(["bash", "-e", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def kubectl(cp, *args: str) -> str:
    done = subprocess.run([str(cp.bin_dir / "kubectl"), f"--kubeconfig={cp.admin_kubeconfig}", *args],
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_the_doc_marks_what_an_admin_installs_and_names_every_manifest_directory():
    text = ADMIN.read_text()
    steps = admin_steps(text)
    kinds = [k for k, _ in steps]
    assert kinds.count("install") >= 2 and "check" in kinds and kinds[-1] == "uninstall", kinds
    applied = {m for kind, s in steps if kind == "install" for m in re.findall(r"apply -k (\S+)", s)}
    assert {"manifests/", "manifests/namespace"} <= applied, applied
    # Every kustomization under manifests/ is in the guide, and every manifests/ path it names exists.
    dirs = {str(p.parent.relative_to(ROOT)) for p in MANIFESTS.rglob("kustomization.yaml")}
    assert [d for d in sorted(dirs) if d != "manifests" and not re.search(rf"{re.escape(d)}(?![\w/-])", text)] == []
    named = set(re.findall(r"\bmanifests/[\w./-]*\w", text))
    assert [n for n in sorted(named) if not (ROOT / n).exists()] == []


@pytest.mark.usefixtures("clean_namespace")
async def test_the_documented_steps_run_verbatim_and_a_profile_user_can_make_a_cluster(
        api, control_plane, api_namespace, dask_rights_switch):
    cp = control_plane
    await in_thread(dask_rights_switch.revoke)  # what a fresh KubeFlow has: kubeflow-edit alone
    assert not await in_thread(cp.service_account_can, api_namespace, SERVICE_ACCOUNT, "create",
                               "daskclusters", "kubernetes.dask.org")
    kubectl_version = await in_thread(kubectl, cp, "version", "--client", "-o", "yaml")
    assert yaml.safe_load(kubectl_version)["clientVersion"]["gitVersion"] == cp.api.get("/version")["gitVersion"]
    steps = admin_steps(ADMIN.read_text())
    uninstall = [s for kind, s in steps if kind == "uninstall"]
    try:
        for kind, script in steps:
            if kind == "install":
                done = await in_thread(run_block, cp, script, api_namespace)
                assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
            elif kind == "check":  # repeated as the doc says, until yes or CHECK_WAIT
                deadline = time.monotonic() + CHECK_WAIT
                done = await in_thread(run_block, cp, script, api_namespace)
                while done.returncode != 0 and time.monotonic() < deadline:
                    await in_thread(time.sleep, 1)
                    done = await in_thread(run_block, cp, script, api_namespace)
                assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
                assert done.stdout.split() == ["yes"] * script.count("auth can-i"), done.stdout

        # What kubectl applied is manifests/ as it is: every object kustomize renders exists.
        rendered = [d for d in yaml.safe_load_all(await in_thread(kubectl, cp, "kustomize", str(MANIFESTS))) if d]
        assert {d["kind"] for d in rendered} == {"ClusterRole"}
        for doc in rendered:
            live = yaml.safe_load(await in_thread(kubectl, cp, "get", "clusterrole", doc["metadata"]["name"],
                                                  "-o", "yaml"))
            assert live["rules"] == doc["rules"] and doc["metadata"]["labels"].items() <= live["metadata"]["labels"].items()
        policy = yaml.safe_load(await in_thread(kubectl, cp, "get", "networkpolicy", "-n", api_namespace, "-o", "yaml"))
        assert [p["metadata"]["name"] for p in policy["items"]] == ["jupyter-rapids-kf-dask-schedulers"]

        # The profile's user, through the extension, as a notebook does.
        env = await api.get("environment")
        failed = [c for c in env["checks"] if c["status"] == "failed"]
        assert failed == [], failed
        code, made = await api.call("POST", "clusters", {"name": "after-admin", "workers": 1})
        assert code == 202, made

        async def running():
            cluster = await api.get("clusters/after-admin")
            return cluster if cluster["phase"] == "Running" else None

        deadline = time.monotonic() + 90
        cluster = await running()
        while cluster is None and time.monotonic() < deadline:
            await in_thread(time.sleep, 0.5)
            cluster = await running()
        assert cluster is not None, await api.get("clusters/after-admin")
        assert (cluster["workers"]["desired"], cluster["workers"]["ready"]) == (1, 1)
    finally:
        for script in uninstall:
            done = await in_thread(run_block, cp, script, api_namespace)
            assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
    # Uninstalled as documented: the user is refused again.
    await eventually(lambda: not cp.service_account_can(api_namespace, SERVICE_ACCOUNT, "create", "daskclusters",
                                                        "kubernetes.dask.org"), 60, "kubeflow-edit without our role")
