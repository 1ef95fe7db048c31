#!/bin/sh
# On the device machine (no network): unpack the carried Python site (RAPIDS 26.10 for CUDA 13,
# dask 2026.7.1, numpy 2.4.6, jupyter_server; see docs/benchmarks.md "How the stack got onto the
# machine"), make it the first entry of sys.path through a sitecustomize (so its .pth start-up
# hooks run, as in a real install), and make its console scripts (dask, dask-cuda-worker).
# Usage: . benchmarks/device_site.sh CHUNK_DIR CODE_DIR
set -e
chunks=$1; code=$2
if [ ! -d /tmp/site/cudf ]; then
  mkdir -p /tmp/site
  cat "$chunks"/c0* | xz -d -T0 | tar -x -C /tmp/site
fi
mkdir -p /tmp/boot /tmp/bin
cat > /tmp/boot/sitecustomize.py <<'PY'
import site, sys
before = list(sys.path)
site.addsitedir("/tmp/site")
new = [p for p in sys.path if p not in before]
sys.path[:] = new + [p for p in sys.path if p not in new]
PY
python3 - <<'PY'
import configparser, glob, os, sys
for ep in glob.glob("/tmp/site/*.dist-info/entry_points.txt"):
    cp = configparser.ConfigParser(delimiters=("=",)); cp.optionxform = str; cp.read(ep)
    if "console_scripts" not in cp:
        continue
    for name, target in cp["console_scripts"].items():
        module, func = target.strip().split(":")
        path = f"/tmp/bin/{name}"
        with open(path, "w") as f:
            f.write(f"#!{sys.executable}\nimport sys\nfrom {module} import {func.split('.')[0]} as _main\nif __name__ == \"__main__\":\n    sys.exit(_main())\n")
        os.chmod(path, 0o755)
PY
export PYTHONPATH=/tmp/boot:$code PATH=/tmp/bin:$PATH PYTHONUNBUFFERED=1
set +e
