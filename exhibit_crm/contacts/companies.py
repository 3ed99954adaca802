"""Companies as people name them: one company per company_key, held by a unique constraint, so two first
registrations from one new company at the same moment make one company (the later insert takes the earlier one's)."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..models import Company, utcnow
from ..models.search import deferred_index
from .normalise import company_key

CHUNK = 5000  # values per IN (…): well under SQLite's (32,766) and PostgreSQL's (65,535) limits on bound parameters
COMPANY = Company.__table__
# new companies past this many are indexed for the desk in one statement at the end (see deferred_index)
DEFER_INDEX_FROM = 100


def find_or_create_company(session: Session, *, name: str) -> Company | None:
    """The company of that name (compared by company_key), created if new; None for a blank name."""
    if not name.strip():
        return None
    statement = select(Company).where(Company.name_key == company_key(name))
    company = session.scalars(statement).first()
    if company is not None:
        return company
    try:
        with session.begin_nested():
            company = Company(name=name.strip(), name_key=company_key(name))
            session.add(company)
            session.flush()
    except IntegrityError:
        # another transaction stored the same company in between (the unique name_key refused ours): take theirs
        company = session.scalars(statement).one()
    return company


def companies(session: Session, names: Iterable[str], *, now: datetime | None = None) -> dict[str, tuple[int, str]]:
    """company_key -> (id, name as stored) for every company of these names, the new ones created; blanks left out.
    Set-based: a few statements for any number of names; race-safe as find_or_create_company."""
    wanted: dict[str, str] = {}
    for name in names:
        if name and name.strip():
            wanted.setdefault(company_key(name), name.strip())
    session.flush()  # what session.execute would do before reading
    connection = session.connection()
    found = _stored(connection, list(wanted))
    now = now or utcnow()
    new = [{"name": name, "name_key": key, "country": "", "province": "", "city": "", "website": "", "created_at": now}
           for key, name in wanted.items() if key not in found]
    if new:
        with deferred_index(connection, "company") if len(new) >= DEFER_INDEX_FROM else nullcontext():
            connection.execute(_insert_new(connection), new)
        found.update(_stored(connection, [row["name_key"] for row in new]))
    return found


def _insert_new(connection: Connection):
    """INSERT that leaves out a company another transaction stored meanwhile (the caller reads it back)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(COMPANY).on_conflict_do_nothing(index_elements=[COMPANY.c.name_key])


def _stored(connection: Connection, keys: list[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(keys), CHUNK):
        statement = select(COMPANY.c.name_key, COMPANY.c.id, COMPANY.c.name).where(
            COMPANY.c.name_key.in_(keys[start:start + CHUNK]))
        found.update((key, (company_id, name)) for key, company_id, name in connection.execute(statement))
    return found
