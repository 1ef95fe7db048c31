"""Permissions through the extension's REST API, decided by the real API server's RBAC:
KubeFlow's kubeflow-edit alone, with our manifests/ aggregated into it, and another
profile's namespace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_rapids_kf.backends.kubernetes.checks import PERMISSIONS

from .conftest import (
    DASK_API,
    NOTEBOOK_POD,
    PROXY_VARS,
    SERVICE_ACCOUNT,
    daskcluster_body,
    eventually,
    in_thread,
)

NAMESPACE = "cp-perms"
OTHER = "cp-perms-other"  # another user's profile
pytestmark = [pytest.mark.controlplane, pytest.mark.usefixtures("clean_namespace")]

DASK_VERBS = ("get", "list", "watch", "create", "patch", "delete")
READ_ONLY_ROLE = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRole",
    "metadata": {"name": "test-dask-read-only", "labels": {
        "rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit": "true"}},
    "rules": [{"apiGroups": ["kubernetes.dask.org"],
               "resources": ["daskclusters", "daskworkergroups", "daskautoscalers"],
               "verbs": ["get", "list", "watch"]}],
}


def doctor(kubeconfig: Path, namespace: str, tmp_path: Path) -> tuple[int, dict]:
    """`jupyter rapids-kf doctor --json` as a user would run it in the notebook's terminal."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env.update(KUBECONFIG=str(kubeconfig), HOSTNAME=NOTEBOOK_POD,
               JUPYTER_CONFIG_DIR=str(tmp_path / "doctor-config"))
    jupyter = Path(sys.executable).with_name("jupyter")
    done = subprocess.run(
        [str(jupyter), "rapids-kf", "doctor", "--backend=kubernetes", f"--namespace={namespace}",
         "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout)


def checks_by_name(report: dict) -> dict[str, dict]:
    return {c["name"]: c for c in report["checks"]}


def daskclusters_in(control_plane, namespace: str) -> list[str]:
    path = f"{DASK_API}/namespaces/{namespace}/daskclusters"
    return [d["metadata"]["name"] for d in control_plane.api.get(path)["items"]]


async def test_without_our_manifests_create_is_forbidden_and_doctor_fails(
        api, control_plane, api_namespace, as_service_account, no_dask_rights, tmp_path, caplog):
    code, body = await api.call("POST", "clusters", {"name": "not-allowed"})
    assert code == 403, body
    error = body["error"]
    assert error["code"] == "forbidden"
    # The permission, the resource and the namespace, in the API server's words too.
    assert "daskclusters.kubernetes.dask.org" in error["message"]
    assert f"namespace {api_namespace}" in error["message"]
    assert f"system:serviceaccount:{api_namespace}:{SERVICE_ACCOUNT}" in error["message"]
    assert "manifests/" in error["fix"] and "kubeflow-edit" in error["fix"]
    # Answered at the refusal, not after the backend's 5 s grace period for first lists.
    assert not [r for r in caplog.records if "not readable yet" in r.getMessage()]
    assert await in_thread(daskclusters_in, control_plane, api_namespace) == []

    env = await api.get("environment")
    permissions = checks_by_name(env)["permissions"]
    assert permissions["ok"] is False
    for verb in DASK_VERBS:
        assert f"{verb} daskclusters.kubernetes.dask.org" in permissions["message"]
    # kubeflow-edit's own rights (pods, services, events, logs) are not reported missing.
    assert "pods" not in permissions["message"] and "events" not in permissions["message"]
    assert "manifests/" in permissions["fix"]

    code, report = await in_thread(doctor, as_service_account, api_namespace, tmp_path)
    assert code == 1
    checks = checks_by_name(report)
    assert checks["kubernetes"]["ok"] and checks["crd"]["ok"]
    assert checks["permissions"]["ok"] is False
    assert checks["permissions"]["message"] == permissions["message"]
    assert checks["cache"]["ok"] is False and "forbidden" in checks["cache"]["message"]


async def test_without_our_manifests_a_job_is_refused_naming_daskjobs(api, control_plane, api_namespace,
                                                                        no_dask_rights, jp_root_dir):
    (jp_root_dir / "etl.py").write_text("print(1)\n")
    code, body = await api.call("POST", "jobs", {"path": "etl.py", "name": "etl"})
    assert code == 403, body
    assert "daskjobs.kubernetes.dask.org" in body["error"]["message"]
    assert "manifests/" in body["error"]["fix"]
    jobs = checks_by_name(await api.get("environment"))["jobs"]
    assert jobs["status"] == "failed"
    assert "create daskjobs.kubernetes.dask.org" in jobs["message"] and "manifests/" in jobs["fix"]
    path = f"{DASK_API}/namespaces/{api_namespace}/daskjobs"
    assert (await in_thread(control_plane.api.get, path))["items"] == []  # nothing was made


async def test_read_only_rights_refuse_create_naming_create(api, control_plane, api_namespace,
                                                            no_dask_rights):
    """A role that lets notebooks see but not make clusters: the refusal names `create`."""
    sa_can = control_plane.service_account_can
    await in_thread(control_plane.api.apply, READ_ONLY_ROLE)
    try:
        await eventually(lambda: sa_can(api_namespace, SERVICE_ACCOUNT, "list", "daskclusters",
                                        "kubernetes.dask.org"), 30, "the read-only role")
        assert (await api.get("clusters"))["clusters"] == []
        code, body = await api.call("POST", "clusters", {"name": "read-only"})
        assert code == 403, body
        assert body["error"]["message"].startswith(
            f"not allowed to create daskclusters.kubernetes.dask.org in namespace {api_namespace}")
        assert "manifests/" in body["error"]["fix"]
        env = await api.get("environment")
        permissions = checks_by_name(env)["permissions"]
        assert not permissions["ok"]
        assert "create daskclusters.kubernetes.dask.org" in permissions["message"]
        assert "list daskclusters" not in permissions["message"]
    finally:
        await in_thread(control_plane.api.delete, READ_ONLY_ROLE)


async def test_with_our_manifests_doctor_passes_and_create_works(
        api, control_plane, api_namespace, as_service_account, dask_rights, tmp_path):
    code, report = await in_thread(doctor, as_service_account, api_namespace, tmp_path)
    failed = [c for c in report["checks"] if c["status"] == "failed"]
    assert code == 0 and failed == [], failed
    # Only what reads nodes may be unknown (GPU capacity, the nodes holding the image): that
    # needs manifests/optional, not applied here; and the operator, with no cluster yet to
    # tell from.
    maybe_unknown = {"gpus", "image-nodes", "operator"}
    assert {c["name"] for c in report["checks"] if c["status"] == "unknown"} <= maybe_unknown, report["checks"]
    checks = checks_by_name(report)
    assert checks["permissions"]["message"] == (
        f"all {len(PERMISSIONS)} permissions granted in namespace {api_namespace}")
    assert report["backend"] == "kubernetes" and report["namespace"] == api_namespace

    env = await api.get("environment")
    assert [c for c in env["checks"] if c["status"] == "failed"] == []
    assert {c["name"] for c in env["checks"] if c["status"] == "unknown"} <= maybe_unknown, env["checks"]
    code, cluster = await api.call("POST", "clusters", {"name": "allowed", "workers": 1})
    assert code == 202, cluster
    assert await in_thread(daskclusters_in, control_plane, api_namespace) == ["allowed"]


async def test_another_profiles_clusters_are_invisible_and_untouchable(
        api, raw_get, jp_serverapp, control_plane, api_namespace, profiles, dask_rights):
    other = profiles(OTHER)
    theirs = daskcluster_body("theirs", other, workers=1, gpus=0)
    await in_thread(control_plane.api.request, "POST",
                    f"{DASK_API}/namespaces/{other}/daskclusters", json=theirs)
    try:
        code, mine = await api.call("POST", "clusters", {"name": "mine", "workers": 1})
        assert code == 202, mine
        # Their cluster is not listed, and every route on it answers 404.
        assert [c["name"] for c in (await api.get("clusters"))["clusters"]] == ["mine"]
        for method, path, body in (
            ("GET", "clusters/theirs", None),
            ("PATCH", "clusters/theirs", {"workers": 3}),
            ("PATCH", "clusters/theirs", {"adapt": {"minimum": 1, "maximum": 2}}),
            ("DELETE", "clusters/theirs", None),
            ("GET", "clusters/theirs/snippet", None),
            ("GET", "clusters/theirs/logs", None),
        ):
            code, answer = await api.call(method, path, body)
            assert code == 404 and answer["error"]["code"] == "not_found", (method, path, answer)
        base = jp_serverapp.base_url
        # The dashboard route looks the name up first: nothing is proxied or resolved.
        response = await raw_get(f"{base}rapids-kf/clusters/theirs/dashboard/status")
        assert response.code == 404

        # Namespace tricks: names are DNS labels, bodies and queries have no namespace.
        for path in (f"clusters/theirs.{other}", f"clusters/{other}%2Ftheirs",
                     f"clusters/..%2F..%2Fnamespaces%2F{other}%2Fdaskclusters%2Ftheirs"):
            for method in ("GET", "DELETE"):
                response = await raw_get(f"{base}rapids-kf/{path}", method=method)
                assert response.code in (400, 404), (method, path, response.code)
                assert json.loads(response.body)["error"]["code"] in ("invalid", "not_found")
        code, answer = await api.call("POST", "clusters", {"name": "sneaky", "namespace": other})
        assert code == 400 and answer["error"]["code"] == "invalid", answer
        response = await raw_get(f"{base}rapids-kf/clusters?namespace={other}")
        assert [c["name"] for c in json.loads(response.body)["clusters"]] == ["mine"]

        # The dashboard proxy's allowlist admits this namespace's schedulers only.
        backend = jp_serverapp.web_app.settings["rapids_kf_service"]._backend
        assert backend.allowlist.allows(f"mine-scheduler.{api_namespace}", 8787)
        assert not backend.allowlist.allows(f"theirs-scheduler.{other}", 8787)
        assert not backend.allowlist.allows(f"theirs-scheduler.{other}.svc.cluster.local", 8787)

        # Their cluster is as it was; nothing was made in their namespace.
        dc = await in_thread(control_plane.api.get,
                             f"{DASK_API}/namespaces/{other}/daskclusters/theirs")
        assert dc["spec"]["worker"]["replicas"] == 1
        assert "deletionTimestamp" not in dc["metadata"]
        assert await in_thread(daskclusters_in, control_plane, other) == ["theirs"]
    finally:
        await in_thread(control_plane.api.delete, theirs)


class TestConfiguredForAnotherNamespace:
    """A user who points their own server at someone else's namespace
    (c.RapidsKF.namespace) still acts as their own service account: the API server
    refuses, and the refusal reaches them."""

    @pytest.fixture
    def rapids_kf_config(self, api_namespace, as_service_account, profiles):
        return {"backend": "kubernetes", "namespace": profiles(OTHER), "gpu_metrics_interval": 0}

    async def test_the_api_server_refuses_and_says_so(self, api, control_plane, dask_rights):
        code, body = await api.call("GET", "clusters")
        assert code == 403 and body["error"]["code"] == "forbidden", body
        assert f"list daskclusters.kubernetes.dask.org in namespace {OTHER}" in body["error"]["message"]
        code, body = await api.call("POST", "clusters", {"name": "intruder"})
        assert code == 403 and body["error"]["code"] == "forbidden", body
        code, body = await api.call("DELETE", "clusters/theirs")
        assert code == 403, body
        env = await api.get("environment")
        assert not checks_by_name(env)["permissions"]["ok"]
        assert await in_thread(daskclusters_in, control_plane, OTHER) == []
