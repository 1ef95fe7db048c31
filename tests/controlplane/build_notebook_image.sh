#!/usr/bin/env bash
# The notebook image of the real node: the tier's Dask image (build_images.sh) plus this
# checkout's jupyter-rapids-kf (a wheel built here, its built labextension included) with
# its dependencies (JupyterLab, jupyter-server-proxy, dask-kubernetes, kr8s, ...), ipykernel,
# nbclient and nbformat, all at this checkout's versions. It starts JupyterLab as a KubeFlow
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
EXTRA=(ipykernel nbclient nbformat)
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
KEY=$( { printf '%s\n' "$RECIPE" "$BASE_TAG" "$SOURCE_HASH" "${EXTRA[@]}" "$PINS"; cat "$0"; } | sha256sum | cut -c1-16)
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
step "wheels for $(basename "$WHEEL") ${EXTRA[*]}"
echo "$PINS" > "$WORK/constraints.txt"
mkdir -p "$ROOT/tmp/wheels"
cp "$WHEEL" "$WORK/constraints.txt" "$ROOT/tmp/wheels/"
"$PYTHON" -m pip download --quiet --only-binary=:all: --python-version "$IMAGE_PYTHON" \
  -c "$WORK/constraints.txt" \
  -d "$ROOT/tmp/wheels" "$WHEEL" "${EXTRA[@]}" >&2
step "install in /opt/dask (offline)"
in_root() { chroot "$ROOT" env -i HOME=/root PATH=/opt/dask/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"; }
in_root /opt/dask/bin/pip install --quiet --no-index --find-links /tmp/wheels --no-compile \
  --disable-pip-version-check -c /tmp/wheels/constraints.txt "/tmp/wheels/$(basename "$WHEEL")" "${EXTRA[@]}" >&2
mount -t proc proc "$ROOT/proc"  # distributed reads its CPU count through psutil
in_root /opt/dask/bin/python -c 'import jupyter_rapids_kf, jupyterlab, ipykernel, kr8s, dask_kubernetes'
# (Read whole, not piped into grep -q: an early exit of grep fails the pipe under pipefail.)
SERVER_EXTS=$(in_root /opt/dask/bin/jupyter server extension list 2>&1)
grep -q "jupyter_rapids_kf.*enabled" <<<"$SERVER_EXTS" \
  || { echo "the server extension is not enabled in the image: $SERVER_EXTS" >&2; exit 1; }
LAB_EXTS=$(in_root /opt/dask/bin/jupyter labextension list 2>&1)
grep -q "jupyter-rapids-kf.*enabled" <<<"$LAB_EXTS" \
  || { echo "the labextension is not installed in the image: $LAB_EXTS" >&2; exit 1; }
umount "$ROOT/proc"
rm -rf "$ROOT/tmp/wheels" "$ROOT/root/.cache"
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
