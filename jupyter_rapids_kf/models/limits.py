"""The absolute bounds of every number a request may carry, whatever the admin allows.

Past these a number cannot be used: it would overflow a float in the local runner, a
Kubernetes quantity or the scheduler's timers, and the cluster would fail after the
request was accepted. So they are refused up front with 400 and the field; the admin's
guardrails (`c.RapidsKF.max_*`, 403 `limit`) apply within them. openapi.yaml states
the same numbers.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import Invalid

WORKERS_MAX = 10_000  # workers, adapt.minimum and adapt.maximum
GPUS_PER_WORKER_MAX = 64
IDLE_TIMEOUT_MAX = 366 * 24 * 3600  # a year, in seconds
LOG_TAIL_MAX = 5000

# A Kubernetes resource quantity such as "4", "500m", "16Gi", "1.5G".
# Matched whole (fullmatch): "$" alone would let a trailing newline through.
QUANTITY_RE = re.compile(r"([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")
QUANTITY_MAX_LENGTH = 24
_SUFFIXES = {
    "": 1, "m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
    "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}
# (smallest, largest, how the message says them) per worker.
QUANTITY_BOUNDS = {
    "cpu": (Decimal("0.001"), Decimal(1024), "1m (a thousandth of a core) and 1024 cores"),
    # Below 64Mi a Dask worker is paused or killed at once; 0 would mean "no limit" to Dask.
    "memory": (Decimal(64 * 2**20), Decimal(64 * 2**40), "64Mi and 64Ti"),
}


def as_integer(value: Any) -> int | None:
    """The integer a JSON value is, as JSON Schema counts them: 3 and 3.0 are, true and 3.5 are not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def check_int(field: str, value: Any, minimum: int, maximum: int) -> int:
    """An integer (JSON true is not one; 3.0 is) within [minimum, maximum], else 400 naming the field."""
    value = as_integer(value)
    if value is None:
        raise Invalid(f"{field} must be an integer", field=field)
    if value < minimum:
        raise Invalid(f"{field} must be at least {minimum}", field=field)
    if value > maximum:
        raise Invalid(f"{field} must be at most {maximum}", field=field)
    return value


def query_int(field: str, text: str | None, default: int, minimum: int, maximum: int) -> int:
    """A query parameter's integer: absent is the default, present it must be one ("" is not)."""
    if text is None:
        return default
    try:
        number: int | None = int(text)
    except ValueError:
        try:
            number = as_integer(float(text))
        except ValueError:
            number = None
    if number is None:
        raise Invalid(f"{field} must be an integer (leave it out for {default})", field=field)
    return check_int(field, number, minimum, maximum)


def quantity_value(text: str) -> Decimal:
    """A quantity's value in cores or bytes; exact, so no size of input can overflow."""
    match = QUANTITY_RE.fullmatch(text)
    if match is None:
        raise ValueError(text)
    number, suffix = text[: len(text) - len(match.group(3) or "")], match.group(3) or ""
    try:
        return Decimal(number) * _SUFFIXES[suffix]
    except InvalidOperation as err:
        raise ValueError(text) from err


def check_quantity(field: str, value: str) -> str:
    """A well-formed quantity within the bounds of its field (cpu or memory)."""
    if len(value) > QUANTITY_MAX_LENGTH or not QUANTITY_RE.fullmatch(value):
        raise Invalid(
            f"{field} must be a Kubernetes quantity such as '4', '500m' or '16Gi'", field=field
        )
    bounds = QUANTITY_BOUNDS.get(field)
    if bounds is not None:
        low, high, words = bounds
        if not low <= quantity_value(value) <= high:
            raise Invalid(f"{field} must be between {words} per worker", field=field)
    return value
