#!/bin/sh
# Adds jupyter-rapids-kf to a notebook image. Run by this directory's Dockerfile, and by the
# test tier's notebook image build (tests/controlplane/build_notebook_image.sh), which runs this
# very file in its chroot, offline from wheels it downloaded (pip takes PIP_NO_INDEX,
# PIP_FIND_LINKS and PIP_CONSTRAINT from the environment): what this file installs is what the
# tests run.
#   sh install.sh              install and check
#   sh install.sh --packages   print what would be installed
# RAPIDS_KF_PACKAGE: what to install as the extension (default `jupyter-rapids-kf`; a pinned
# version, or a wheel's path).
set -eu

# The extension brings its server and JupyterLab parts and its dependencies (JupyterLab,
# jupyter-server-proxy, dask-kubernetes, kr8s). Batch jobs and pipeline steps run in the
# notebook's own image and execute notebooks there: nbclient, nbformat and ipykernel.
PACKAGES="${RAPIDS_KF_PACKAGE:-jupyter-rapids-kf} ipykernel nbclient nbformat"
if [ "${1:-}" = "--packages" ]; then
  echo "$PACKAGES"
  exit 0
fi

# shellcheck disable=SC2086  # one word per package
python -m pip install --no-cache-dir $PACKAGES
python -c 'import jupyter_rapids_kf, jupyterlab, jupyter_server_proxy, dask_kubernetes, kr8s, nbclient, ipykernel'
# The wheel enables its server extension and ships the built JupyterLab extension: check both.
exts=$(jupyter server extension list 2>&1)
echo "$exts" | grep -q "jupyter_rapids_kf.*enabled" \
  || { echo "install.sh: the server extension is not enabled: $exts" >&2; exit 1; }
exts=$(jupyter labextension list 2>&1)
echo "$exts" | grep -q "jupyter-rapids-kf.*enabled" \
  || { echo "install.sh: the JupyterLab extension is not installed: $exts" >&2; exit 1; }
echo "install.sh: jupyter-rapids-kf installed and enabled"
