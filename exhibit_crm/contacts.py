"""The CRM's memory of people: normalising how to reach them, and finding the same person again.

Every channel that learns of a person (online registration, imports, walk-ins at the desk) goes through
`upsert_contact`, so a person is one contact across editions, and through `register`, so a contact has at most
one registration per edition. Both lean on unique constraints, so two requests racing cannot make duplicates.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from . import audit
from .errors import Conflict, InvalidInput, NotFound
from .models import BadgeType, Company, Contact, ContactSource, Registration, utcnow


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


def find_contact(session: Session, *, email: str | None, phone: str | None) -> Contact | None:
    """The contact with this e-mail, else the one with this phone (both already normalised)."""
    for column, value in ((Contact.email, email), (Contact.phone, phone)):
        if value:
            found = session.scalars(select(Contact).where(column == value)).first()
            if found is not None:
                return found
    return None


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
        contact = find_contact(session, email=data.email, phone=data.phone)
        created = contact is None
        data = _without_others_phone(session, data, contact)
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
    _remember_source(session, contact_id=contact.id, source=source, now=now)
    audit.log(session, "exhibit_crm.contact.created" if created else "exhibit_crm.contact.updated", actor=actor,
              obj=contact, data={"source": source})
    return contact, created


def _without_others_phone(session: Session, data: ContactIn, contact: Contact | None) -> ContactIn:
    """Matched by e-mail but the phone is someone else's (a shared office line): keep the e-mail match only."""
    if contact is None or not data.phone or contact.phone == data.phone:
        return data
    owner = find_contact(session, email=None, phone=data.phone)
    return data if owner is None else data.model_copy(update={"phone": None})


def _remember_source(session: Session, *, contact_id: int, source: str, now: datetime) -> None:
    seen = session.scalars(select(ContactSource.id).where(ContactSource.contact_id == contact_id,
                                                          ContactSource.source == source)).first()
    if seen is None:
        try:
            with session.begin_nested():
                session.add(ContactSource(contact_id=contact_id, source=source, first_seen_at=now))
        except IntegrityError:
            pass  # recorded by a concurrent request: the first sighting stands


def register(session: Session, *, contact_id: int, edition_id: int, badge_type_id: int, source: str,
             answers: dict | None = None, actor: audit.Actor) -> tuple[Registration, bool]:
    """The contact's registration for the edition: the existing one, or a new one; True if created."""
    badge_type = session.get(BadgeType, badge_type_id)
    if badge_type is None or badge_type.edition_id != edition_id:
        raise NotFound("badge type", badge_type_id)
    for _attempt in range(2):
        existing = session.scalars(select(Registration).where(Registration.contact_id == contact_id,
                                                              Registration.edition_id == edition_id)).first()
        if existing is not None:
            return existing, False
        registration = Registration(contact_id=contact_id, edition_id=edition_id, badge_type_id=badge_type_id,
                                    source=source, answers=answers or {})
        try:
            with session.begin_nested():
                session.add(registration)
                session.flush()
        except IntegrityError:
            continue  # registered by a concurrent request: return theirs
        audit.log(session, "exhibit_crm.registration.created", actor=actor, obj=registration,
                  data={"edition_id": edition_id, "source": source, "badge_type": badge_type.code})
        return registration, True
    raise Conflict("registration_conflict", "the registration changed while it was being created")
