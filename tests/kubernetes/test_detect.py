"""`backend = "auto"` and the namespace: where they come from, in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_rapids_kf.backends import choose_backend
from jupyter_rapids_kf.backends.kubernetes import client, detect
from jupyter_rapids_kf.config import RapidsKF

from ..ports import free_port


@pytest.fixture
def no_service_account(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "serviceaccount"
    folder.mkdir()
    monkeypatch.setattr(client, "SERVICE_ACCOUNT_DIR", folder)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    return folder


def test_namespace_order_config_then_service_account_then_kubeconfig(k8s, tmp_path, no_service_account, monkeypatch):
    k8s.write_kubeconfig(Path(client.os.environ["KUBECONFIG"]), namespace="from-context")
    assert client.detect_namespace("") == ("from-context", "the kubeconfig context")
    (no_service_account / "namespace").write_text("kubeflow-user-example-com\n")
    assert client.detect_namespace("")[0] == "kubeflow-user-example-com"
    assert client.detect_namespace("admin-choice") == ("admin-choice", "c.RapidsKF.namespace")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    (no_service_account / "namespace").unlink()
    assert client.detect_namespace("")[0] == "default"


async def test_auto_picks_kubernetes_when_the_crd_is_served(k8s, tmp_path, no_service_account):
    usable, why = await detect(RapidsKF())
    assert usable and "DaskCluster CRD served" in why
    backend, reason = await choose_backend(RapidsKF(namespace=k8s.namespace), tmp_path)
    assert backend.name == "kubernetes" and backend.namespace == k8s.namespace


async def test_auto_falls_back_to_local_and_says_why(k8s, tmp_path, no_service_account, monkeypatch):
    k8s.crd_served = False
    usable, why = await detect(RapidsKF())
    assert not usable and "CRD is not served" in why
    backend, reason = await choose_backend(RapidsKF(), tmp_path)
    assert backend.name == "local" and "operator not installed" in reason and "local processes" in reason

    k8s.port = free_port()  # a loopback port with nobody listening
    k8s.write_kubeconfig(Path(client.os.environ["KUBECONFIG"]))
    usable, why = await detect(RapidsKF())
    assert not usable and "not usable" in why

    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    usable, why = await detect(RapidsKF())
    assert not usable and why.startswith("no Kubernetes credentials")
