"""The registration desk: picking the edition, walk-ins, the person page, printing, and exhibitors moving in.

Badge codes, reprints, cancellations and collection are the badge services' (badge_scanner.issued_badges); the desk
adds the checks that a registration or exhibitor belongs to the edition the desk works for.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Field, Session, SQLModel

from badge_scanner import issued_badges as badges
from badge_scanner.codes import Signer, Verifier
from exhibit_crm import audit, contacts, editions
from exhibit_crm.answers import FormRefused, check_answers
from exhibit_crm.db import found
from exhibit_crm.errors import Conflict, DomainError, InvalidInput, validate_input
from exhibit_crm.models import (
    AuditLog,
    BadgeType,
    Company,
    Contact,
    Exhibitor,
    Registration,
    RegistrationQuestion,
)

from . import search

SOURCE = "walk_in"
HISTORY_LIMIT = 30
_PHONE_LIKE = re.compile(r"[+\d][\d\s()./-]{5,}")


# WalkInIn: the walk-in form as the desk typed it; walk_in checks and normalises every field.
class WalkInIn(SQLModel):
    full_name: str = ""
    company: str = ""
    email: str = ""
    phone: str = ""
    badge_type_id: int | None = None
    # question key -> the value (single choice, text) or values (multiple choice)
    answers: dict[str, str | list[str]] = Field(default_factory=dict)


class WalkInRefused(FormRefused):
    """A walk-in form with fields to correct; `errors` maps each field, in form order, to its error."""


@dataclass(frozen=True)
class Answer:
    key: str
    label: str
    label_zh: str
    values: list[tuple[str, str]]  # (English, Chinese) label of each chosen value, or the text typed


@dataclass(frozen=True)
class RegistrationView:
    """Everything the person page shows of one registration."""

    id: int
    edition: editions.EditionChoice
    contact_id: int
    full_name: str
    company: str
    title: str
    email: str | None
    phone: str | None
    badge_type_name: str
    badge_type_name_zh: str
    badge_color: str
    source: str
    status: str  # registered | cancelled | collected
    badge_version: int
    registered_at: datetime
    collected_at: datetime | None
    cancelled_at: datetime | None
    answers: list[Answer] = field(default_factory=list)
    history: list[AuditLog] = field(default_factory=list)


@dataclass(frozen=True)
class Arrival:
    exhibitor_id: int
    company: str
    booth: str
    status: str
    arrived_at: datetime | None

    @property
    def missing(self) -> bool:
        """Expected at move-in and not seen yet; a cancelled exhibitor is not expected."""
        return self.arrived_at is None and self.status != "cancelled"


@dataclass(frozen=True)
class ArrivalBoard:
    edition: editions.EditionChoice
    rows: list[Arrival]
    total: int
    missing: int


def desk_status(registration: Registration) -> str:
    """What the desk calls a registration's state: registered, cancelled or collected."""
    if registration.status == "cancelled":
        return "cancelled"
    return "collected" if registration.collected_at is not None else "registered"


# The desk's own page.

def badge_types(session: Session, *, edition_id: int) -> list[BadgeType]:
    return list(session.scalars(select(BadgeType).where(BadgeType.edition_id == edition_id).order_by(BadgeType.id)))


def questions(session: Session, *, edition_id: int, required_only: bool = False) -> list[RegistrationQuestion]:
    query = select(RegistrationQuestion).where(RegistrationQuestion.edition_id == edition_id)
    if required_only:
        query = query.where(RegistrationQuestion.required.is_(True))
    return list(session.scalars(query.order_by(RegistrationQuestion.position, RegistrationQuestion.id)))


def find(session: Session, *, edition_id: int, query: str, verifier: Verifier | None,
         limit: int = 20) -> list[search.Hit]:
    """The people the desk's search box names: this edition's, and people it knows who have not registered yet
    (a walk-in then starts from what the CRM knows of them); nobody for a blank box."""
    query = query.strip()
    if not query:
        return []
    return search.search(session, edition_id=edition_id, query=query, verifier=verifier, limit=limit,
                         include_unregistered=True)


def desk_home(session: Session, *, edition_id: int, query: str, verifier: Verifier | None, limit: int = 20) -> dict:
    """The desk page: its edition, and the people found for the search box's text."""
    return {"edition": editions.choice(session, edition_id=edition_id),
            "hits": find(session, edition_id=edition_id, query=query, verifier=verifier, limit=limit)}


def walk_in_form(session: Session, *, edition_id: int) -> dict:
    """What the walk-in form offers: the edition, its badge types and its required questions."""
    return {"edition": editions.choice(session, edition_id=edition_id),
            "badge_types": badge_types(session, edition_id=edition_id),
            "questions": questions(session, edition_id=edition_id, required_only=True)}


def walk_in_prefill(query: str) -> dict[str, str]:
    """The walk-in form's first values from what the desk searched for: an e-mail, a phone number or a name."""
    query = " ".join(unicodedata.normalize("NFKC", query or "").split())
    if not query:
        return {}
    if "@" in query:
        return {"email": query}
    if _PHONE_LIKE.fullmatch(query):
        return {"phone": query}
    return {"full_name": query}


# Walk-in registration.

def walk_in(session: Session, *, edition_id: int, form: WalkInIn, actor: audit.Actor) -> Registration:
    """Register a person at the desk, reusing their contact and their registration if we know them already."""
    edition = editions.choice(session, edition_id=edition_id)
    person, badge_type, answers = _checked(session, edition_id=edition.id, form=form)
    contact, contact_created = contacts.upsert_contact(session, data=person, source=SOURCE, actor=actor)
    registration, created = contacts.register(session, contact_id=contact.id, edition_id=edition.id,
                                              badge_type_id=badge_type.id, source=SOURCE, answers=answers,
                                              actor=actor)
    if registration.status == "cancelled":
        # their badge was cancelled on purpose; printing a new one is a decision for the organiser, not a walk-in
        raise Conflict("registration_cancelled", "this person's registration for the edition was cancelled")
    audit.log(session, "event_phases.on_site.walk_in", actor=actor, obj=registration,
              data={"contact_created": contact_created, "registration_created": created})
    session.flush()
    return registration


def _checked(session: Session, *, edition_id: int, form: WalkInIn) -> tuple[contacts.ContactIn, BadgeType, dict]:
    """Every field checked before anything is written, so that the desk sees all its mistakes at once."""
    errors: dict[str, DomainError] = {}
    name = " ".join(unicodedata.normalize("NFKC", form.full_name or "").split())
    if not name:
        errors["full_name"] = InvalidInput("required", "full_name: the name is needed", field="full_name")
    email = _collect(errors, "email", contacts.normalise_email, form.email)
    phone = _collect(errors, "phone", contacts.normalise_phone, form.phone)
    if not errors.keys() & {"email", "phone"} and not email and not phone:
        errors["email"] = InvalidInput("unreachable", "email: an e-mail address or a phone number is needed",
                                       field="email")
    badge_type = session.get(BadgeType, form.badge_type_id) if form.badge_type_id else None
    if badge_type is None or badge_type.edition_id != edition_id:
        errors["badge_type_id"] = InvalidInput("required", "badge_type_id: choose one of the edition's badge types",
                                               field="badge_type_id")
    answers = check_answers(questions(session, edition_id=edition_id), form.answers, errors)
    person = None
    if not errors:
        person = _collect(errors, "full_name", lambda data: validate_input(contacts.ContactIn, data),
                          {"full_name": name, "company": form.company, "email": email, "phone": phone})
    if errors:
        raise WalkInRefused.ranked(errors, ["full_name", "company", "email", "phone", "badge_type_id"])
    return person, badge_type, answers


def _collect(errors: dict[str, DomainError], name: str, check, value):
    """The checked value, or None with the refusal recorded under the field it names."""
    try:
        return check(value)
    except InvalidInput as exc:
        errors[exc.field or name] = exc
        return None


# One registration: the person page, and the badge to print.

def _in_edition(session: Session, *, edition_id: int, registration_id: int) -> Registration:
    return found(session, Registration, registration_id, what="registration", edition_id=edition_id)


def registration_view(session: Session, *, edition_id: int, registration_id: int) -> RegistrationView:
    """The person page of a registration; NotFound if it is not one of this edition's."""
    registration = _in_edition(session, edition_id=edition_id, registration_id=registration_id)
    contact = session.get(Contact, registration.contact_id)
    company = session.get(Company, contact.company_id) if contact.company_id else None
    badge_type = session.get(BadgeType, registration.badge_type_id)
    history = session.scalars(select(AuditLog).where(AuditLog.object_type == "registration",
                                                     AuditLog.object_id == registration.id)
                              .order_by(AuditLog.id.desc()).limit(HISTORY_LIMIT))
    return RegistrationView(
        id=registration.id, edition=editions.choice(session, edition_id=edition_id), contact_id=contact.id,
        full_name=contact.full_name, company=company.name if company else "", title=contact.title,
        email=contact.email, phone=contact.phone, badge_type_name=badge_type.name,
        badge_type_name_zh=badge_type.name_zh, badge_color=badge_type.color, source=registration.source,
        status=desk_status(registration), badge_version=registration.badge_version,
        registered_at=registration.registered_at, collected_at=registration.collected_at,
        cancelled_at=registration.cancelled_at,
        answers=_answers(questions(session, edition_id=edition_id), registration.answers),
        history=list(history),
    )


def _answers(edition_questions: list[RegistrationQuestion], given: dict) -> list[Answer]:
    shown = []
    for question in edition_questions:
        raw = given.get(question.key)
        if raw in (None, "", []):
            continue
        labels = {str(o.get("value")): (str(o.get("label") or o.get("value")), str(o.get("label_zh") or ""))
                  for o in question.options}
        values = [labels.get(str(value), (str(value), "")) for value in (raw if isinstance(raw, list) else [raw])]
        shown.append(Answer(key=question.key, label=question.label, label_zh=question.label_zh, values=values))
    return shown


def printable_badge(session: Session, *, edition_id: int, registration_id: int, signer: Signer,
                    actor: audit.Actor) -> badges.BadgeData:
    """The current badge of a registration of this edition, for printing; the print is audited."""
    registration = _in_edition(session, edition_id=edition_id, registration_id=registration_id)
    if registration.status == "cancelled":
        raise Conflict("registration_cancelled", "a cancelled registration gets no badge")
    badge = badges.badge_data(session, registration_id=registration.id, signer=signer)
    audit.log(session, "event_phases.on_site.badge.printed", actor=actor, obj=registration,
              data={"badge_version": badge.badge_version})
    session.flush()
    return badge


def reprint(session: Session, *, edition_id: int, registration_id: int, reason: str,
            actor: audit.Actor) -> Registration:
    """A new badge version for a registration of this edition; the older badge stops working."""
    _in_edition(session, edition_id=edition_id, registration_id=registration_id)
    return badges.reprint(session, registration_id=registration_id, actor=actor, reason=reason)


def cancel(session: Session, *, edition_id: int, registration_id: int, reason: str,
           actor: audit.Actor) -> Registration:
    """Cancel a registration of this edition and revoke its badge."""
    _in_edition(session, edition_id=edition_id, registration_id=registration_id)
    return badges.cancel(session, registration_id=registration_id, actor=actor, reason=reason)


def reinstate(session: Session, *, edition_id: int, registration_id: int, reason: str,
              actor: audit.Actor) -> Registration:
    """Bring back a cancelled registration of this edition with a new badge; the old badges stay refused."""
    _in_edition(session, edition_id=edition_id, registration_id=registration_id)
    return badges.reinstate(session, registration_id=registration_id, actor=actor, reason=reason)


def mark_collected(session: Session, *, edition_id: int, registration_id: int, actor: audit.Actor) -> Registration:
    """Record that the person of a registration of this edition picked up their badge."""
    _in_edition(session, edition_id=edition_id, registration_id=registration_id)
    return badges.mark_collected(session, registration_id=registration_id, actor=actor)


# Exhibitors arriving at move-in.

def exhibitor_arrivals(session: Session, *, edition_id: int, only_missing: bool = False) -> list[Arrival]:
    """The edition's exhibitors with their arrival, by company name; or only those expected and not arrived."""
    query = (select(Exhibitor, Company.name).join(Company, Company.id == Exhibitor.company_id)
             .where(Exhibitor.edition_id == edition_id))
    if only_missing:
        query = query.where(Exhibitor.arrived_at.is_(None), Exhibitor.status != "cancelled")
    rows = [Arrival(exhibitor_id=exhibitor.id, company=name, booth=_booth(exhibitor), status=exhibitor.status,
                    arrived_at=exhibitor.arrived_at) for exhibitor, name in session.execute(query)]
    # sorted here so that the order does not depend on the database's collation
    rows.sort(key=lambda row: (row.company.casefold(), row.exhibitor_id))
    return rows


def _booth(exhibitor: Exhibitor) -> str:
    if exhibitor.booth_number and exhibitor.booth_hall and not exhibitor.booth_number.startswith(exhibitor.booth_hall):
        return f"{exhibitor.booth_hall} {exhibitor.booth_number}"
    return exhibitor.booth_number or exhibitor.booth_hall or ""


def arrival_board(session: Session, *, edition_id: int, only_missing: bool = False) -> ArrivalBoard:
    """The move-in page: the edition, its exhibitors (all or those still missing) and how many are missing."""
    edition = editions.choice(session, edition_id=edition_id)
    missing = session.scalar(select(func.count()).select_from(Exhibitor).where(
        Exhibitor.edition_id == edition_id, Exhibitor.arrived_at.is_(None), Exhibitor.status != "cancelled"))
    total = session.scalar(select(func.count()).select_from(Exhibitor).where(Exhibitor.edition_id == edition_id))
    rows = exhibitor_arrivals(session, edition_id=edition_id, only_missing=only_missing)
    return ArrivalBoard(edition=edition, rows=rows, total=total, missing=missing)


def check_in_exhibitor(session: Session, *, exhibitor_id: int, edition_id: int, actor: audit.Actor) -> Exhibitor:
    """Record that an exhibitor of this edition arrived at move-in; the first check-in counts."""
    exhibitor = found(session, Exhibitor, exhibitor_id, what="exhibitor", lock=True, edition_id=edition_id)
    if exhibitor.status == "cancelled":
        raise Conflict("exhibitor_cancelled", "a cancelled exhibitor does not move in")
    return audit.first_time(session, exhibitor, "arrived_at", "event_phases.on_site.exhibitor.arrived", actor=actor,
                            data={"edition_id": edition_id})
