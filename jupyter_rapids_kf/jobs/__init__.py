"""Batch jobs: a notebook or .py file run against its own Dask cluster (`rapids-kf/jobs`).

`routes` and `service` here; what a run is (its request, the file, the runner) is in batch/,
where jobs run (local subprocesses, the operator's DaskJob) in each backend's `jobs.py`.
"""
