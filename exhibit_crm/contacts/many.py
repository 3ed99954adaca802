"""Many new people at once (a group of online registrations): one statement per table instead of one per person,
each contact as upsert_contact would create it (the same apply_sighting on a blank contact)."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import NamedTuple

from sqlalchemy import insert, or_, select
from sqlmodel import Session

from .. import audit
from ..errors import InvalidInput, NotFound
from ..models import BadgeType, Contact, ContactSource, Registration
from .companies import companies
from .normalise import ContactIn, company_key
from .one import apply_sighting


def known_people(session: Session, people: list[ContactIn]) -> set[str]:
    """The e-mails and phones of these people that some contact already has, in one query."""
    emails = sorted({person.email for person in people if person.email})
    phones = sorted({person.phone for person in people if person.phone})
    if not emails and not phones:
        return set()
    table = Contact.__table__
    rows = _connection(session).execute(select(table.c.email, table.c.phone).where(
        or_(table.c.email.in_(emails), table.c.phone.in_(phones)))).all()
    wanted = {*emails, *phones}
    return {value for row in rows for value in row if value in wanted}


def _connection(session: Session):
    """The session's connection for Core statements, with the session's pending changes written first (what
    session.execute would do): a group's statements skip the ORM's execution and result layers."""
    session.flush()
    return session.connection()


def find_or_create_companies(session: Session, names: list[str]) -> dict[str, int]:
    """company_key -> id of the company of each name (created if new), blanks left out."""
    return {key: company_id for key, (company_id, _name) in companies(session, names).items()}


def _new_contact_row(person: ContactIn, *, company_id: int | None, source: str, now: datetime) -> dict:
    """The contact row upsert_contact would create for a person nobody knows: the same apply_sighting on a blank one."""
    # every row has every column, as one executemany needs
    blank = SimpleNamespace(full_name=person.full_name, email=None, phone=None, title="", country="", province="",
                            city="", language="zh-CN", consent_text_version="", consent_marketing=False,
                            consent_marketing_at=None, consent_marketing_source="", consent_share=False,
                            consent_share_at=None, consent_share_source="")
    apply_sighting(blank, person, source=source, now=now)
    return {**vars(blank), "company_id": company_id, "created_at": now}


class NewContact(NamedTuple):
    id: int
    company: str  # the name of the contact's company as stored ("" for none)


def create_contacts(session: Session, people: list[ContactIn], *, source: str, actor: audit.Actor,
                    now: datetime) -> list[int]:
    """New contacts for people no contact knows yet (see known_people), each with its own e-mail and phone, as
    upsert_contact would create them one by one; returns their ids in order."""
    return [made.id for made in create_contacts_with_companies(session, people, source=source, actor=actor, now=now)]


def create_contacts_with_companies(session: Session, people: list[ContactIn], *, source: str, actor: audit.Actor,
                                   now: datetime) -> list[NewContact]:
    """create_contacts, with the name of each new contact's company as stored (a known company keeps its name)."""
    if any(not person.email and not person.phone for person in people):
        raise InvalidInput("unreachable", "email: an e-mail address or a phone number is needed", field="email")
    if not people:
        return []
    keys = [company_key(person.company) if person.company.strip() else "" for person in people]
    stored = companies(session, [person.company for person in people], now=now)
    rows = [_new_contact_row(person, company_id=stored[key][0] if key else None, source=source, now=now)
            for person, key in zip(people, keys, strict=True)]
    # Core inserts into the tables: the ORM's bulk path costs more than the statement for a group of a few rows
    table, connection = Contact.__table__, _connection(session)
    ids = list(connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
    connection.execute(insert(ContactSource.__table__), [
        {"contact_id": contact_id, "source": source, "first_seen_at": now} for contact_id in ids])
    audit.log_many(session, "exhibit_crm.contact.created", actor=actor, object_type=Contact.__tablename__,
                   entries=[(contact_id, {"source": source}) for contact_id in ids])
    return [NewContact(contact_id, stored[key][1] if key else "") for contact_id, key in zip(ids, keys, strict=True)]


def register_new(session: Session, rows: list[tuple[int, BadgeType, dict]], *, edition_id: int, source: str,
                 actor: audit.Actor) -> list[int]:
    """Registrations for the edition of contacts created in this transaction (so none has one yet):
    (contact id, badge type of the edition, answers) each; returns their ids in order."""
    if any(badge_type.edition_id != edition_id for _contact_id, badge_type, _answers in rows):
        raise NotFound("badge type", next(bt.id for _c, bt, _a in rows if bt.edition_id != edition_id))
    if not rows:
        return []
    table = Registration.__table__
    ids = list(_connection(session).execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True),
        [{"contact_id": contact_id, "edition_id": edition_id, "badge_type_id": badge_type.id, "source": source,
          "answers": answers or {}} for contact_id, badge_type, answers in rows]).scalars())
    audit.log_many(session, "exhibit_crm.registration.created", actor=actor, object_type=Registration.__tablename__,
                   entries=[(registration_id, {"edition_id": edition_id, "source": source,
                                               "badge_type": badge_type.code})
                            for registration_id, (_contact_id, badge_type, _answers) in zip(ids, rows, strict=True)])
    return ids
