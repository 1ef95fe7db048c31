#!/usr/bin/env bash
# Builds the images of the real test node from packages, no registry and no Docker:
#  - dask: a minimal Debian rootfs (debootstrap) with a venv in /opt/dask holding
#    distributed, dask[dataframe], pandas, pyarrow and bokeh at the versions of this
#    checkout's Python environment;
#  - pause: the pod sandbox image, one static binary built from go/pause.main.go.
# Each is an OCI archive (umoci) for `ctr -n k8s.io images import`, cached outside the
# repository under a key of its inputs (the recipe version below, the Debian suite, the
# pinned versions; the pause source and Go version); present archives are not rebuilt.
# Prints one line per image: <name> <reference> <archive>.
set -euo pipefail

RECIPE=2  # bump when the way an image is made changes
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-$HERE/../../.venv/bin/python}"
SUITE="${DEBIAN_SUITE:-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE_ROOT="${RAPIDS_KF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jupyter-rapids-kf}"
IMAGE_DIR="$CACHE_ROOT/images"
# What goes into the Dask image; bokeh serves the dashboard.
PACKAGES=(distributed "dask[dataframe]" pandas pyarrow bokeh)

# Pins from the checkout's environment, so the image's Dask matches the notebook's.
PINS=$("$PYTHON" - "${PACKAGES[@]}" <<'PY'
import re, sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name = re.sub(r"\[.*\]", "", spec)
    print(f"{spec}=={version(name)}")
PY
)
PY_VERSION=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
key() { sha256sum | cut -c1-16; }
DASK_KEY=$(printf '%s\n' "$RECIPE" "$SUITE" "$PY_VERSION" "$PINS" | key)
PAUSE_KEY=$( { echo "$RECIPE"; go version; cat "$HERE/go/pause.main.go"; } | key)
DASK_ARCHIVE="$IMAGE_DIR/dask-$DASK_KEY.oci.tar"
PAUSE_ARCHIVE="$IMAGE_DIR/pause-$PAUSE_KEY.oci.tar"

report() {
  echo "dask rapids-kf.test/dask:$DASK_KEY $DASK_ARCHIVE"
  echo "pause rapids-kf.test/pause:$PAUSE_KEY $PAUSE_ARCHIVE"
}
[[ -f "$DASK_ARCHIVE" && -f "$PAUSE_ARCHIVE" ]] && { report; exit 0; }

mkdir -p "$IMAGE_DIR"
exec 9>"$IMAGE_DIR/.build.lock"
flock 9
[[ "$(id -u)" == 0 ]] || { echo "build_images.sh needs root (debootstrap, chroot)" >&2; exit 1; }
for tool in debootstrap umoci chroot go; do
  command -v "$tool" >/dev/null || { echo "build_images.sh needs $tool (make setup installs it)" >&2; exit 1; }
done

START=$SECONDS
WORK=$(mktemp -d "$IMAGE_DIR/.work.XXXXXX")
cleanup() {  # a killed debootstrap can leave proc/sys mounted in the rootfs
  awk -v w="$WORK" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r | xargs -r umount -l
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
step() { echo "==> $* ($(( SECONDS - START ))s)" >&2; }

# umoci: an image of one layer holding $2 (a rootfs directory), then config flags.
pack() {  # $1 archive, $2 rootfs, $3 tag, config flags...
  local archive=$1 rootfs=$2 tag=$3 layout="$WORK/oci-$3"
  shift 3
  umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci unpack --image "$layout:$tag" "$WORK/bundle-$tag" >/dev/null
  rm -rf "$WORK/bundle-$tag/rootfs" && mv "$rootfs" "$WORK/bundle-$tag/rootfs"
  umoci repack --image "$layout:$tag" "$WORK/bundle-$tag"
  umoci config --image "$layout:$tag" "$@"
  umoci gc --layout "$layout"
  tar -C "$layout" -cf "$archive.tmp" .
  mv "$archive.tmp" "$archive"
  step "$(basename "$archive"): $(du -h "$archive" | cut -f1)"
}

if [[ ! -f "$PAUSE_ARCHIVE" ]]; then
  step "pause image"
  mkdir -p "$WORK/pause"
  CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w" \
    -o "$WORK/pause/pause" "$HERE/go/pause.main.go"
  pack "$PAUSE_ARCHIVE" "$WORK/pause" "$PAUSE_KEY" --config.entrypoint /pause
fi

if [[ ! -f "$DASK_ARCHIVE" ]]; then
  # The rootfs's Python must be the one the wheels are for.
  [[ "$SUITE" != bookworm || "$PY_VERSION" == 3.11 ]] \
    || { echo "$PYTHON is $PY_VERSION; Debian $SUITE has Python 3.11" >&2; exit 1; }
  ROOT="$WORK/rootfs"
  step "debootstrap $SUITE (minbase + python3-venv)"
  debootstrap --variant=minbase --include=python3,python3-venv "$SUITE" "$ROOT" "$MIRROR" \
    > "$WORK/debootstrap.log" 2>&1 || { tail -30 "$WORK/debootstrap.log" >&2; exit 1; }
  step "wheels for: $(tr '\n' ' ' <<<"$PINS")"
  # shellcheck disable=SC2086  # one pin per word
  "$PYTHON" -m pip download --quiet --only-binary=:all: -d "$ROOT/tmp/wheels" $PINS >&2
  step "venv /opt/dask in the rootfs (offline, from those wheels)"
  in_root() { chroot "$ROOT" env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"; }  # no PIP_* of ours
  in_root /usr/bin/python3 -m venv /opt/dask
  # shellcheck disable=SC2086
  in_root /opt/dask/bin/pip install --quiet --no-index --find-links /tmp/wheels \
    --no-compile --disable-pip-version-check $PINS >&2
  mount -t proc proc "$ROOT/proc"  # dask reads its CPU count through psutil
  in_root /opt/dask/bin/python -c 'import dask.dataframe, distributed, pyarrow, bokeh'
  umount "$ROOT/proc"
  # Smaller: no wheels, apt lists, docs, locales, caches. Name resolution in a pod comes
  # from the kubelet's resolv.conf: nothing of the build machine's stays in the image.
  rm -rf "$ROOT"/tmp/wheels "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/* \
    "$ROOT"/usr/share/doc "$ROOT"/usr/share/man "$ROOT"/usr/share/locale "$ROOT"/root/.cache \
    "$ROOT"/etc/resolv.conf "$ROOT"/etc/hostname
  pack "$DASK_ARCHIVE" "$ROOT" "$DASK_KEY" \
    --config.env "PATH=/opt/dask/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --config.env "LANG=C.UTF-8" --config.cmd /opt/dask/bin/python
fi
step "images ready"
report
