"""A real cluster on UCX (its TCP transport: this runs on a machine without GPUs), started with the
arguments the local backend gives LocalCUDACluster (models/protocols.py): the scheduler answers on
TCP first (what the server polls) and on UCX, the workers listen on UCX only, and data that moves
between workers (a shuffle) arrives whole.

Needs `distributed-ucxx-cu12`/`-cu13` (not a dependency of this package: it pins its own dask).
Run: python -m venv /tmp/ucx-venv && /tmp/ucx-venv/bin/pip install distributed-ucxx-cu12 pandas pyarrow pytest,
then PYTHONPATH=. /tmp/ucx-venv/bin/python -m pytest --noconftest tests/unit/test_ucx_real.py
"""

from __future__ import annotations

import pytest

from jupyter_rapids_kf.models import protocols

pytest.importorskip("distributed_ucxx", reason="UCX is not installed here (see the module's docstring)")


def test_a_local_cluster_on_ucx_keeps_tcp_for_the_server_and_shuffles_over_ucx(monkeypatch):
    import dask
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client, LocalCluster

    monkeypatch.setenv("UCX_TLS", "tcp,self,sm")  # no GPU here: UCX's host transports
    kwargs = protocols.local_kwargs("ucx", ())
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0",
                      processes=True, **kwargs) as cluster:
        listeners = [listener.contact_address for listener in cluster.scheduler.listeners]
        assert cluster.scheduler.address == listeners[0] and listeners[0].startswith("tcp://")
        assert protocols.ucx_address(listeners) == listeners[1] and listeners[1].startswith("ucx://")
        with Client(cluster.scheduler.address) as client:
            workers = list(client.scheduler_info()["workers"])
            assert len(workers) == 2 and all(w.startswith("ucx://") for w in workers)
            frame = pd.DataFrame({"key": [i % 97 for i in range(20_000)], "value": range(20_000)})
            data = dd.from_pandas(frame, npartitions=8)
            with dask.config.set({"dataframe.shuffle.method": "tasks"}):
                counts = data.shuffle("key").groupby("key")["value"].count().compute()
            assert counts.sum() == 20_000 and len(counts) == 97
        with Client(listeners[1]) as over_ucx:  # a client with UCX reaches the same scheduler
            assert set(over_ucx.scheduler_info()["workers"]) == set(workers)
