"""Settings: one typed object built once from the environment and passed to the app."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

LANGUAGES = ("en", "zh-CN")


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the setting and what was expected."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    parse: Callable[[str], object]


def _database_url(value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ValueError("a URL such as sqlite:///exhibit_crm.db or postgresql://user@host/db") from exc
    backend = url.get_backend_name()
    if backend == "postgresql":
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend != "sqlite":
        raise ValueError("a sqlite:/// or postgresql:// URL")
    return value


def _smtp_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps", "smtp+starttls") or not parts.hostname:
        raise ValueError("smtp://[user:password@]host[:port], smtps://… or smtp+starttls://…")
    try:
        _ = parts.port
    except ValueError as exc:
        raise ValueError("a port number between 1 and 65535") from exc
    return value


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("an http:// or https:// URL such as https://crm.example.com")
    return value.rstrip("/")


def _mail_from(value: str) -> str:
    _name, address = parseaddr(value)
    local, _, domain = address.partition("@")
    if not local or not domain:
        raise ValueError("an address such as 'Furniture Fair <noreply@fair.example>'")
    return value


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError("one of " + ", ".join(LANGUAGES))
    return value


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ValueError("a whole number of at least 1")
    return int(value)


SETTINGS = (
    Setting("DATABASE_URL", "sqlite:///exhibit_crm.db",
            "Where the data lives: a SQLite file (default, in the working directory) or postgresql://…", _database_url),
    Setting("DATA_DIR", "data", "Directory for the organiser's signing keys and the session secret.", Path),
    Setting("SMTP_URL", "smtp://127.0.0.1:25",
            "Mail server for the outbox sender: smtp://[user:password@]host:port, smtps://… or smtp+starttls://…",
            _smtp_url),
    Setting("MAIL_FROM", "exhibit-crm <noreply@localhost>", "Sender address of every message the CRM sends.",
            _mail_from),
    Setting("BASE_URL", "http://127.0.0.1:8000", "Public address of the app, used in links inside e-mails.", _base_url),
    Setting("DEFAULT_LANGUAGE", "en", "Language of pages when the browser asks for none we have: en or zh-CN.",
            _language),
    Setting("SECRET_KEY", "", "Signs session cookies; empty means a key kept in DATA_DIR. Set the same value on "
            "every app process behind one load balancer.", str),
    Setting("LOGIN_MAX_FAILURES", "5", "Failed logins per account within 15 minutes before logins are refused.",
            _positive_int),
)


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    smtp_url: str
    mail_from: str
    base_url: str
    default_language: str
    secret_key: str
    login_max_failures: int

    def with_overrides(self, **changes: object) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the environment, naming the setting that has a bad value."""
    environ = os.environ if environ is None else environ
    values = {}
    for setting in SETTINGS:
        raw = environ.get(setting.name, setting.default)
        try:
            values[setting.name.lower()] = setting.parse(raw)
        except ValueError as exc:
            raise SettingsError(f"{setting.name}={raw!r} is not valid: expected {exc}") from None
    return Settings(**values)
