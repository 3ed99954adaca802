"""Signing in and out, the language switch, the start page and the health check."""

from __future__ import annotations

from functools import partial
from urllib.parse import urlsplit

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import NoMatchFound, Route

from .. import auth
from ..i18n import LANGUAGE_COOKIE, LANGUAGES
from ..i18n import gettext as _
from ..security import password_work
from .guard import page, principal, read_form, read_service, run_service, start_session
from .templating import render


def _safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never send a user off-site after login."""
    if not target:
        return default
    parts = urlsplit(target)
    # "//host" and "/\host" are taken by browsers as another site
    safe = not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith(("//", "/\\"))
    return target if safe else default


async def login_page(request: Request, *, kind: str) -> Response:
    context = {"kind": kind, "next": request.query_params.get("next", ""), "error": None, "account": ""}
    if request.method == "GET":
        return render(request, "auth/login.html", context)
    form = await read_form(request)
    account, password = str(form.get("account", "")), str(form.get("password", ""))
    who = await _login(request, kind=kind, account=account, password=password)
    if who is None:
        context.update(error=_("Wrong username or password."), account=account)
        return render(request, "auth/login.html", context, status_code=401)
    start_session(request, who)
    return RedirectResponse(_safe_next(str(form.get("next", "")), _landing(request, kind)), status_code=303)


async def _login(request: Request, *, kind: str, account: str, password: str) -> auth.Principal | None:
    """Read who the login names, check the password with no transaction open (argon2 takes about 0.1 s and must not
    hold SQLite's write lock), then record the attempt in a short write."""
    candidate = await read_service(request, auth.login_candidate, kind=kind, account=account,
                                   ip=request.client.host if request.client else "",
                                   max_failures=request.app.state.settings.login_max_failures)
    ok = await password_work(auth.check_password, candidate, password)
    return await run_service(request, auth.record_login, candidate=candidate, ok=ok)


def _landing(request: Request, kind: str) -> str:
    """Where a user starts: exhibitor users in their portal, when the app has one; everyone else at home."""
    if kind == "exhibitor_user":
        try:
            return request.url_for("portal").path
        except NoMatchFound:
            pass
    return request.url_for("home").path


async def logout(request: Request) -> Response:
    await read_form(request)
    who = await principal(request)
    if who is not None and who.kind != "device":
        # the cookie is signed, not stored: only a new generation makes a copy of it stop working
        await run_service(request, auth.end_sessions, kind=who.kind, user_id=who.id)
    request.session.clear()
    return RedirectResponse(request.url_for("login").path, status_code=303)


async def switch_language(request: Request) -> Response:
    language = request.path_params["language"]
    response = RedirectResponse(_safe_next(request.query_params.get("next"), "/"), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response


@page(kinds=("staff", "exhibitor_user"))
async def home(request: Request) -> Response:
    who = await principal(request)
    # a module's panel (its `home_panels`) is an async function of the request and the user giving the template
    # it is drawn with and its values, or None when it has nothing to show this user
    panels = [panel for make in request.app.state.home_panels if (panel := await make(request, who)) is not None]
    return render(request, "home.html", {"who": who, "panels": panels})


async def healthz(request: Request) -> Response:
    def ping(session):
        return session.execute(text("SELECT 1")).scalar_one()

    await read_service(request, ping)
    return JSONResponse({"status": "ok"})


routes = [
    Route("/", home, name="home"),
    Route("/login", partial(login_page, kind="staff"), methods=["GET", "POST"], name="login"),
    Route("/exhibitor/login", partial(login_page, kind="exhibitor_user"), methods=["GET", "POST"],
          name="exhibitor_login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/lang/{language}", switch_language, name="switch_language"),
    Route("/healthz", healthz, name="healthz"),
]
