"""Schema migrations through Alembic, driven from the app's own engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the database to `revision`; returns (revision before, revision after)."""
    before = current_revision(engine)
    config = alembic_config()
    with engine.connect() as connection, _sqlite_foreign_keys_off(connection), connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        _refuse_broken_references(connection)
    return before, current_revision(engine)


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite's foreign keys off while migrating, as SQLite and Alembic's batch mode ask: copying a table drops the old
    one, and with foreign keys on that deletes the rows referring to it (ON DELETE CASCADE) or fails. The setting only
    changes outside a transaction, so this runs before the migration's transaction begins."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _refuse_broken_references(connection: Connection) -> None:
    """With SQLite's foreign keys off, check them before the migration commits; a broken one rolls it back."""
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"the migration left rows referring to missing rows (table, rowid, parent): "
                               f"{[tuple(row[:3]) for row in broken[:10]]}")


def revise(engine: Engine, message: str) -> None:
    """Autogenerate a new revision from the models (for developers changing the schema)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
