"""What a GPU-hour costs, so that cluster cards turn hours into money (clusters/gpu_hours.py)."""

from __future__ import annotations

import re

from traitlets import Float, HasTraits, Unicode, validate

CURRENCY_RE = re.compile(r"[A-Z]{3}")  # ISO 4217, as the browser formats money


class GPUHourPrice(HasTraits):
    """c.RapidsKF: the price of a GPU-hour shown on every cluster card."""

    gpu_hour_price = Float(
        0.0,
        help="""The price of one GPU held for one hour, in gpu_hour_currency. Cluster cards show
        the GPU-hours each cluster held and, when this is above 0, what they cost
        (GPU-hours x price). 0: hours only.""",
    ).tag(config=True)
    gpu_hour_currency = Unicode(
        "USD",
        help="The ISO 4217 code of gpu_hour_price's currency (USD, EUR, ...), as the cards write it.",
    ).tag(config=True)

    @validate("gpu_hour_price")
    def _check_price(self, proposal):  # type: ignore[no-untyped-def]
        value = proposal["value"]
        if not value >= 0 or value == float("inf"):
            raise ValueError("gpu_hour_price must be 0 (no price) or a positive number")
        return value

    @validate("gpu_hour_currency")
    def _check_currency(self, proposal):  # type: ignore[no-untyped-def]
        value = proposal["value"]
        if not CURRENCY_RE.fullmatch(value):
            raise ValueError("gpu_hour_currency must be a three-letter ISO 4217 code such as USD or EUR")
        return value
