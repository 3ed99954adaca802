"""zh-CN and English: Babel catalogs, the language of the current request, and formatting."""

from __future__ import annotations

import contextvars
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import HTTPConnection

from .settings import LANGUAGES

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGE_NAMES = {"en": "English", "zh-CN": "中文"}
LANGUAGE_COOKIE = "lang"

current_language: contextvars.ContextVar[str] = contextvars.ContextVar("current_language", default="en")


def _babel_locale(language: str) -> str:
    return language.replace("-", "_")


@cache
def translations(language: str) -> NullTranslations:
    """Every catalog of a language merged into one (each part of the app keeps its own .po file)."""
    merged: Translations | None = None
    folder = LOCALE_DIR / _babel_locale(language) / "LC_MESSAGES"
    for po_path in sorted(folder.glob("*.po")):
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=_babel_locale(language))
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = Translations(fp=buffer)
        merged = part if merged is None else merged.merge(part)
    return merged or NullTranslations()


def N_(message: str) -> str:  # noqa: N802 - the name message extractors look for
    """Mark a message for translation where it is defined; it is translated where it is shown."""
    return message


def gettext(message: str) -> str:
    return translations(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language.get()).ngettext(singular, plural, n)


def pick_language(*, cookie: str | None, accept_language: str | None, default: str) -> str:
    """The cookie's choice, else the browser's first language we have, else the default."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return default


class LanguageMiddleware:
    """Sets the request's language for templates, messages and formatting."""

    def __init__(self, app, *, default: str):
        self.app = app
        self.default = default

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        conn = HTTPConnection(scope)
        language = pick_language(cookie=conn.cookies.get(LANGUAGE_COOKIE),
                                 accept_language=conn.headers.get("accept-language"), default=self.default)
        token = current_language.set(language)
        try:
            await self.app(scope, receive, send)
        finally:
            current_language.reset(token)
