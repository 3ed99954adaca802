"""One place maps domain errors to HTTP: JSON under /api, a page everywhere else."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import DomainError
from ..i18n import gettext as _
from .templating import render


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


async def domain_error(request: Request, exc: DomainError, headers: dict | None = None) -> Response:
    if _wants_json(request):
        return JSONResponse(exc.as_dict(), status_code=exc.status, headers=headers)
    response = render(request, "error.html", {"status": exc.status, "code": exc.code, "message": _(exc.message)},
                      status_code=exc.status)
    response.headers.update(headers or {})
    return response


async def http_error(request: Request, exc: HTTPException) -> Response:
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, "http_error")
    # keep what the exception carries, such as the Allow header of a 405
    return await domain_error(request, DomainError(code, str(exc.detail), status=exc.status_code), exc.headers)


handlers = {DomainError: domain_error, HTTPException: http_error}
