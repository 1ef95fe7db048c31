"""Guardrails: the most a user may ask for (workers, GPUs, clusters, lifetimes, images)."""

from __future__ import annotations

from traitlets import HasTraits, Int, List, Unicode


class Guardrails(HasTraits):
    """c.RapidsKF: the limits every request is checked against (clusters/rules.py)."""

    max_lifetime = Int(
        0,
        help="""Guardrail: longest lifetime a user may ask for, seconds (0: no bound). When set,
        every Kubernetes cluster has a lifetime.""",
    ).tag(config=True)
    max_workers = Int(16, help="Guardrail: most workers one cluster may have.").tag(config=True)
    max_gpus_per_worker = Int(8, help="Guardrail: most GPUs one worker may ask for.").tag(
        config=True
    )
    max_clusters = Int(5, help="Guardrail: most clusters in the namespace.").tag(config=True)
    max_idle_timeout = Int(
        0, help="Guardrail: longest idle timeout a user may ask for, seconds (0: no bound)."
    ).tag(config=True)
    allowed_images = List(
        Unicode(),
        default_value=[],
        help="""Guardrail: shell-style patterns (fnmatch) an image must match, such as
        'nvcr.io/nvidia/rapidsai/*'. Empty: any image.""",
    ).tag(config=True)
