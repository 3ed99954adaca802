"""One place maps domain errors to HTTP: JSON under /api, a page everywhere else."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from ..errors import DomainError
from ..i18n import gettext as _
from .templating import render

CRASH_PAGE = ('<!doctype html><html><head><meta charset="utf-8"><title>500 · exhibit-crm</title></head><body>'
              '<h1>500</h1><p data-code="internal_error">Something went wrong on our side. / 服务器出错了。</p>'
              '</body></html>')


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


async def server_error(request: Request, exc: Exception) -> Response:
    """A crash: the documented JSON error under /api, a plain page elsewhere (the server logs the traceback). Nothing
    that might fail again (the session, the templates) is used."""
    error = DomainError("internal_error", "internal server error", status=500)
    if _wants_json(request):
        return JSONResponse(error.as_dict(), status_code=500)
    return HTMLResponse(CRASH_PAGE, status_code=500)


handlers = {DomainError: domain_error, HTTPException: http_error}
# the app's handlers: a crash's handler stays out of `handlers`, which the hot routes use, so that they re-raise it to
# the server-error middleware, which answers through server_error and logs the traceback
app_handlers = {**handlers, Exception: server_error}
