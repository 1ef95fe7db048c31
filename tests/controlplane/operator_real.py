"""Entry point of the real node's operator: dask-kubernetes' controller, unchanged (every
call to a scheduler is real), with the settings of its own start-up handler (kopf watch
timeouts of 120 s server / 150 s client, set by the controller itself), as a Helm install
of the operator runs it. Only the namespaces differ: this tier's operator watches `real-*`
by pattern (kopf's namespace observer), a Helm install `--all-namespaces`."""

from __future__ import annotations

from dask_kubernetes.operator.controller import controller  # noqa: F401  (registers the handlers)
