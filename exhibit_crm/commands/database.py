"""`exhibit-crm db upgrade|current`: bring a database to the current schema."""

from __future__ import annotations

from .. import migrate
from ..console import emit, json_flag
from . import engine


def upgrade(args) -> None:
    before, after = migrate.upgrade(engine(), args.revision)
    emit(args, {"before": before, "after": after, "head": migrate.head_revision()},
         f"database at {after} (was {before or 'empty'})")


def current(args) -> None:
    revision, head = migrate.current_revision(engine()), migrate.head_revision()
    emit(args, {"current": revision, "head": head, "up_to_date": revision == head},
         f"{revision or 'empty'} (head {head})")


def register(subparsers) -> None:
    db = subparsers.add_parser("db", help="database schema: upgrade, current")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_commands.add_parser("upgrade", help="bring the database in DATABASE_URL to the current schema")
    up.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    json_flag(up)
    up.set_defaults(handler=upgrade)
    cur = db_commands.add_parser("current", help="show the database's schema revision")
    json_flag(cur)
    cur.set_defaults(handler=current)
