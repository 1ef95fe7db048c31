"""What jobs and pipelines share: a run's request, the user's file, and the runner that executes it
(in a DaskJob's pod, a local subprocess or a pipeline step)."""
