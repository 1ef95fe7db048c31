"""Domain errors: each one becomes the `Error` JSON object of the REST API.

Backends and the service raise these; the handlers map them to HTTP in one place.
Anything else that escapes is a bug and is reported as `internal` without a traceback.
"""

from __future__ import annotations

from typing import Any

# The Error code of a status that tornado or jupyter_server answer before our code runs
# (authentication, XSRF, unknown methods). Shared by web/handlers.py and web/dashboard_proxy.py.
STATUS_CODES = {
    400: "invalid", 401: "forbidden", 403: "forbidden", 404: "not_found", 405: "invalid",
    409: "exists", 502: "unavailable", 503: "unavailable",
}


def error_json(status: int, message: str) -> dict[str, Any]:
    """The Error object for a bare HTTP status."""
    code = STATUS_CODES.get(status, "invalid" if status < 500 else "internal")
    return {"error": {"code": code, "message": message}}


def describe(err: BaseException) -> str:
    """An exception in words that are never empty: asyncio's TimeoutError, for one, says nothing."""
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else f"{type(err).__name__} (no message)"


class RapidsKFError(Exception):
    """An error a user can act on."""

    code = "internal"
    status = 500

    def __init__(self, message: str, *, field: str | None = None, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.fix = fix

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        if self.fix:
            error["fix"] = self.fix
        return {"error": error}


class Invalid(RapidsKFError):
    code, status = "invalid", 400


class NotFound(RapidsKFError):
    code, status = "not_found", 404


class Exists(RapidsKFError):
    code, status = "exists", 409


class Failed(RapidsKFError):
    """The cluster has failed, so what was asked of it (a snippet, a scale) cannot work."""

    code, status = "failed", 409


class NoQueue(RapidsKFError):
    """The admin asked for Kueue (c.RapidsKF.kueue_queue) and no LocalQueue can be chosen."""

    code, status = "no_queue", 409


class Forbidden(RapidsKFError):
    code, status = "forbidden", 403


class Limit(RapidsKFError):
    """An admin guardrail refused the request."""

    code, status = "limit", 403


class Unavailable(RapidsKFError):
    """The backend (Kubernetes, the operator, the local runner) cannot be reached."""

    code, status = "unavailable", 503


class Internal(RapidsKFError):
    code, status = "internal", 500
