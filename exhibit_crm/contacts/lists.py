"""Lists of people (a visitor import): the same-person rule applied to every row at once, set-based — rows of one
person in the list merged, people matched to known contacts, known contacts updated and new ones created with a
handful of statements per table, not a handful per row. The outcome is what upsert_contact would give for each row
in turn (tests compare both ways)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlmodel import Session

from ..bulk_sql import BulkSql, chunks
from ..models import Company, Contact, ContactSource
from ..models.search import deferred_index
from .companies import companies
from .normalise import company_key
from .same_person import DETAILS, IDENTITY, changes, match

CONTACT = Contact.__table__
_KNOWN = (CONTACT.c.id, CONTACT.c.email, CONTACT.c.phone, *(CONTACT.c[n] for n in ("full_name", *DETAILS)),
          CONTACT.c.company_id, CONTACT.c.updated_at)


class Row(Protocol):
    """A row of a list: its line, and the contact fields it gives (blank ones left out)."""
    line: int
    contact: dict


@dataclass(eq=False)
class Person:
    """The rows of one person in a list, their contact fields merged in list order onto what the database knows of
    them (`known`, the contact's row, when it has them)."""
    rows: list[Row]
    contact: dict
    known: dict | None = None
    created: bool = False  # its contact was created by this list: it has no sources or registrations yet
    contact_id: int | None = None

    @property
    def lines(self) -> list[int]:
        return [row.line for row in self.rows]


@dataclass
class Written:
    """What upsert_people wrote, for a caller that may have to take it back (an import written in chunks)."""
    companies: list[int] = field(default_factory=list)  # companies it created
    contacts: list[int] = field(default_factory=list)  # contacts it created
    sourced: list[int] = field(default_factory=list)  # contacts it gave a contact_source row for the source
    changed: list[tuple[dict, dict]] = field(default_factory=list)  # (before, after) of the contacts it changed: id
    # and the columns it set


def people(session: Session, rows: Iterable[Row]) -> list[Person]:
    """The rows grouped into people by the same-person rule, as if each row were upsert_contact'ed in turn: a row
    finds a known contact or an earlier row's person by e-mail, else by phone, and merges in as a later sighting.
    Returns the people in list order (contact_id set for the known ones)."""
    rows = list(rows)
    by_email: dict[str, Person] = {}
    by_phone: dict[str, Person] = {}
    _known_people(session, rows, by_email, by_phone)
    found: dict[int, Person] = {}
    for row in rows:
        email, phone = row.contact.get("email"), row.contact.get("phone")
        person, phone_taken = match(by_email.get(email) if email else None, by_phone.get(phone) if phone else None)
        given = {n: v for n, v in row.contact.items() if n != "phone"} if phone_taken else row.contact
        if person is None:
            person = Person([], dict(given))
        else:
            person.contact.update(changes(person.contact, given))
        person.rows.append(row)
        found.setdefault(id(person), person)
        for index, key in ((by_email, person.contact.get("email")), (by_phone, person.contact.get("phone"))):
            if key:
                index.setdefault(key, person)
    return list(found.values())


def _known_people(session: Session, rows: list[Row], by_email: dict, by_phone: dict) -> None:
    """Index the known contacts these rows name (by e-mail and phone), each as a Person without rows yet."""
    emails = sorted({row.contact["email"] for row in rows if row.contact.get("email")})
    phones = sorted({row.contact["phone"] for row in rows if row.contact.get("phone")})
    persons: dict[int, Person] = {}
    for column, values in ((CONTACT.c.email, emails), (CONTACT.c.phone, phones)):
        for part in chunks(values):
            for row in session.execute(select(*_KNOWN).where(column.in_(part))).mappings():
                known = dict(row)
                person = persons.setdefault(known["id"], Person([], {n: known[n] for n in (*IDENTITY, *DETAILS)
                                                                     if known[n]}, known, contact_id=known["id"]))
                for index, key in ((by_email, known["email"]), (by_phone, known["phone"])):
                    if key:
                        index[key] = person


def still_known(session: Session, found: list[Person]) -> bool:
    """Whether the known contacts of `found` are still as `people` read them (then they may be written as matched,
    in a later transaction)."""
    known = {p.known["id"]: p.known for p in found if p.known is not None}
    names = [column.name for column in _KNOWN]
    current = {row["id"]: row for part in chunks(list(known))
               for row in session.execute(select(*_KNOWN).where(CONTACT.c.id.in_(part))).mappings()}
    return all(contact_id in current and all(current[contact_id][n] == state[n] for n in names)
               for contact_id, state in known.items())


def upsert_people(session: Session, found: list[Person], *, source: str, now: datetime,
                  written: Written | None = None, index: bool = True) -> None:
    """Write known people (see people) onto their contacts and create the others, their companies too; every
    contact keeps the list's source. With `written`, what it wrote is added to it; `index` as in create_contacts."""
    names = [p.contact.get("company", "") for p in found]
    known_companies = _stored_companies(session, names) if written is not None else set()
    company_ids = {key: company_id for key, (company_id, _name) in companies(session, names, now=now).items()}
    update_contacts(session, [p for p in found if p.known is not None], company_ids=company_ids, now=now,
                    before_after=written.changed if written is not None else None)
    new = [p for p in found if p.contact_id is None]
    create_contacts(session, new, company_ids=company_ids, now=now, index=index)
    sourced = remember_source(session, found, source=source, now=now)
    if written is not None:
        written.companies += [cid for key, cid in company_ids.items() if key not in known_companies]
        written.contacts += [p.contact_id for p in new]
        written.sourced += sourced


def _stored_companies(session: Session, names: list[str]) -> set[str]:
    """The company keys of these names that the database has."""
    keys = sorted({company_key(name) for name in names if name and name.strip()})
    return {key for part in chunks(keys) for key in
            session.scalars(select(Company.name_key).where(Company.name_key.in_(part)))}


def _defaults() -> dict:
    return {c.name: c.default.arg if c.default is not None and c.default.is_scalar else None
            for c in CONTACT.columns if c.name != "id"}


def _given(person: Person, company_ids: dict[str, int]) -> dict:
    """The contact fields a person gives, the company as its id."""
    data = {k: v for k, v in person.contact.items() if k != "company"}
    company = person.contact.get("company")
    if company:
        data["company_id"] = company_ids[company_key(company)]
    return data


def create_contacts(session: Session, new: list[Person], *, company_ids: dict[str, int], now: datetime,
                    index: bool = True) -> None:
    """Insert the people the database did not know, indexed for the desk in one statement (on SQLite with
    index=False not at all: the caller indexes them, see deferred_index); sets their contact_id."""
    if not new:
        return
    blank = {**_defaults(), "language": "zh-CN", "created_at": now, "updated_at": now, "consent_marketing": False,
             "consent_share": False, "company_id": None}
    rows = [{**blank, **changes(blank, _given(person, company_ids))} for person in new]
    connection = session.connection()
    after_id = connection.execute(select(func.coalesce(func.max(CONTACT.c.id), 0))).scalar_one()
    with deferred_index(connection, "contact", index=index):
        BulkSql(connection).insert_dicts(CONTACT, rows)
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


def update_contacts(session: Session, merged: list[Person], *, company_ids: dict[str, int], now: datetime,
                    before_after: list[tuple[dict, dict]] | None = None) -> int:
    """Apply what the list says of known contacts (the same-person rule); returns how many changed. With
    `before_after`, each changed contact's columns that changed are added to it as they were and as they are."""
    changed = []
    for person in merged:
        state = person.known
        update = changes(state, _given(person, company_ids))
        if update and before_after is not None:
            was = {"id": state["id"], "updated_at": state["updated_at"], **{n: state[n] for n in update}}
            before_after.append((was, {"id": state["id"], "updated_at": now, **update}))
        state.update(update, _changed=set(update))
        if update:
            changed.append(state)
    # identity changes go through the desk index triggers; the rest need not
    with_identity = [s for s in changed if s["_changed"] & set(IDENTITY)]
    without = [s for s in changed if not s["_changed"] & set(IDENTITY)]
    bulk = BulkSql(session.connection())
    for group, columns in ((with_identity, IDENTITY), (without, ())):
        names = ("id", *columns, *DETAILS, "company_id")
        bulk.update_dicts(CONTACT, [{**{n: s[n] for n in names}, "updated_at": now} for s in group])
    return len(changed)


def remember_source(session: Session, found: list[Person], *, source: str, now: datetime) -> list[int]:
    """A contact_source row for every contact the list touched that did not have one for this source yet; returns
    those contacts."""
    contact_ids = list(dict.fromkeys(p.contact_id for p in found))
    seen: set[int] = set()
    for part in chunks(list({p.contact_id for p in found if not p.created})):
        seen.update(session.scalars(select(ContactSource.contact_id).where(ContactSource.source == source,
                                                                           ContactSource.contact_id.in_(part))))
    rows = [{"contact_id": cid, "source": source, "first_seen_at": now} for cid in contact_ids if cid not in seen]
    BulkSql(session.connection()).insert_dicts(ContactSource.__table__, rows)
    return [row["contact_id"] for row in rows]
