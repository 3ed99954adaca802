"""One person at a time (online registration, a walk-in at the desk, exhibitor staff from the portal): the contact
for a person, updated or created by the same-person rule, and the contact's one registration per edition. Both lean
on unique constraints, so two requests racing cannot make duplicates."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime

from sqlalchemy import insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from .. import audit
from ..db import found
from ..errors import Conflict, InvalidInput
from ..models import BadgeType, Contact, ContactSource, Registration, utcnow
from .companies import find_or_create_company
from .normalise import ContactIn
from .same_person import DETAILS, IDENTITY, changes, match


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
    return match(*_matches(session, email=email, phone=phone))[0]


def apply_sighting(contact, data: ContactIn, *, source: str, now: datetime) -> None:
    """Take what this channel knows, by the same-person rule; consents as given, with their time and source."""
    fields = (*IDENTITY, *DETAILS)
    for name, value in changes({n: getattr(contact, n) for n in fields}, {n: getattr(data, n) for n in fields}).items():
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
        contact, phone_taken = match(*_matches(session, email=data.email, phone=data.phone))
        created = contact is None
        if phone_taken:
            data = data.model_copy(update={"phone": None})
        try:
            with session.begin_nested():
                if created:
                    contact = Contact(full_name=data.full_name, created_at=now)
                    session.add(contact)
                apply_sighting(contact, data, source=source, now=now)
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
    badge_type = found(session, BadgeType, badge_type_id, what="badge type", edition_id=edition_id)
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
