"""The short way in for the busiest API calls: gate scans and booth scans sent with a bearer token.

Gate devices and booth phones send thousands of these a second. They need nothing the app's other middleware gives a
browser (the session cookie, HTML error pages) and should not walk the app's routes to find their endpoint, so a
request for an operation declared hot (`Operation(hot=True)`) that carries a bearer token goes straight to the
route's guarded endpoint — the same token check, the same language choice, the same error answers. Anything else
(no bearer token, another method or path) goes through the whole app.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..i18n import LANGUAGE_COOKIE, current_language, pick_language
from . import errors
from .headers import API_HEADERS


def hot_endpoints(routes: Iterable[BaseRoute]) -> dict[tuple[str, str], object]:
    """(method, path) -> the guarded endpoint of every route whose operation is hot."""
    return {(method, route.path): route.endpoint for route in routes
            if isinstance(route, Route) and getattr(getattr(route, "operation", None), "hot", False)
            for method in route.methods or ()}


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def _has_bearer_token(scope: Scope) -> bool:
    # as guard.principal reads it: "Bearer <token>", the scheme in any case; without one the whole app answers
    header = _header(scope, b"authorization") or b""
    return header[:7].lower() == b"bearer " and bool(header[7:].strip())


def _language(scope: Scope, default: str) -> str:
    cookies = _header(scope, b"cookie")
    cookie = None
    if cookies is not None and LANGUAGE_COOKIE.encode() in cookies:
        cookie = Request(scope).cookies.get(LANGUAGE_COOKIE)
    accept = _header(scope, b"accept-language")
    return pick_language(cookie=cookie, accept_language=accept.decode("latin-1") if accept else None, default=default)


class HotRoutes:
    """ASGI middleware, outermost of the app's own: serves the hot operations' bearer-token calls directly."""

    def __init__(self, app: ASGIApp, *, endpoints: dict[tuple[str, str], object], default_language: str):
        self.app = app
        self.endpoints = endpoints
        self.default_language = default_language

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self.endpoints.get((scope["method"], scope["path"]))
            if endpoint is not None and _has_bearer_token(scope):
                await self._serve(endpoint, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _serve(self, endpoint, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        language = current_language.set(_language(scope, self.default_language))
        try:
            try:
                response = await endpoint(request)
            except Exception as exc:
                handler = next((errors.handlers[kind] for kind in type(exc).__mro__ if kind in errors.handlers), None)
                if handler is None:
                    raise  # the app's server-error middleware answers 500 and logs it
                response = await handler(request, exc)
            response.raw_headers.extend(API_HEADERS)  # the security headers the rest of the app adds (web/headers.py)
            await response(scope, receive, send)
        finally:
            current_language.reset(language)
