"""Batch runs: a notebook or .py file run as a job against its own Dask cluster.

`run` is what executes inside the job (a DaskJob's runner pod, or a local subprocess);
`service`, `handlers` and the `local` / `kubernetes` backends serve `rapids-kf/jobs`.
"""
