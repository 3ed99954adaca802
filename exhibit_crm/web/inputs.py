"""Control characters (NUL above all) are refused at the edges: in the path and query string, in forms and in JSON
bodies, with a 422 that names the field. PostgreSQL cannot store NUL in text and SQLite would keep it in a name."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import InvalidInput
from . import errors

# C0 and C1 controls and DEL; tab, line feed and carriage return are text
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# what a JSON body holding one looks like: escaped (\u0000…) or DEL / a C1 control as UTF-8; a cheap first look
_JSON_SUSPECT = re.compile(rb"\\u00[01789][0-9a-fA-F]|\x7f|\xc2[\x80-\x9f]")


def refused(field: str) -> InvalidInput:
    return InvalidInput("control_characters", f"{field}: control characters (such as NUL) are not allowed",
                        field=field)


def check_text(value: object, field: str) -> None:
    """Refuse a string (or the strings inside a list or dict) holding a control character."""
    if isinstance(value, str):
        if CONTROL.search(value):
            raise refused(field)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, field)
            check_text(item, f"{field}.{key}" if field != "body" else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_text(item, f"{field}[{index}]")


def looks_like_control_characters(raw: bytes) -> bool:
    """Whether a JSON body may hold a control character (one regular-expression search over its bytes)."""
    return _JSON_SUSPECT.search(raw) is not None


def check_json(raw: bytes, data: object) -> None:
    """Refuse a parsed JSON body holding a control character; its raw bytes are looked at first, so that a clean
    body (nearly all) costs one regular-expression search."""
    if looks_like_control_characters(raw):
        check_text(data, "body")


def _query_field(query: bytes) -> str | None:
    """The name of the first query parameter (or the path) whose decoded value holds a control character."""
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if CONTROL.search(unquote_to_bytes(value).decode("utf-8", "replace")):
            return unquote_to_bytes(name).decode("utf-8", "replace") or "query"
    return None


class RefuseControlCharacters:
    """ASGI middleware: a path or query string with an encoded control character gets the 422 answer at once."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"")
            field = _query_field(query) if b"%" in query else None
            if field is None and CONTROL.search(scope["path"]):
                field = "path"
            if field is not None:
                response = await errors.domain_error(Request(scope, receive), refused(field))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
