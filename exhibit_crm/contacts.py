"""The CRM's memory of people: normalising how to reach them, and finding the same person again.

Every channel that learns of a person (online registration, imports, walk-ins at the desk) goes through
`upsert_contact`, so a person is one contact across editions, and through `register`, so a contact has at most
one registration per edition. Both lean on unique constraints, so two requests racing cannot make duplicates.
"""

from __future__ import annotations

import unicodedata
from contextlib import nullcontext
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import NamedTuple

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import field_validator
from sqlalchemy import insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from . import audit
from .errors import Conflict, InvalidInput, NotFound
from .models import BadgeType, Company, Contact, ContactSource, Registration, utcnow


# the same address is checked more than once on its way in (form, ContactIn, outbox), and checking costs more than
# the lookup: remember recent answers (refusals are not cached, they raise)
@lru_cache(maxsize=4096)
def normalise_email(value: str | None) -> str | None:
    """The e-mail as stored: trimmed and lower-case, or None when blank; InvalidInput naming 'email'."""
    value = unicodedata.normalize("NFKC", value or "").strip()
    if not value:
        return None
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput("invalid_email", f"email: {exc}", field="email") from None
    return checked.normalized.lower()


@lru_cache(maxsize=4096)
def normalise_phone(value: str | None, *, region: str = "CN") -> str | None:
    """The phone number in E.164 (+8613800138000), or None when blank; InvalidInput naming 'phone'."""
    value = unicodedata.normalize("NFKC", value or "").strip()  # full-width digits and ＋ become ASCII
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput("invalid_phone", f"phone: {value!r} is not a valid phone number", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def company_key(name: str) -> str:
    """How company names are compared: NFKC, case and spaces ignored."""
    return "".join(unicodedata.normalize("NFKC", name).lower().split())


# ContactIn: what any channel knows of a person; e-mail and phone are normalised on validation.
class ContactIn(SQLModel):
    full_name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    phone: str | None = None
    company: str = Field(default="", max_length=300)
    title: str = Field(default="", max_length=200)
    country: str = Field(default="", max_length=2)
    province: str = Field(default="", max_length=100)
    city: str = Field(default="", max_length=100)
    language: str = Field(default="zh-CN", max_length=8)
    # None: this channel did not ask, so an earlier answer stands
    consent_marketing: bool | None = None
    consent_share: bool | None = None
    consent_text_version: str = Field(default="", max_length=40)

    @field_validator("full_name", "company", "title", "province", "city", mode="before")
    @classmethod
    def _tidy(cls, value):
        return " ".join(unicodedata.normalize("NFKC", value or "").split())

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value):
        return normalise_email(value)

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value):
        return normalise_phone(value)


def _matches(session: Session, *, email: str | None, phone: str | None) -> tuple[Contact | None, Contact | None]:
    """The contact with this e-mail and the one with this phone (both already normalised), in one query."""
    wanted = [column == value for column, value in ((Contact.email, email), (Contact.phone, phone)) if value]
    if not wanted:
        return None, None
    found = session.scalars(select(Contact).where(or_(*wanted))).all()
    by_email = next((contact for contact in found if email and contact.email == email), None)
    by_phone = next((contact for contact in found if phone and contact.phone == phone), None)
    return by_email, by_phone


def find_contact(session: Session, *, email: str | None, phone: str | None) -> Contact | None:
    """The contact with this e-mail, else the one with this phone (both already normalised)."""
    by_email, by_phone = _matches(session, email=email, phone=phone)
    return by_email or by_phone


def find_or_create_company(session: Session, *, name: str) -> Company | None:
    """The company of that name (compared by company_key), created if new; None for a blank name."""
    if not name.strip():
        return None
    key = company_key(name)
    company = session.scalars(select(Company).where(Company.name_key == key).order_by(Company.id)).first()
    if company is None:
        company = Company(name=name.strip(), name_key=key)
        session.add(company)
        session.flush()
    return company


# Who the person is and how to reach them: a match only fills these when blank. Anyone can type a known e-mail or
# phone into a registration form or at a walk-in; that must not rename the person or redirect their mail.
IDENTITY = ("full_name", "email", "phone")


def _apply(contact: Contact, data: ContactIn, *, source: str, now: datetime) -> None:
    """Take what this channel knows; blanks never erase what an earlier channel told us."""
    for name in (*IDENTITY, "title", "country", "province", "city", "language"):
        value = getattr(data, name)
        if value and not (name in IDENTITY and getattr(contact, name)):
            setattr(contact, name, value)
    for consent in ("marketing", "share"):
        given = getattr(data, f"consent_{consent}")
        if given is not None and given != getattr(contact, f"consent_{consent}"):
            setattr(contact, f"consent_{consent}", given)
            setattr(contact, f"consent_{consent}_at", now)
            setattr(contact, f"consent_{consent}_source", source)
            contact.consent_text_version = data.consent_text_version or contact.consent_text_version
    contact.updated_at = now


def upsert_contact(session: Session, *, data: ContactIn, source: str, actor: audit.Actor,
                   now: datetime | None = None) -> tuple[Contact, bool]:
    """The contact for this person (same e-mail, else same phone), updated or created; True if created."""
    if not data.email and not data.phone:
        raise InvalidInput("unreachable", "email: an e-mail address or a phone number is needed", field="email")
    now = now or utcnow()
    company = find_or_create_company(session, name=data.company)
    for _attempt in range(2):
        by_email, by_phone = _matches(session, email=data.email, phone=data.phone)
        contact = by_email or by_phone
        created = contact is None
        if by_email is not None and by_phone not in (None, by_email):
            # matched by e-mail but the phone is someone else's (a shared office line): keep the e-mail match only
            data = data.model_copy(update={"phone": None})
        try:
            with session.begin_nested():
                if created:
                    contact = Contact(full_name=data.full_name, created_at=now)
                    session.add(contact)
                _apply(contact, data, source=source, now=now)
                if company is not None:
                    contact.company_id = company.id
                session.flush()
            break
        except IntegrityError:
            # another request stored the same e-mail or phone in between: take theirs and update it
            if _attempt:
                raise Conflict("contact_conflict", "email: this e-mail or phone belongs to another contact",
                               field="email") from None
    _remember_source(session, contact_id=contact.id, source=source, now=now, new_contact=created)
    audit.log(session, "exhibit_crm.contact.created" if created else "exhibit_crm.contact.updated", actor=actor,
              obj=contact, data={"source": source})
    return contact, created


def _remember_source(session: Session, *, contact_id: int, source: str, now: datetime, new_contact: bool) -> None:
    if new_contact:
        # nobody else sees a contact before its transaction commits, so nothing can race this first sighting
        session.execute(insert(ContactSource.__table__).values(contact_id=contact_id, source=source, first_seen_at=now))
        return
    seen = session.scalars(select(ContactSource.id).where(ContactSource.contact_id == contact_id,
                                                          ContactSource.source == source)).first()
    if seen is None:
        try:
            with session.begin_nested():
                session.add(ContactSource(contact_id=contact_id, source=source, first_seen_at=now))
        except IntegrityError:
            pass  # recorded by a concurrent request: the first sighting stands


def register(session: Session, *, contact_id: int, edition_id: int, badge_type_id: int, source: str,
             answers: dict | None = None, actor: audit.Actor, new_contact: bool = False) -> tuple[Registration, bool]:
    """The contact's registration for the edition: the existing one, or a new one; True if created.
    `new_contact`: the contact was created in this transaction, so it has no registration yet."""
    badge_type = session.get(BadgeType, badge_type_id)
    if badge_type is None or badge_type.edition_id != edition_id:
        raise NotFound("badge type", badge_type_id)
    for _attempt in range(2):
        existing = None if new_contact else session.scalars(select(Registration).where(
            Registration.contact_id == contact_id, Registration.edition_id == edition_id)).first()
        if existing is not None:
            return existing, False
        registration = Registration(contact_id=contact_id, edition_id=edition_id, badge_type_id=badge_type_id,
                                    source=source, answers=answers or {})
        try:
            # no other transaction can register a contact it cannot see yet: a new contact needs no savepoint
            with nullcontext() if new_contact else session.begin_nested():
                session.add(registration)
                session.flush()
        except IntegrityError:
            continue  # registered by a concurrent request: return theirs
        audit.log(session, "exhibit_crm.registration.created", actor=actor, obj=registration,
                  data={"edition_id": edition_id, "source": source, "badge_type": badge_type.code})
        return registration, True
    raise Conflict("registration_conflict", "the registration changed while it was being created")


# Many new people at once (a group of online registrations): one statement per table instead of one per person.

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
    wanted = {company_key(name): name.strip() for name in names if name.strip()}
    if not wanted:
        return {}
    return {key: company_id for key, (company_id, _name) in _companies(session, wanted).items()}


def _companies(session: Session, wanted: dict[str, str]) -> dict[str, tuple[int, str]]:
    """company_key -> (id, name as stored) for {company_key: name}, companies created for new keys."""
    table = Company.__table__
    connection = _connection(session)
    found: dict[str, tuple[int, str]] = {}
    for key, company_id, name in connection.execute(select(table.c.name_key, table.c.id, table.c.name).where(
            table.c.name_key.in_(list(wanted))).order_by(table.c.id.desc())):
        found[key] = (company_id, name)  # lowest id wins, as in find_or_create_company
    new = [{"name": name, "name_key": key} for key, name in wanted.items() if key not in found]
    if new:
        ids = connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), new).scalars()
        found.update({row["name_key"]: (company_id, row["name"]) for row, company_id in zip(new, ids, strict=True)})
    return found


def _new_contact_row(person: ContactIn, *, company_id: int | None, source: str, now: datetime) -> dict:
    """The contact row upsert_contact would create for a person nobody knows: the same _apply on a blank one."""
    # every row has every column, as one executemany needs
    blank = SimpleNamespace(full_name=person.full_name, email=None, phone=None, title="", country="", province="",
                            city="", language="zh-CN", consent_text_version="", consent_marketing=False,
                            consent_marketing_at=None, consent_marketing_source="", consent_share=False,
                            consent_share_at=None, consent_share_source="")
    _apply(blank, person, source=source, now=now)
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
    wanted = {key: person.company.strip() for key, person in zip(keys, people, strict=True) if key}
    companies = _companies(session, wanted) if wanted else {}
    rows = [_new_contact_row(person, company_id=companies[key][0] if key else None, source=source, now=now)
            for person, key in zip(people, keys, strict=True)]
    # Core inserts into the tables: the ORM's bulk path costs more than the statement for a group of a few rows
    table, connection = Contact.__table__, _connection(session)
    ids = list(connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
    connection.execute(insert(ContactSource.__table__), [
        {"contact_id": contact_id, "source": source, "first_seen_at": now} for contact_id in ids])
    audit.log_many(session, "exhibit_crm.contact.created", actor=actor, object_type=Contact.__tablename__,
                   entries=[(contact_id, {"source": source}) for contact_id in ids])
    return [NewContact(contact_id, companies[key][1] if key else "") for contact_id, key in zip(ids, keys, strict=True)]


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
