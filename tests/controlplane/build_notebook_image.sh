#!/usr/bin/env bash
# The notebook image of the real node: the tier's Dask image (build_images.sh) plus this
# checkout's jupyter-rapids-kf (a wheel built here, its built labextension included), installed
# by docs/notebook-image/install.sh, the very script the documented Dockerfile runs (it adds
# ipykernel, nbclient and nbformat and checks both extensions are enabled), all at this
# checkout's versions. It starts JupyterLab as a KubeFlow
# notebook image does: on port 8888 under $NB_PREFIX, token from $JUPYTER_TOKEN.
#   build_notebook_image.sh <dask image archive>   prints: notebook <reference> <archive>
# Wheels come from the package index through the host's pip and are installed offline in a
# chroot. Cached next to the Dask image's archive, keyed by the recipe, the base image, the
# pinned versions and a hash of the checkout's sources and lockfiles: a change to our code
# rebuilds it.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
CHECKOUT="$(cd "$HERE/../.." && pwd)"
PYTHON="${PYTHON:-$CHECKOUT/.venv/bin/python}"
BASE="$1"
RECIPE=1  # bump when the image must change though this script did not (the key hashes it)
INSTALL="$CHECKOUT/docs/notebook-image/install.sh"  # what the documented Dockerfile RUNs
SOURCES=(jupyter_rapids_kf src style schema jupyter-config install.json pyproject.toml package.json yarn.lock)

# Debian bookworm's python3, the Python of the Dask image (checked below once unpacked).
IMAGE_PYTHON="${IMAGE_PYTHON:-3.11.2}"
# Every installed distribution of the checkout's environment, as constraints, so the image
# resolves to the versions the tests run with here; except the few whose version here needs
# a newer Python than the image's (they resolve for the image's Python instead).
PINS=$("$PYTHON" - "$IMAGE_PYTHON" <<'PY'
import sys
from importlib.metadata import distributions
from packaging.specifiers import SpecifierSet
names = {}
for d in distributions():
    name = (d.metadata["Name"] or "").lower().replace("_", "-")
    needs = d.metadata["Requires-Python"]
    if name and name != "jupyter-rapids-kf" and (not needs or sys.argv[1] in SpecifierSet(needs)):
        names[name] = d.version
print("\n".join(f"{n}=={v}" for n, v in sorted(names.items())))
PY
)
SOURCE_HASH=$(cd "$CHECKOUT" && git ls-files -co --exclude-standard -z -- "${SOURCES[@]}" \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
BASE_TAG=$(basename "$BASE" .oci.tar); BASE_TAG=${BASE_TAG#dask-}
KEY=$( { printf '%s\n' "$RECIPE" "$BASE_TAG" "$SOURCE_HASH" "$PINS"; cat "$0" "$INSTALL"; } | sha256sum | cut -c1-16)
OUT="$(dirname "$BASE")/notebook-$KEY.oci.tar"
report() { echo "notebook rapids-kf.test/notebook:$KEY $OUT"; }
[[ -f "$OUT" ]] && { report; exit 0; }
[[ "$(id -u)" == 0 ]] || { echo "build_notebook_image.sh needs root (chroot)" >&2; exit 1; }
[[ -f "$CHECKOUT/jupyter_rapids_kf/labextension/static/style.js" ]] \
  || { echo "the labextension is not built: run make setup (or jlpm build)" >&2; exit 1; }

exec 9>"$(dirname "$BASE")/.build.lock"
flock 9
[[ -f "$OUT" ]] && { report; exit 0; }
START=$SECONDS
step() { echo "==> $* ($(( SECONDS - START ))s)" >&2; }
WORK=$(mktemp -d /tmp/rapids-kf-notebook-image.XXXXXX)
cleanup() {
  awk -v w="$WORK" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r | xargs -r umount -l
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
mkdir "$WORK/layout" "$WORK/dist"
tar -C "$WORK/layout" -xf "$BASE"
umoci unpack --image "$WORK/layout:$BASE_TAG" "$WORK/bundle" >/dev/null
ROOT="$WORK/bundle/rootfs"
[[ "$(chroot "$ROOT" /usr/bin/python3 -c 'import platform; print(platform.python_version())')" == "$IMAGE_PYTHON" ]] \
  || { echo "the Dask image's Python is not $IMAGE_PYTHON: set IMAGE_PYTHON" >&2; exit 1; }
step "wheel of the checkout (labextension as built)"
"$PYTHON" -m pip wheel --quiet --no-deps -w "$WORK/dist" "$CHECKOUT" >&2
WHEEL=$(ls "$WORK"/dist/jupyter_rapids_kf-*.whl)
IN_IMAGE_WHEEL="/tmp/wheels/$(basename "$WHEEL")"
read -r -a PACKAGES <<<"$(RAPIDS_KF_PACKAGE="$WHEEL" sh "$INSTALL" --packages)"
step "wheels for ${PACKAGES[*]##*/}"
echo "$PINS" > "$WORK/constraints.txt"
mkdir -p "$ROOT/tmp/wheels" "$ROOT/tmp/rapids-kf"
cp "$WHEEL" "$WORK/constraints.txt" "$ROOT/tmp/wheels/"
cp "$INSTALL" "$ROOT/tmp/rapids-kf/install.sh"
"$PYTHON" -m pip download --quiet --only-binary=:all: --python-version "$IMAGE_PYTHON" \
  -c "$WORK/constraints.txt" -d "$ROOT/tmp/wheels" "${PACKAGES[@]}" >&2
step "docs/notebook-image/install.sh in /opt/dask (offline)"
in_root() { chroot "$ROOT" env -i HOME=/root PATH=/opt/dask/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"; }
mount -t proc proc "$ROOT/proc"  # distributed reads its CPU count through psutil
# As the Dockerfile's `RUN sh /tmp/rapids-kf/install.sh`, with pip pointed at the wheels only.
in_root RAPIDS_KF_PACKAGE="$IN_IMAGE_WHEEL" PIP_NO_INDEX=1 PIP_FIND_LINKS=/tmp/wheels \
  PIP_CONSTRAINT=/tmp/wheels/constraints.txt PIP_NO_COMPILE=1 PIP_QUIET=1 \
  PIP_DISABLE_PIP_VERSION_CHECK=1 sh /tmp/rapids-kf/install.sh >&2
umount "$ROOT/proc"
rm -rf "$ROOT/tmp/wheels" "$ROOT/tmp/rapids-kf" "$ROOT/root/.cache"
mkdir -p "$ROOT/home/jovyan" "$ROOT/etc/jupyter"  # the admin's jupyter_server_config.json goes there
step "pack"
umoci repack --image "$WORK/layout:$KEY" "$WORK/bundle"
# As KubeFlow's jupyter images: JupyterLab on 8888 under NB_PREFIX (its notebook controller
# sets it), any origin; here with a token ($JUPYTER_TOKEN) rather than none.
umoci config --image "$WORK/layout:$KEY" --config.workingdir /home/jovyan \
  --config.env "HOME=/home/jovyan" --config.exposedports 8888/tcp \
  --config.cmd sh --config.cmd -c --config.cmd 'exec jupyter lab --ip=0.0.0.0 --port=8888 --no-browser --allow-root --ServerApp.root_dir=/home/jovyan --ServerApp.base_url="${NB_PREFIX:-/}" --ServerApp.allow_origin="*" --ServerApp.allow_remote_access=True'
umoci rm --image "$WORK/layout:$BASE_TAG"  # one image in the archive
umoci gc --layout "$WORK/layout"
tar -C "$WORK/layout" -cf "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
# Each change of our code makes a new archive: drop those not rebuilt for a day.
find "$(dirname "$BASE")" -maxdepth 1 -name 'notebook-*.oci.tar' -mtime +0 ! -path "$OUT" -delete
step "$(basename "$OUT"): $(du -h "$OUT" | cut -f1)"
report
