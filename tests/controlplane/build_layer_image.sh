#!/usr/bin/env bash
# An image of the real node made of the tier's Dask image (build_images.sh) plus a few
# Python packages installed into its /opt/dask venv; used for notebook jobs (nbclient,
# ipykernel: build_job_image.sh) and for a cluster whose `distributed` differs from the
# notebook's (test_real_node_versions.py).
#   build_layer_image.sh <name> <dask image archive> [--no-deps] <pin>...
#   prints: <name> rapids-kf.test/<name>:<key> <archive>
# Wheels come from the package index through the host's pip (exact pins); the archive is
# cached next to the Dask image's, keyed by its inputs.
set -euo pipefail
PYTHON="${PYTHON:-$(cd "$(dirname "$0")" && pwd)/../../.venv/bin/python}"
NAME="$1" BASE="$2"; shift 2
DEPS=()
if [[ "${1:-}" == "--no-deps" ]]; then DEPS=(--no-deps); shift; fi
PINS=("$@")
RECIPE=1  # bump when the way the image is made changes
BASE_TAG=$(basename "$BASE" .oci.tar); BASE_TAG=${BASE_TAG#dask-}
KEY=$(printf '%s\n' "$RECIPE" "$BASE_TAG" "${DEPS[@]}" "${PINS[@]}" | sha256sum | cut -c1-16)
OUT="$(dirname "$BASE")/$NAME-$KEY.oci.tar"
report() { echo "$NAME rapids-kf.test/$NAME:$KEY $OUT"; }
[[ -f "$OUT" ]] && { report; exit 0; }
[[ "$(id -u)" == 0 ]] || { echo "build_layer_image.sh needs root (chroot)" >&2; exit 1; }

exec 9>"$(dirname "$BASE")/.build.lock"
flock 9
[[ -f "$OUT" ]] && { report; exit 0; }
WORK=$(mktemp -d "/tmp/rapids-kf-$NAME-image.XXXXXX")
cleanup() {
  awk -v w="$WORK" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r | xargs -r umount -l
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
mkdir "$WORK/layout"
tar -C "$WORK/layout" -xf "$BASE"
umoci unpack --image "$WORK/layout:$BASE_TAG" "$WORK/bundle" >/dev/null
ROOT="$WORK/bundle/rootfs"
"$PYTHON" -m pip download --quiet --only-binary=:all: "${DEPS[@]}" -d "$ROOT/tmp/wheels" "${PINS[@]}" >&2
chroot "$ROOT" env -i HOME=/root PATH=/opt/dask/bin:/usr/bin:/bin LANG=C.UTF-8 \
  /opt/dask/bin/pip install --quiet --no-index --find-links /tmp/wheels --no-compile \
  --disable-pip-version-check "${DEPS[@]}" "${PINS[@]}" >&2
# Each package imports in the image (distributed reads its CPU count through psutil).
MODULES=$(printf '%s\n' "${PINS[@]}" distributed | sed 's/[=<>!~].*//; s/-/_/g' | sort -u | paste -sd,)
mount -t proc proc "$ROOT/proc"
chroot "$ROOT" env -i HOME=/root PATH=/opt/dask/bin:/usr/bin:/bin \
  /opt/dask/bin/python -c "import $MODULES"
umount "$ROOT/proc"
rm -rf "$ROOT/tmp/wheels" "$ROOT/root/.cache"
umoci repack --image "$WORK/layout:$KEY" "$WORK/bundle"
umoci rm --image "$WORK/layout:$BASE_TAG"  # one image in the archive: rapids-kf.test/$NAME:$KEY
umoci gc --layout "$WORK/layout"
tar -C "$WORK/layout" -cf "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
report
