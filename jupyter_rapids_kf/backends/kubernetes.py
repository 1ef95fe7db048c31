"""Placeholder until the Kubernetes backend lands (issue 4): auto always picks local."""

from __future__ import annotations

from ..config import RapidsKF
from ..errors import Unavailable


async def detect(config: RapidsKF) -> tuple[bool, str]:
    return False, "this build has no Kubernetes backend yet"


class KubernetesBackend:
    name = "kubernetes"

    def __init__(self, config: RapidsKF, serverapp=None):
        raise Unavailable("this build has no Kubernetes backend yet")
