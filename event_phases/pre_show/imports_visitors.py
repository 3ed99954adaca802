"""Visitor lists: rows become people (duplicates in the file merged), people are matched to known contacts, and
the whole list is written set-based: a handful of statements per table, not a handful per row.

The same rules as `exhibit_crm.contacts.upsert_contact` apply, as if each row were registered in turn: a person is
found by e-mail, else by phone; a match only fills blank identity fields (name, e-mail, phone) and takes the other
fields the row gives; a phone that is someone else's is not taken over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlmodel import Session

from exhibit_crm.contacts import IDENTITY, company_key
from exhibit_crm.models import Company, Contact, ContactSource, Registration, RegistrationInterest
from exhibit_crm.models.search import deferred_index

from .imports_rows import VisitorRow
from .matchmaking import interests_from_answers

CHUNK = 5000  # values per IN (…): well under SQLite's (32,766) and PostgreSQL's (65,535) limits on bound parameters
DETAILS = ("title", "country", "province", "city", "language")
CONTACT = Contact.__table__
Progress = Callable[[int], None]
NO_ANSWERS: dict = {}  # one object for every registration without answers: serialised once (never changed)


@dataclass
class Person:
    """The rows of one person in the file, merged in file order; contact_id when the database knows them."""
    lines: list[int]
    contact: dict
    badge_type_id: int | None
    answers: dict
    contact_id: int | None = None
    changes: dict = field(default_factory=dict)
    created: bool = False  # its contact was created by this import: it has no sources or registrations yet


def chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _merge(person: Person, row: VisitorRow, *, phone_owner: Person | None) -> None:
    """A later row of the same person: identity fills blanks only, the rest is taken as the later word."""
    for name, value in row.contact.items():
        if name == "phone" and phone_owner not in (None, person):
            continue  # a shared office line: it stays with the first person who gave it
        if name not in IDENTITY or not person.contact.get(name):
            person.contact[name] = value
    person.badge_type_id = person.badge_type_id or row.badge_type_id
    person.answers.update(row.answers)
    person.lines.append(row.line)


def people(rows: Iterable[VisitorRow]) -> list[Person]:
    """The rows grouped into people: the same e-mail, else the same phone, is the same person."""
    found: list[Person] = []
    by_email: dict[str, Person] = {}
    by_phone: dict[str, Person] = {}
    for row in rows:
        email, phone = row.contact.get("email"), row.contact.get("phone")
        person = (by_email.get(email) if email else None) or (by_phone.get(phone) if phone else None)
        if person is None:
            person = Person([row.line], dict(row.contact), row.badge_type_id, dict(row.answers))
            if phone and phone in by_phone:
                del person.contact["phone"]
            found.append(person)
        else:
            _merge(person, row, phone_owner=by_phone.get(phone) if phone else None)
        for index, key in ((by_email, person.contact.get("email")), (by_phone, person.contact.get("phone"))):
            if key:
                index.setdefault(key, person)
    return found


_KNOWN = (CONTACT.c.id, CONTACT.c.email, CONTACT.c.phone, *(CONTACT.c[n] for n in ("full_name", *DETAILS)),
          CONTACT.c.company_id)


def write_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """INSERT every row (all with the same keys, every column but the key): one executemany."""
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        # RETURNING makes SQLAlchemy send the rows a thousand to a statement, where psycopg's executemany would send
        # one statement per row, each running PostgreSQL's statement triggers
        connection.execute(insert(table).execution_options(render_nulls=True).returning(*table.primary_key), rows)
        return
    names = list(rows[0])
    quote = connection.dialect.identifier_preparer.quote
    connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))}) "
                               f"VALUES ({', '.join('?' * len(names))})", _driver_rows(connection, table, rows))


def update_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """UPDATE the row of each row's "id" to its other values (all rows with the same keys): one executemany."""
    if not rows:
        return
    names = [name for name in rows[0] if name != "id"]
    if connection.dialect.name != "sqlite":
        statement = update(table).where(table.c.id == bindparam("_id")).values({n: bindparam(n) for n in names})
        connection.execute(statement, [{**row, "_id": row["id"]} for row in rows])
        return
    quote = connection.dialect.identifier_preparer.quote
    connection.exec_driver_sql(f"UPDATE {quote(table.name)} SET {', '.join(f'{quote(n)} = ?' for n in names)} "
                               f"WHERE id = ?", _driver_rows(connection, table, rows, [*names, "id"]))


def _driver_rows(connection: Connection, table: Table, rows: list[dict], names: list[str] | None = None) -> list:
    """The rows as the SQLite driver takes them: values through their column types' bind processors, a column at a
    time. SQLAlchemy's own executemany builds each row's parameters in Python, most of the time of a large write."""
    dialect = connection.dialect
    columns = []
    for name in names or list(rows[0]):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        values = [row[name] for row in rows]
        if process:
            try:  # most columns hold a few values many times (the import's time, False, None)
                done = {value: process(value) for value in set(values)}
                values = [done[value] for value in values]
            except TypeError:  # unhashable values (JSON): the same object is processed once
                by_id = {id(value): value for value in values}
                done = {key: process(value) for key, value in by_id.items()}
                values = [done[id(value)] for value in values]
        columns.append(values)
    return list(zip(*columns, strict=True))


def _known(session: Session, column, values: list[str]) -> dict[str, dict]:
    found = {}
    for part in chunks(values):
        for row in session.execute(select(*_KNOWN).where(column.in_(part))).mappings():
            found[row[column.name]] = dict(row)
    return found


def match(session: Session, found: list[Person]) -> dict[int, dict]:
    """Each person's contact, if the database has it (by e-mail, else phone); returns those contacts by id."""
    by_email = _known(session, CONTACT.c.email, [p.contact["email"] for p in found if p.contact.get("email")])
    by_phone = _known(session, CONTACT.c.phone, [p.contact["phone"] for p in found if p.contact.get("phone")])
    contacts: dict[int, dict] = {}
    for person in found:
        email, phone = person.contact.get("email"), person.contact.get("phone")
        known = (by_email.get(email) if email else None) or (by_phone.get(phone) if phone else None)
        if known is None:
            continue
        person.contact_id = known["id"]
        contacts.setdefault(known["id"], known)
        if phone and phone in by_phone and by_phone[phone]["id"] != known["id"]:
            del person.contact["phone"]  # matched by e-mail; the phone belongs to another contact
    return contacts


def companies(session: Session, found: list[Person], *, now: datetime) -> dict[str, int]:
    """company_key -> company id for every company the people name, creating the new ones."""
    names: dict[str, str] = {}
    for person in found:
        name = person.contact.get("company")
        if name:
            names.setdefault(company_key(name), name)
    ids = _company_ids(session, list(names))
    new = [{"name": names[key], "name_key": key, "country": "", "province": "", "city": "", "website": "",
            "created_at": now} for key in names if key not in ids]
    if new:
        with deferred_index(session.connection(), "company"):
            session.execute(insert(Company.__table__), new)
        ids.update(_company_ids(session, [row["name_key"] for row in new]))
    return ids


def _company_ids(session: Session, keys: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for part in chunks(keys):
        rows = session.execute(select(Company.id, Company.name_key).where(Company.name_key.in_(part))
                               .order_by(Company.id)).all()
        for company_id, key in rows:
            ids.setdefault(key, company_id)
    return ids


def _defaults() -> dict:
    return {c.name: c.default.arg if c.default is not None and c.default.is_scalar else None
            for c in CONTACT.columns if c.name != "id"}


def create_contacts(session: Session, new: list[Person], *, company_ids: dict[str, int], now: datetime) -> None:
    """Insert the people the database did not know, indexed for the desk in one statement; sets their contact_id."""
    if not new:
        return
    base = {**_defaults(), "language": "zh-CN", "created_at": now, "updated_at": now, "consent_marketing": False,
            "consent_share": False}
    rows = []
    for person in new:
        data = {k: v for k, v in person.contact.items() if k != "company"}
        company = person.contact.get("company")
        rows.append({**base, **data, "company_id": company_ids[company_key(company)] if company else None})
    connection = session.connection()
    after_id = connection.execute(select(func.coalesce(func.max(CONTACT.c.id), 0))).scalar_one()
    with deferred_index(connection, "contact"):
        # no RETURNING: SQLAlchemy would batch the rows into multi-row VALUES statements, on SQLite far slower
        write_rows(connection, CONTACT, rows)
    # The new rows are above after_id (ids only grow); each has its e-mail or phone, both unique. Rows another
    # writer added meanwhile (PostgreSQL) match no person of ours.
    by_email, by_phone = {}, {}
    for contact_id, email, phone in connection.execute(select(CONTACT.c.id, CONTACT.c.email, CONTACT.c.phone)
                                                       .where(CONTACT.c.id > after_id)):
        by_email[email], by_phone[phone] = contact_id, contact_id
    for person in new:
        email = person.contact.get("email")
        person.contact_id = by_email[email] if email else by_phone[person.contact["phone"]]
        person.created = True


def update_contacts(session: Session, merged: list[Person], contacts: dict[int, dict], *,
                    company_ids: dict[str, int], now: datetime) -> int:
    """Apply what the file says of known contacts (blank identity fields only); returns how many changed."""
    for person in merged:
        state = contacts[person.contact_id]
        for name, value in person.contact.items():
            if name == "company":
                name, value = "company_id", company_ids[company_key(value)]
            if state.get(name) != value and not (name in IDENTITY and state.get(name)):
                state[name] = value
                state.setdefault("_changed", set()).add(name)
    changed = [state for state in contacts.values() if state.get("_changed")]
    # identity changes go through the desk index triggers; the rest need not
    with_identity = [s for s in changed if s["_changed"] & set(IDENTITY)]
    without = [s for s in changed if not s["_changed"] & set(IDENTITY)]
    for group, columns in ((with_identity, IDENTITY), (without, ())):
        names = ("id", *columns, *DETAILS, "company_id")
        update_rows(session.connection(), CONTACT, [{**{n: s[n] for n in names}, "updated_at": now} for s in group])
    return len(changed)


def remember_source(session: Session, found: list[Person], *, source: str, now: datetime) -> None:
    """A contact_source row for every contact the import touched that did not have one for this source yet."""
    contact_ids = list(dict.fromkeys(p.contact_id for p in found))
    seen: set[int] = set()
    for part in chunks(list({p.contact_id for p in found if not p.created})):
        seen.update(session.scalars(select(ContactSource.contact_id).where(ContactSource.source == source,
                                                                           ContactSource.contact_id.in_(part))))
    rows = [{"contact_id": cid, "source": source, "first_seen_at": now} for cid in contact_ids if cid not in seen]
    write_rows(session.connection(), ContactSource.__table__, rows)


def register_all(session: Session, found: list[Person], *, edition_id: int, badge_type_id: int, questions: list,
                 now: datetime) -> int:
    """Register every person not yet registered in the edition (source "import"); returns how many."""
    registered: set[int] = set()
    for part in chunks(list({p.contact_id for p in found if not p.created})):
        registered.update(session.scalars(select(Registration.contact_id).where(
            Registration.edition_id == edition_id, Registration.contact_id.in_(part))))
    rows, interests = [], []
    for person in found:
        if person.contact_id in registered:
            continue
        registered.add(person.contact_id)
        rows.append({"contact_id": person.contact_id, "edition_id": edition_id, "source": "import",
                     "answers": person.answers or NO_ANSWERS, "badge_type_id": person.badge_type_id or badge_type_id,
                     "exhibitor_id": None, "status": "registered", "badge_version": 1, "registered_at": now,
                     "cancelled_at": None, "collected_at": None})
        interests.append(sorted(interests_from_answers(questions, person.answers)) if person.answers else [])
    if not rows:
        return 0
    write_rows(session.connection(), Registration.__table__, rows)  # far quicker than RETURNING per batch
    wanted_by_contact = {row["contact_id"]: codes for row, codes in zip(rows, interests, strict=True) if codes}
    if wanted_by_contact:
        new_ids = {}
        for part in chunks(list(wanted_by_contact)):
            new_ids.update(session.execute(select(Registration.contact_id, Registration.id).where(
                Registration.edition_id == edition_id, Registration.contact_id.in_(part))).all())
        write_rows(session.connection(), RegistrationInterest.__table__,
                   [{"registration_id": new_ids[cid], "edition_id": edition_id, "category": code}
                    for cid, codes in wanted_by_contact.items() for code in codes])
    return len(rows)
