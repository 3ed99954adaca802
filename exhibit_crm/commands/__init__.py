"""The core's CLI commands; each module has register(subparsers)."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Engine

from ..db import make_engine
from ..settings import Settings, load_settings


@cache
def settings() -> Settings:
    return load_settings()


@cache
def engine() -> Engine:
    """One engine per command run; closed by the CLI when the command ends."""
    return make_engine(settings().database_url)


def close() -> None:
    if engine.cache_info().currsize:
        engine().dispose()
    engine.cache_clear()
    settings.cache_clear()
