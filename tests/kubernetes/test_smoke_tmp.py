from . import fake_operator

async def test_create_and_list(api, k8s):
    code, body = await api.call("POST", "clusters", {"name": "gpu-etl", "workers": 2})
    assert code == 202, body
    print(body)
    assert k8s.validation == []
    fake_operator.reconcile(k8s, "gpu-etl")
    c = await api.wait_for("gpu-etl", lambda c: c["phase"] == "Running", timeout=10)
    print(c)
    env = await api.get("environment")
    print(env)
