"""`python -m jupyter_rapids_kf.stopper [--namespace NS ...] [--grace S] [--resync S]`"""

from __future__ import annotations

import argparse
import asyncio
import logging

from .controller import Stopper


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_rapids_kf.stopper",
        description="Scale the clusters of stopped KubeFlow notebooks to 0 workers (their GPUs released).")
    parser.add_argument("--namespace", action="append", default=[],
                        help="watch only this namespace (repeat for several); default: every namespace")
    parser.add_argument("--grace", type=float, default=20.0,
                        help="seconds the operator has to retire the workers before their Deployments "
                             "are deleted (default 20)")
    parser.add_argument("--resync", type=float, default=10.0,
                        help="seconds between listings of the notebooks (default 10)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    async def run() -> None:
        stopper = await Stopper.connect(namespaces=args.namespace or None, grace=args.grace, resync=args.resync)
        logging.getLogger("jupyter_rapids_kf.stopper").info(
            "watching KubeFlow notebooks in %s (grace %.0f s)",
            ", ".join(args.namespace) or "every namespace", args.grace)
        await stopper.run()

    asyncio.run(run())


if __name__ == "__main__":
    main()
