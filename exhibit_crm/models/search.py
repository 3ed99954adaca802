"""The desk search's index: searchable pieces of contacts and companies, kept current by database triggers.

Migration 0002 creates the triggers (one set per dialect): whoever writes a contact or a company — a service, a
Core bulk insert, another process — updates these rows in the same transaction, so no writer can forget them.
Nothing in the application writes here; `event_phases.on_site.search` only reads.

The triggers fold names with `desk_search_fold()` (e-mails and phones are stored normalised already). PostgreSQL has
it as an SQL function (migration 0002). SQLite has no Unicode folding of its own (its lower() knows only ASCII), so
every SQLite connection the app opens gets `fold` below (exhibit_crm.db registers it on connect): the query and the
stored text are then folded by the same Python function. A writer without it (the sqlite3 shell) has its contact
writes refused with "no such function" rather than leaving the index stale.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata

from sqlalchemy import SmallInteger, String
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


def register_sqlite_functions(dbapi_connection: sqlite3.Connection) -> None:
    """Give a SQLite connection the function the desk search triggers call."""
    dbapi_connection.create_function("desk_search_fold", 1, fold, deterministic=True)

