"""Request bodies read with a size limit and parsed as JSON without crashing: a body over its limit is refused with
413 before it is read (by its Content-Length) or as soon as its bytes pass the limit (a chunked body), and JSON that
is not JSON or is nested too deeply for the parser gets 422 malformed_json."""

from __future__ import annotations

import json

from starlette.requests import Request

from ..errors import DomainError, InvalidInput
from .inputs import check_json

# the limit of a JSON body for the API's ordinary calls (the scanner and lead APIs set their own, docs/gates.md)
MAX_JSON_BODY = 1024 * 1024


def too_large(limit: int) -> DomainError:
    return DomainError("too_large", f"the body is larger than {limit} bytes", status=413)


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    return int(raw) if raw is not None and raw.isascii() and raw.isdigit() else None


async def read_raw(request: Request, limit: int) -> bytes:
    """The body's bytes, or 413 too_large once it is known to pass `limit`; the body is kept for request.body()."""
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise too_large(limit)
    if hasattr(request, "_body"):  # read before, e.g. by a middleware
        chunks = [request._body]
    else:
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
    request._body = body = b"".join(chunks)
    if len(body) > limit:
        raise too_large(limit)
    return body


def parse_json(raw: bytes) -> object:
    """The JSON value of a body; 422 malformed_json when it is not JSON, is nested too deeply or holds control
    characters where text is expected (web/inputs.py)."""
    try:
        data = json.loads(raw)
        check_json(raw, data)  # no control characters (NUL) in codes, scan ids or notes
    except RecursionError:
        raise InvalidInput("malformed_json", "the body is nested too deeply") from None
    except ValueError:
        raise InvalidInput("malformed_json", "the body is not valid JSON") from None
    return data


async def read_json_body(request: Request, limit: int = MAX_JSON_BODY) -> object:
    """The request's JSON, at most `limit` bytes of it."""
    return parse_json(await read_raw(request, limit))
