"""The core's CLI commands; each module has register(subparsers)."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Engine

from ..db import make_engine
from ..settings import Settings, load_settings


@cache
def settings() -> Settings:
    return load_settings()


def engine() -> Engine:
    return make_engine(settings().database_url)
