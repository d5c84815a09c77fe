"""Keeps who is asking and from where in a context variable, so services can audit without a request object."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RequestContext:
    ip: str | None
    source: str


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("portal_request", default=None)


def current_request_context() -> RequestContext | None:
    return _current.get()


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it (set it there).
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Sets the request context (client IP, admin/api/web source) for the duration of a request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        source = "admin" if path.startswith("/admin/") else "api" if path.startswith("/api/") else "web"
        token = _current.set(RequestContext(ip=client_ip(request), source=source))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)


class use_source:
    """Marks work done outside a request (a command, a task) so its audit events say where they came from."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._token: contextvars.Token | None = None

    def __enter__(self) -> None:
        self._token = _current.set(RequestContext(ip=None, source=self.source))

    def __exit__(self, *exc: object) -> None:
        assert self._token is not None
        _current.reset(self._token)
