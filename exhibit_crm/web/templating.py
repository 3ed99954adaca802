"""Jinja2 for every page and e-mail: autoescaped, translated through the request's language."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

import templates as templates_package

from .. import i18n

TEMPLATE_DIR = Path(templates_package.__file__).parent


@dataclass(frozen=True)
class NavItem:
    """A link in the top navigation; modules list theirs in `nav`, shown to the kinds and roles named."""

    label: str  # an English msgid, marked with i18n.N_ so it is extracted and translated
    route: str
    roles: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ("staff",)
    tile: str = ""  # the longer label on the start page, if any

    def shown_to(self, user) -> bool:
        return user is not None and user.kind in self.kinds and (not self.roles or user.role in self.roles)
CSRF_SESSION_KEY = "csrf"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = request.session[CSRF_SESSION_KEY] = secrets.token_urlsafe(24)
    return token


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES
    env.globals["current_language"] = i18n.current_language.get
    return env


templates = Jinja2Templates(env=make_environment())


def render(request: Request, name: str, context: dict | None = None, *, status_code: int = 200) -> HTMLResponse:
    """Render a page with what every layout needs: user, language, CSRF token."""
    context = dict(context or {})
    context.setdefault("user", getattr(request.state, "principal", None))
    context["csrf_token"] = csrf_token(request)
    context["language"] = i18n.current_language.get()
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def render_in(name: str, language: str, context: dict) -> str:
    """A template rendered in a given language, outside any request: for mails, in the recipient's language."""
    token = i18n.current_language.set(language)
    try:
        return templates.env.get_template(name).render(context, language=language)
    finally:
        i18n.current_language.reset(token)
