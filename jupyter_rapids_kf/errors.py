"""Domain errors: each one becomes the `Error` JSON object of the REST API.

Backends and the service raise these; the handlers map them to HTTP in one place.
Anything else that escapes is a bug and is reported as `internal` without a traceback.
"""

from __future__ import annotations

from typing import Any


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
