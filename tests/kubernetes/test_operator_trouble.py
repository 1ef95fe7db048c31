"""An operator that does not act is named: on new clusters, on deletions, in the preflight."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest


@pytest.fixture
def k8s_config():
    return {"operator_timeout": 1, "deletion_timeout": 1}


async def test_silent_operator_and_stuck_deletion_are_reasons_and_a_failed_check(api, k8s):
    code, cluster = await api.call("POST", "clusters", {"name": "ignored"})
    assert code == 202 and cluster["phase"] == "Creating"
    cluster = await api.wait_for("ignored", lambda c: any("has not acted" in r for r in c["reasons"]), timeout=10)
    assert cluster["phase"] == "Creating"
    env = await api.get("environment")
    check = next(c for c in env["checks"] if c["name"] == "operator")
    assert not check["ok"] and "ignored" in check["message"] and "kubectl get pods" in check["fix"]

    dc = k8s.get("daskclusters", "ignored")
    dc["metadata"]["finalizers"] = ["kopf.zalando.org/KopfFinalizerMarker"]
    k8s.put("daskclusters", dc)
    code, cluster = await api.call("DELETE", "clusters/ignored")
    assert code == 202 and cluster["phase"] == "Deleting"
    cluster = await api.wait_for("ignored", lambda c: any("finalizer" in r for r in c["reasons"]), timeout=10)
    assert "kubectl patch daskcluster ignored" in cluster["reasons"][0]


async def test_doctor_runs_the_same_checks_in_a_terminal(k8s, tmp_path):
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    k8s.deny("patch", "daskworkergroups")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jupyter_rapids_kf.doctor", "doctor", "--json", "--backend=kubernetes",
        f"--namespace={k8s.namespace}", "--RapidsKF.configure_proxy_allowlist=False", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 1, err.decode()[-2000:]
    report = json.loads(out)
    assert report["backend"] == "kubernetes" and report["namespace"] == k8s.namespace
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["crd"]["ok"] and checks["kubernetes"]["ok"]
    assert not checks["permissions"]["ok"] and "patch daskworkergroups" in checks["permissions"]["message"]
    # With the allowlist off, /proxy links to dashboards will not work: the doctor says so.
    assert checks["proxy-allowlist"]["status"] == "failed"
    assert "configure_proxy_allowlist is False" in checks["proxy-allowlist"]["message"]
