"""The one error type services raise for a refused business action."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A business rule refused the action; `message` is shown to the user, `extra` goes into the API body."""

    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """The request contradicts a record that already exists (HTTP 409)."""

    default_code = "conflict"


class NotPermitted(ApplicationError):
    """The user's role or office may not take this action (HTTP 403); the message says why."""

    default_code = "permission_denied"
