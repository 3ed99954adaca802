"""The desk search's index: searchable pieces of contacts and companies, kept current by database triggers.

Migration 0002 creates the triggers (one set per dialect): whoever writes a contact or a company — a service, a
Core bulk insert, another process — updates these rows in the same transaction, so no writer can forget them.
Nothing in the application writes here; `event_phases.on_site.search` only reads.

The triggers fold names with `desk_search_fold()` (e-mails and phones are stored normalised already). PostgreSQL has
it as an SQL function (migration 0002). SQLite has no Unicode folding of its own (its lower() knows only ASCII), so
every SQLite connection the app opens gets `fold` below (exhibit_crm.db registers it on connect): the query and the
stored text are then folded by the same Python function. A writer without it (the sqlite3 shell) has its contact
writes refused with "no such function" rather than leaving the index stale.

A bulk insert on SQLite would run the insert trigger once per row, a dozen small statements each; `deferred_index`
lets one writer skip it (migration 0004: `WHEN desk_search_enabled()`) and index all its new rows with one
INSERT … SELECT at the end, in its own transaction. PostgreSQL's triggers are statement triggers, set-based already.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, SmallInteger, String, text
from sqlmodel import Field, SQLModel

# Terms are compared as code points: a prefix is then one index range on SQLite (BINARY) and on PostgreSQL
# ("C"), whatever the database's locale. No length: folding may lengthen a text (NFKC writes "㈱" as "(株)").
TERM = String().with_variant(String(collation="C"), "postgresql")

# kinds of DeskSearchTerm (contact_id) and DeskSearchCompanyTerm (company_id)
NAME = 1           # the whole folded name: exact and prefix matches
NAME_INSIDE = 2    # what follows each later character of the name (two or more characters): substrings
EMAIL = 3          # the e-mail from its start, from each part of the local part, from "@" and from the domain
PHONE = 4          # the digits from each one to the end, four or more: any 4+ consecutive digits start one of them
COMPANY = 5        # the whole folded company name
COMPANY_INSIDE = 6  # what follows each later character of the company name (two or more characters)

# positions 1..SEQ_MAX: the longest text indexed (company names are at most 300 characters)
SEQ_MAX = 300


# DeskSearchTerm: a suffix of a contact's folded name, e-mail or phone digits; a prefix search on it is a substring
# search on the contact.
class DeskSearchTerm(SQLModel, table=True):
    __tablename__ = "desk_search_term"
    # WITHOUT ROWID: the primary key is the table, so each term costs one b-tree entry, not two
    __table_args__ = {"sqlite_with_rowid": False}
    kind: int = Field(primary_key=True, sa_type=SmallInteger, sa_column_kwargs={"autoincrement": False})
    term: str = Field(primary_key=True, sa_type=TERM)
    # no foreign key: the triggers keep it right, and a key would make every contact delete scan this table
    contact_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


# DeskSearchCompanyTerm: the same for company names, once per company rather than once per employee.
class DeskSearchCompanyTerm(SQLModel, table=True):
    __tablename__ = "desk_search_company_term"
    __table_args__ = {"sqlite_with_rowid": False}
    kind: int = Field(primary_key=True, sa_type=SmallInteger, sa_column_kwargs={"autoincrement": False})
    term: str = Field(primary_key=True, sa_type=TERM)
    company_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


# DeskSearchSeq: the numbers 1..SEQ_MAX, for triggers that cut a text into its suffixes (SQLite triggers allow no
# recursive queries).
class DeskSearchSeq(SQLModel, table=True):
    __tablename__ = "desk_search_seq"
    n: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


def fold(text: str | None) -> str | None:
    """Text as the desk search compares it: NFKC (full-width forms become ASCII), lower case, no whitespace."""
    if text is None:
        return None
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


_NOT_DIGIT = re.compile(r"[^0-9]")


def phone_digits(text: str | None) -> str | None:
    """The ASCII digits of a phone number ("+86 138-0013 8000" -> "8613800138000"), full-width ones included."""
    if text is None:
        return None
    return _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", text))


# SQLite connections (by id()) whose writer indexes its own new rows: their insert triggers stand aside. Only
# deferred_index adds to it, and always takes its connection out again; a new connection, which may reuse the id of
# a closed one, starts out of it.
_DEFERRING: set[int] = set()


def register_sqlite_functions(dbapi_connection: sqlite3.Connection) -> None:
    """Give a SQLite connection the functions the desk search triggers call."""
    key = id(dbapi_connection)
    _DEFERRING.discard(key)
    dbapi_connection.create_function("desk_search_fold", 1, fold, deterministic=True)
    dbapi_connection.create_function("desk_search_enabled", 0, lambda: key not in _DEFERRING)


# The terms of a set of rows, as migration 0002's triggers make them (a copy: the migration must not change when
# this does; tests compare the two): `rows` is a FROM item with the indexed columns and id, named c.
_FENCE = " LIMIT -1"  # keeps SQLite from merging the subquery into the join, which would fold once per position
_TERM_MAX = 400


def _suffixes(kinds: tuple[int, int], column: str, rows: str) -> str:
    return (f"SELECT CASE WHEN s.n = 1 THEN {kinds[0]} ELSE {kinds[1]} END AS kind, "
            f"substr(v.t, s.n, {_TERM_MAX}) AS term, v.id AS id "
            f"FROM (SELECT c.id AS id, desk_search_fold(c.{column}) AS t FROM {rows}{_FENCE}) AS v "
            f"JOIN desk_search_seq AS s ON s.n <= length(v.t) AND (s.n = 1 OR s.n < length(v.t))")


def _contact_terms(rows: str) -> str:
    email = (f"SELECT {EMAIL}, substr(c.email, s.n), c.id "
             f"FROM {rows} JOIN desk_search_seq AS s ON s.n <= length(c.email) "
             f"AND (s.n = 1 OR substr(c.email, s.n, 1) = '@' OR substr(c.email, s.n - 1, 1) = '@' "
             f"OR (s.n < instr(c.email, '@') AND substr(c.email, s.n - 1, 1) IN ('.', '_', '-', '+')))")
    phone = (f"SELECT {PHONE}, substr(c.phone, s.n), c.id "
             f"FROM {rows} JOIN desk_search_seq AS s ON s.n >= 2 AND s.n <= length(c.phone) - 3")
    return " UNION ALL ".join([_suffixes((NAME, NAME_INSIDE), "full_name", rows), email, phone])


# table -> (index table, owner column, indexed columns, terms)
_INDEXED = {
    "contact": ("desk_search_term", "contact_id", ("full_name", "email", "phone"), _contact_terms),
    "company": ("desk_search_company_term", "company_id", ("name",),
                lambda rows: _suffixes((COMPANY, COMPANY_INSIDE), "name", rows)),
}


def _sqlite_index_rows_after(table: str) -> str:
    """The statement indexing the rows of `table` whose id is above :after_id (SQLite)."""
    target, owner, columns, terms = _INDEXED[table]
    rows = f"(SELECT id, {', '.join(columns)} FROM {table} WHERE id > :after_id) AS c"
    # OR IGNORE: a term repeated within one text (the triggers' DISTINCT) or already indexed is one row
    return f"INSERT OR IGNORE INTO {target} (kind, term, {owner}) {terms(rows)}"


@contextmanager
def deferred_index(connection: Connection, table: str, *, index: bool = True) -> Iterator[None]:
    """Rows inserted into `table` ("contact" or "company") in the block are indexed when it ends, in one statement.

    On SQLite inserts on this connection skip the per-row trigger during the block (other connections, and this one
    after it, keep it) and every row above the block's starting id is indexed at its end, in the block's
    transaction: the caller commits both or neither, after the block. With index=False they are left unindexed
    there: the caller indexes them itself later (`stage_terms`, `add_staged`). Elsewhere (PostgreSQL's statement
    triggers) it changes nothing.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    if not index:
        with _triggers_aside(connection):
            yield
        return
    # The writer holds SQLite's write lock (BEGIN IMMEDIATE): the rows above this id are the block's own.
    after_id = connection.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()
    with _triggers_aside(connection):
        yield
    connection.execute(text(_sqlite_index_rows_after(table)), {"after_id": after_id})


@contextmanager
def _triggers_aside(connection: Connection) -> Iterator[None]:
    key = id(connection.connection.dbapi_connection)
    _DEFERRING.add(key)
    try:
        yield
    finally:
        _DEFERRING.discard(key)


def stage_terms(connection: Connection, table: str, ids: list[int]) -> int:
    """Put the index rows (kind, term, owner id) that the SQLite triggers make for these rows of `table` into this
    connection's temporary table desk_search_staged, in the index's key order (rowid 1, 2, …); returns how many.
    It writes only the connection's temporary database: a read transaction does, holding no write lock.

    Added in slices of that order (`add_staged`), each transaction dirties a stretch of the index only, where rows
    added owner by owner would dirty most of its pages every time."""
    _target, _owner, columns, terms = _INDEXED[table]
    rows = f"(SELECT id, {', '.join(columns)} FROM {table} WHERE id IN (SELECT value FROM json_each(?))) AS c"
    statement = terms(rows)
    connection.exec_driver_sql("DROP TABLE IF EXISTS temp.desk_search_staged")
    connection.exec_driver_sql(f"CREATE TEMP TABLE desk_search_staged AS SELECT * FROM ({statement}) ORDER BY 1, 2, 3",
                               (json.dumps(ids),) * statement.count("json_each"))
    return connection.exec_driver_sql("SELECT coalesce(max(rowid), 0) FROM temp.desk_search_staged").scalar_one()


def add_staged(connection: Connection, table: str, first: int, last: int) -> None:
    """Add the staged index rows `first`..`last` (see stage_terms) to the index; rows it holds already stay."""
    target, owner, _columns, _terms = _INDEXED[table]
    connection.exec_driver_sql(f"INSERT OR IGNORE INTO {target} (kind, term, {owner}) SELECT * FROM "
                               "temp.desk_search_staged WHERE rowid BETWEEN ? AND ?", (first, last))


def drop_staged(connection: Connection) -> None:
    """Drop the staged index rows (see stage_terms), outside any transaction of the main database."""
    connection.exec_driver_sql("DROP TABLE IF EXISTS temp.desk_search_staged")
    connection.commit()
