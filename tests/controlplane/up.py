"""Start the tier-3 environment by hand and keep it up until Ctrl-C.

    python tests/controlplane/up.py [--work-dir DIR] [--namespace NS] [--no-operator]

Builds the binaries first if they are not cached (see build.sh).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

# Run as a script: make `controlplane` importable as a package from tests/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controlplane.cluster import BUILD_SCRIPT, ControlPlane, default_bin_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path,
                        help="keep state and logs here (default: a temp dir)")
    parser.add_argument("--namespace", default="kubeflow-user-example-com",
                        help="KubeFlow-like profile namespace to create")
    parser.add_argument("--no-operator", action="store_true", help="do not run the Dask operator")
    parser.add_argument("--manifests", type=Path,
                        help="also apply these manifests (file or kustomize dir)")
    args = parser.parse_args()

    subprocess.run(["bash", str(BUILD_SCRIPT)], check=True)
    t0 = time.monotonic()
    with ControlPlane(default_bin_dir(), args.work_dir) as cp:
        cp.install_operator_crds()
        if not args.no_operator:
            cp.start_operator()
        cp.create_profile_namespace(args.namespace)
        if args.manifests:
            cp.apply_manifests(args.manifests)
        sa_kubeconfig = cp.kubeconfig_for_service_account(args.namespace, "default-editor")
        gpu_nodes, cpu_nodes = ", ".join(cp.gpu_nodes), ", ".join(cp.cpu_nodes)
        operator = ("not started" if args.no_operator
                    else f"running (log: {cp.logs / 'operator.log'})")
        print(f"""
Control plane up in {time.monotonic() - t0:.1f}s at {cp.server}
  admin (system:masters):       export KUBECONFIG={cp.admin_kubeconfig}
  {args.namespace}/default-editor:  export KUBECONFIG={sa_kubeconfig}
  logs:                         {cp.logs}/
Nodes: {gpu_nodes} ({cp.gpus_per_node} x nvidia.com/gpu each, tainted), {cpu_nodes}
Operator: {operator}
Try:  kubectl get nodes   (any kubectl works; or python -c "import kr8s; print(kr8s.get('nodes'))")
Ctrl-C stops everything.""", flush=True)
        stop: list[int] = []
        # Explicit handlers: a shell's background job inherits SIGINT ignored.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, _frame: stop.append(signum))
        while not stop:
            for name, proc in cp.procs.items():
                if not proc.running:
                    print(f"{name} exited; see {proc.log}", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        print("stopping...", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
