"""desk search: bulk inserts may index their rows themselves (SQLite)

SQLite's insert triggers of 0002 run once per row: a dozen small statements for each contact, most of the time of a
large import. They now stand aside while the inserting connection says so (`desk_search_enabled()`, a function
exhibit_crm.models.search registers on every connection, false only inside its deferred_index block, which then
indexes the block's rows in one INSERT … SELECT). The terms are 0002's own. PostgreSQL's triggers are statement
triggers over transition tables, set-based already: unchanged.

Only the triggers are replaced (DROP/CREATE TRIGGER): no table is rebuilt, the index rows stay as they are.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:00:00.000000
"""
import importlib

from alembic import op

from exhibit_crm.models.search import register_sqlite_functions

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# the trigger bodies are 0002's, so the terms stay exactly what the index holds
desk_search = importlib.import_module("exhibit_crm.migrations.versions.0002_desk_search")
TABLES = ("contact", "company")


def _insert_trigger(table: str, *, when: str) -> str:
    _, _, _, columns, _ = desk_search.INDEXED[table]
    new = f"(SELECT {', '.join(f'NEW.{c} AS {c}' for c in ('id', *columns))}) AS c"
    return (f"CREATE TRIGGER desk_search_{table}_insert AFTER INSERT ON {table} {when}BEGIN "
            f"{desk_search._insert(table, 'sqlite', new)}; END")


def _replace_insert_triggers(*, when: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # this connection may have been opened before exhibit_crm.models.search registered the functions
    register_sqlite_functions(op.get_bind().connection.dbapi_connection)
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS desk_search_{table}_insert")
        op.execute(_insert_trigger(table, when=when))


def upgrade() -> None:
    _replace_insert_triggers(when="WHEN desk_search_enabled() ")


def downgrade() -> None:
    _replace_insert_triggers(when="")
