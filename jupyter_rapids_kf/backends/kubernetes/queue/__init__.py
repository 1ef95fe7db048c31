"""Kueue: clusters and jobs that wait for quota instead of failing (docs/kueue.md).

`labels.py` marks the pods Kueue must admit; `choose.py` picks the LocalQueue; `state.py` says
where a cluster stands (pure); `watch.py` keeps Kueue's objects of the namespace current.
"""
