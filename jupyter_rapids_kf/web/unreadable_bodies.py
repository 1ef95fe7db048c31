"""A request body tornado cannot read gets the Error JSON too, under rapids-kf/.

tornado answers a body it cannot read (a broken chunked encoding, a Content-Length that is
not a number or is over the server's limit) with a bare `400 Bad Request` and no body,
before any handler runs. For requests under this extension's routes only, the same 400 is
answered with the API's Error object, then the connection is closed as tornado would.

This wraps a private method of tornado's HTTP/1 connection; where a tornado release lacks
what it relies on, nothing is wrapped and tornado's bare 400 stays (tests/api catch that).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable

from tornado import http1connection, httputil, iostream

from ..errors import error_json

log = logging.getLogger(__name__)

_prefixes: set[str] = set()
_Connection = http1connection.HTTP1Connection
_Quiet = getattr(http1connection, "_QuietException", None)


def install(prefix: str) -> None:
    """Answer unreadable bodies of requests whose path starts with `prefix` with the Error JSON."""
    _prefixes.add(prefix.rstrip("/"))
    original = getattr(_Connection, "_read_body", None)
    if original is None or _Quiet is None:
        log.warning("rapids-kf: this tornado cannot be told to answer malformed bodies with JSON")
        return
    if getattr(original, "rapids_kf", False):
        return

    def _read_body(self, code: int, headers: httputil.HTTPHeaders, delegate: Any) -> Awaitable[None] | None:
        if self.is_client or not _ours(self):
            return original(self, code, headers, delegate)
        try:
            reading = original(self, code, headers, delegate)
        except httputil.HTTPInputError as err:
            return _refuse(self, err)
        return None if reading is None else _guard(self, reading)

    _read_body.rapids_kf = True  # type: ignore[attr-defined]
    _Connection._read_body = _read_body  # type: ignore[method-assign]


def _ours(connection: Any) -> bool:
    start = getattr(connection, "_request_start_line", None)
    path = (start.path if start else "").split("?", 1)[0]
    return any(path == p or path.startswith(p + "/") for p in _prefixes)


async def _guard(connection: Any, reading: Awaitable[None]) -> None:
    try:
        await reading
    except httputil.HTTPInputError as err:
        await _refuse(connection, err)


async def _refuse(connection: Any, err: Exception) -> None:
    log.info("rapids-kf: malformed request body from %s: %s", connection.context, err)
    body = json.dumps(error_json(400, f"the request body could not be read: {err}")).encode()
    head = (
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=UTF-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        await connection.stream.write(head + body)
    except iostream.StreamClosedError:
        pass
    # tornado's reader closes the connection quietly on this, without its own bare 400.
    raise _Quiet()  # type: ignore[misc]
