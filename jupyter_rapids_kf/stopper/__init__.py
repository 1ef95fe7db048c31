"""Stop means stop: an admin-installed controller that releases the GPUs of a stopped KubeFlow
notebook's clusters (`python -m jupyter_rapids_kf.stopper`; manifests/stopper; docs/lifecycle.md).

KubeFlow's Stop button and culler set `kubeflow-resource-stopped` on the Notebook and scale its
StatefulSet to 0, so nothing of the notebook's own server runs; this runs beside the operator.
"""
