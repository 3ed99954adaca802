"""Engines and sessions for SQLite (default) and PostgreSQL, with the same behaviour on both."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import BigInteger, ColumnElement, Engine, cast, create_engine, event, func
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from .errors import NotFound
from .models.search import register_sqlite_functions
from .models.types import MAX_ID

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "exhibit_crm_read_only"


def _sqlite_engine(url: str, **kwargs) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                           **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: the desk search index is read and written a lot
        cursor.close()
        register_sqlite_functions(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Deferred transactions that later write fail at once with "database is locked" when two
        # processes upgrade their read locks; taking the write lock up front makes them queue instead.
        # Readers need no lock in WAL mode, so a long report never holds up a gate scan.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def make_engine(database_url: str, *, pool: bool = True) -> Engine:
    """An engine for the URL with the settings this app relies on."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(database_url)
    if not pool:
        return create_engine(url, poolclass=NullPool)
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def epoch_seconds(session: Session, column: ColumnElement) -> ColumnElement[int]:
    """A UTC time column (stored naive, as UTCDateTime does) as whole seconds since 1970, computed by the database:
    grouping and reading numbers is several times cheaper than turning each row's text or timestamp into a datetime."""
    if session.get_bind().dialect.name == "sqlite":
        # from the Julian day: a fifth cheaper than strftime("%s"), which formats a text to cast back
        return cast(func.round((func.julianday(column) - 2440587.5) * 86400), BigInteger)
    # a timestamp without time zone holding UTC: its epoch is the UTC epoch
    return cast(func.floor(func.extract("epoch", column)), BigInteger)


def reader(engine: Engine) -> Engine:
    """The same engine for transactions that only read (on SQLite they then take no write lock)."""
    return engine.execution_options(**{READ_ONLY: True})


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends normally, rolled back otherwise."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def run_in_session(engine: Engine, fn: Callable[..., T], /, **kwargs) -> T:
    """Call a service with a fresh session and commit what it did."""
    with session_scope(engine) as session:
        return fn(session, **kwargs)


def read_in_session(engine: Engine, fn: Callable[..., T], /, **kwargs) -> T:
    """Call a service that only reads, in a transaction that takes no write lock."""
    with Session(reader(engine), expire_on_commit=False) as session:
        return fn(session, **kwargs)


def found(session: Session, model: type[T], ident: int, *, what: str, lock: bool = False, hide_id: bool = False,
          **owner: object) -> T:
    """The row of `model` with this id whose `owner` columns hold the given values, else NotFound naming `what`.

    An id beyond what the database stores is not found either (rather than an overflow), `lock` reads the row
    FOR UPDATE and fresh, and `hide_id` leaves the id out of the message (where it came from a signed link).
    """
    row = session.get(model, ident, with_for_update=lock or None, populate_existing=lock) if ident <= MAX_ID else None
    if row is None or any(getattr(row, column) != value for column, value in owner.items()):
        raise NotFound(what) if hide_id else NotFound(what, ident)
    return row
