#!/usr/bin/env bash
# The image of notebook jobs on the real node: the tier's Dask image (build_images.sh) plus
# nbclient, nbformat and ipykernel, which a job's runner needs to execute a notebook. The
# runner itself travels in the job's ConfigMap; jupyter-rapids-kf is not installed.
#   build_job_image.sh <dask image archive>   prints: jobs <reference> <archive>
# Wheels come from the package index through pip (pinned to this checkout's versions); the
# archive is cached next to the Dask image's, keyed by its inputs.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${PYTHON:-$HERE/../../.venv/bin/python}"
BASE="$1"
RECIPE=1  # bump when the way the image is made changes
PACKAGES=(nbclient nbformat ipykernel)
PINS=$("$PYTHON" - "${PACKAGES[@]}" <<'PY'
import sys
from importlib.metadata import version
for name in sys.argv[1:]:
    print(f"{name}=={version(name)}")
PY
)
BASE_TAG=$(basename "$BASE" .oci.tar); BASE_TAG=${BASE_TAG#dask-}
KEY=$(printf '%s\n' "$RECIPE" "$BASE_TAG" "$PINS" | sha256sum | cut -c1-16)
OUT="$(dirname "$BASE")/jobs-$KEY.oci.tar"
report() { echo "jobs rapids-kf.test/jobs:$KEY $OUT"; }
[[ -f "$OUT" ]] && { report; exit 0; }
[[ "$(id -u)" == 0 ]] || { echo "build_job_image.sh needs root (chroot)" >&2; exit 1; }

exec 9>"$(dirname "$BASE")/.build.lock"
flock 9
[[ -f "$OUT" ]] && { report; exit 0; }
WORK=$(mktemp -d /tmp/rapids-kf-job-image.XXXXXX)
cleanup() {
  awk -v w="$WORK" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r | xargs -r umount -l
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
mkdir "$WORK/layout"
tar -C "$WORK/layout" -xf "$BASE"
umoci unpack --image "$WORK/layout:$BASE_TAG" "$WORK/bundle" >/dev/null
ROOT="$WORK/bundle/rootfs"
# shellcheck disable=SC2086  # one pin per word
"$PYTHON" -m pip download --quiet --only-binary=:all: -d "$ROOT/tmp/wheels" $PINS >&2
# shellcheck disable=SC2086
chroot "$ROOT" env -i HOME=/root PATH=/opt/dask/bin:/usr/bin:/bin LANG=C.UTF-8 \
  /opt/dask/bin/pip install --quiet --no-index --find-links /tmp/wheels --no-compile \
  --disable-pip-version-check $PINS >&2
mount -t proc proc "$ROOT/proc"  # distributed reads its CPU count through psutil
chroot "$ROOT" env -i HOME=/root PATH=/opt/dask/bin:/usr/bin:/bin \
  /opt/dask/bin/python -c 'import nbclient, nbformat, ipykernel, distributed'
umount "$ROOT/proc"
rm -rf "$ROOT/tmp/wheels" "$ROOT/root/.cache"
umoci repack --image "$WORK/layout:$KEY" "$WORK/bundle"
umoci rm --image "$WORK/layout:$BASE_TAG"  # one image in the archive: rapids-kf.test/jobs:$KEY
umoci gc --layout "$WORK/layout"
tar -C "$WORK/layout" -cf "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
report
