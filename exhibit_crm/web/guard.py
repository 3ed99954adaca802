"""Who is asking: session cookies and bearer tokens, role checks, CSRF, and running services."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import audit, auth
from ..db import read_in_session, run_in_session
from ..errors import DomainError, Forbidden, Unauthorized, validate_input
from .bodies import read_json_body
from .inputs import check_text
from .refusals import REFUSALS
from .templating import CSRF_SESSION_KEY

T = TypeVar("T")
Endpoint = Callable[[Request], Awaitable[Response]]
SESSION_USER = "uid"
SESSION_KIND = "kind"
SESSION_GENERATION = "gen"


async def run_service(request: Request, fn: Callable[..., T], /, **kwargs) -> T:
    """Call a domain service in one committed transaction, off the event loop."""
    return await run_in_threadpool(run_in_session, request.app.state.engine, fn, **kwargs)


async def read_service(request: Request, fn: Callable[..., T], /, **kwargs) -> T:
    """Call a service that only reads; on SQLite it then waits for no writer."""
    return await run_in_threadpool(read_in_session, request.app.state.engine, fn, **kwargs)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def principal(request: Request) -> auth.Principal | None:
    """The principal of this request (bearer token first, then the session cookie), looked up once."""
    if "principal" in request.state._state:
        return request.state.principal
    found = None
    token = _bearer(request)
    if token is not None:
        cache = token_cache(request)
        found = cache.get(token)
        if found is None:
            found = await read_service(request, auth.principal_for_token, token=token)
            cache.put(token, found)
        request.state.via_token = True
    elif request.session.get(SESSION_USER):
        # a cookie from before session generations counts as signed out
        found = await read_service(request, auth.load_principal, kind=request.session.get(SESSION_KIND, "staff"),
                                   user_id=request.session[SESSION_USER],
                                   generation=request.session.get(SESSION_GENERATION, -1))
    request.state.principal = found
    return found


async def acting_user(request: Request) -> audit.Actor:
    """Whom the audit log names for this request's changes: the signed-in user (the route's guard made sure of one)."""
    return (await principal(request)).actor


def token_cache(request: Request) -> auth.TokenCache:
    """The app's bearer token cache (one per process; see auth.TokenCache)."""
    state = request.app.state
    cache = getattr(state, "token_cache", None)
    if cache is None:
        cache = state.token_cache = auth.TokenCache()
    return cache


def start_session(request: Request, who: auth.Principal) -> None:
    request.session.clear()
    request.session.update({SESSION_USER: who.id, SESSION_KIND: who.kind, SESSION_GENERATION: who.generation})


def _allowed(who: auth.Principal | None, kinds: tuple[str, ...], roles: tuple[str, ...]) -> bool:
    return who is not None and who.kind in kinds and (not roles or who.kind != "staff" or who.role in roles)


def page(*roles: str, kinds: tuple[str, ...] = ("staff",), login: str = "login") -> Callable[[Endpoint], Endpoint]:
    """An HTML page for signed-in users: strangers go to the login page, other roles get 403."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def wrapper(request: Request) -> Response:
            who = await principal(request)
            if who is None or who.kind not in kinds:
                target = request.url_for(login).include_query_params(next=request.url.path)
                return RedirectResponse(str(target), status_code=303)
            if not _allowed(who, kinds, roles):
                raise Forbidden("your role may not open this page")
            return await endpoint(request)

        return wrapper

    return decorate


EXHIBITOR_USERS = ("exhibitor_user",)


def exhibitor_page(endpoint: Endpoint) -> Endpoint:
    """A page for exhibitor users (the portal and the booth pages); anyone else is sent to the exhibitor login."""
    return page(kinds=EXHIBITOR_USERS, login="exhibitor_login")(endpoint)


async def signed_in(request: Request) -> auth.Principal:
    """The principal of a request whose guard has made sure there is one."""
    return await principal(request)


def api(*roles: str, kinds: tuple[str, ...] = ("staff",), tokens_only: bool = False) -> Callable[[Endpoint], Endpoint]:
    """A JSON endpoint: 401 without valid credentials (without a bearer token if `tokens_only`), 403 for the wrong
    kind or role."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def wrapper(request: Request) -> Response:
            who = await principal(request)
            if who is None:
                raise Unauthorized()
            if tokens_only and not getattr(request.state, "via_token", False):
                raise Unauthorized("this endpoint takes a bearer token (Authorization: Bearer …), not a session")
            if not _allowed(who, kinds, roles):
                raise Forbidden("this token may not use this endpoint")
            if request.method not in ("GET", "HEAD", "OPTIONS") and not getattr(request.state, "via_token", False):
                check_csrf(request, request.headers.get("x-csrf-token"))
            return await endpoint(request)

        wrapper.api_roles = roles  # type: ignore[attr-defined]
        return wrapper

    return decorate


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get(CSRF_SESSION_KEY)
    if not expected or not submitted or not hmac.compare_digest(str(expected), str(submitted)):
        raise DomainError("csrf_failed", "the form has expired or did not come from this site; reload and try again",
                          status=403)


async def read_form(request: Request) -> FormData:
    """The submitted form, after checking its CSRF token: every form handler reads through here."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    for name, value in form.multi_items():
        check_text(value, name)  # an uploaded file is not a str and is checked by whoever reads it
    return form


async def read_json(request: Request, model: type[BaseModel]) -> BaseModel:
    """A JSON body (at most bodies.MAX_JSON_BODY) validated into `model`; a 422 that names the field otherwise."""
    return validate_input(model, await read_json_body(request))


async def form_action(request: Request, fn: Callable[..., object], /, *, then: str, exhibitor: bool = False,
                      fields: Callable[[FormData], dict] | None = None,
                      again: Callable[[FormData, DomainError], Awaitable[Response]] | None = None,
                      **kwargs) -> Response:
    """A form's change: CSRF checked, `fn` run as the signed-in user (for an exhibitor's user, on its own exhibitor
    only) with `kwargs` and what `fields` takes from the form, then 303 to `then`. A refusal (REFUSALS) shows the
    page again with the user's input when the form has one to show (`again(form, exc)`), else it is answered as
    the service's error."""
    form = await read_form(request)
    if fields is not None:
        kwargs.update(fields(form))
    who = await principal(request)
    if exhibitor:
        kwargs["exhibitor_id"] = who.exhibitor_id
    try:
        await run_service(request, fn, **kwargs, actor=who.actor)
    except REFUSALS as exc:
        if again is None:
            raise
        return await again(form, exc)
    return RedirectResponse(then, status_code=303)
