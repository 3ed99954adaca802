"""Issued badges: what a registration's badge says (with its signed code), a scanned code resolved to its current
badge, and the changes to a badge: reprint, cancel, reinstate, collect. Rendering a badge is the exporters'
(exporters.badges)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from exhibit_crm import audit
from exhibit_crm.bulk_sql import chunks
from exhibit_crm.db import found
from exhibit_crm.errors import Conflict, DomainError, InvalidInput, NotFound
from exhibit_crm.models import BadgeChange, BadgeType, Company, Contact, Edition, Registration
from exhibit_crm.models.types import utcnow

from .codes import Signer, Verifier

# badge_version is stored in 16 bits of the code
MAX_BADGE_VERSION = 2**16 - 1


@dataclass(frozen=True)
class BadgeData:
    registration_id: int
    badge_version: int
    code: str
    full_name: str
    company: str
    badge_type_code: str
    badge_type_name: str
    badge_type_name_zh: str
    color: str
    edition_name: str
    layout: str
    status: str


def _badge_query():
    return (
        select(Registration, Contact.full_name, func.coalesce(Company.name, ""), BadgeType, Edition.name,
               Edition.badge_layout)
        .join(Contact, Contact.id == Registration.contact_id)
        .join(BadgeType, BadgeType.id == Registration.badge_type_id)
        .join(Edition, Edition.id == Registration.edition_id)
        .outerjoin(Company, Company.id == Contact.company_id)
    )


def _to_badge(row, signer: Signer) -> BadgeData:
    registration, full_name, company, badge_type, edition_name, layout = row
    return BadgeData(
        registration_id=registration.id,
        badge_version=registration.badge_version,
        code=signer.sign(registration.id, registration.badge_version),
        full_name=full_name,
        company=company,
        badge_type_code=badge_type.code,
        badge_type_name=badge_type.name,
        badge_type_name_zh=badge_type.name_zh,
        color=badge_type.color,
        edition_name=edition_name,
        layout=layout,
        status=registration.status,
    )


def badge_data(session: Session, *, registration_id: int, signer: Signer) -> BadgeData:
    """Everything a badge shows for one registration, with its current signed code."""
    row = session.exec(_badge_query().where(Registration.id == registration_id)).first()
    if row is None:
        raise NotFound("registration", registration_id)
    return _to_badge(row, signer)


def badges_for(
    session: Session,
    *,
    edition_id: int,
    signer: Signer,
    badge_type_id: int | None = None,
    registration_ids: list[int] | None = None,
) -> list[BadgeData]:
    """Badges of an edition's active registrations, by company, then name, then id."""
    query = _badge_query().where(Registration.edition_id == edition_id, Registration.status == "registered")
    if badge_type_id is not None:
        query = query.where(Registration.badge_type_id == badge_type_id)
    if registration_ids is None:
        rows = list(session.exec(query))
    else:
        rows = [row for chunk in chunks(sorted(set(registration_ids)))
                for row in session.exec(query.where(Registration.id.in_(chunk)))]
    # sorted here, not in SQL, so that the order is the same whatever collation the database uses
    rows.sort(key=lambda row: (row[2].casefold(), row[1].casefold(), row[0].id))
    return [_to_badge(row, signer) for row in rows]


def _locked(session: Session, registration_id: int) -> Registration:
    # FOR UPDATE on PostgreSQL (SQLite writers are serialised already), so that two desks bumping
    # the same badge at once get consecutive versions instead of both writing the same one.
    return found(session, Registration, registration_id, what="registration", lock=True)


def _bump(session: Session, registration: Registration, *, status: str) -> tuple[int, int]:
    """A new badge version, recorded as a badge change that gate devices fetch (snapshot cursor)."""
    old = registration.badge_version
    if old >= MAX_BADGE_VERSION:
        raise Conflict("badge_version_exhausted", "this registration has been reprinted too often")
    registration.badge_version = old + 1
    session.add(BadgeChange(edition_id=registration.edition_id, registration_id=registration.id,
                            badge_version=old + 1, status=status))
    return old, old + 1


def reprint(session: Session, *, registration_id: int, actor: audit.Actor, reason: str) -> Registration:
    """Issue a new badge version so that the older badge stops working at the gates."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("required", "reason: say why the badge is reprinted", field="reason")
    registration = _locked(session, registration_id)
    if registration.status == "cancelled":
        raise Conflict("registration_cancelled", "a cancelled registration gets no badge")
    old, new = _bump(session, registration, status="registered")
    session.add(registration)
    audit.log(session, "badge_scanner.badge.reprinted", actor=actor, obj=registration,
              data={"reason": reason, "old_version": old, "new_version": new})
    session.flush()
    return registration


def cancel(session: Session, *, registration_id: int, actor: audit.Actor, reason: str = "") -> Registration:
    """Cancel a registration and revoke its badge; cancelling again changes nothing."""
    registration = _locked(session, registration_id)
    if registration.status == "cancelled":
        return registration
    old, new = _bump(session, registration, status="cancelled")
    registration.status = "cancelled"
    registration.cancelled_at = utcnow()
    session.add(registration)
    audit.log(session, "badge_scanner.registration.cancelled", actor=actor, obj=registration,
              data={"reason": (reason or "").strip(), "old_version": old, "new_version": new})
    session.flush()
    return registration


def reinstate(session: Session, *, registration_id: int, actor: audit.Actor, reason: str = "") -> Registration:
    """Bring a cancelled registration back with a new badge version: the badges printed before stay refused at the
    gates, the new one is accepted (devices learn both from the snapshot's badge changes). Reinstating a
    registration that is not cancelled changes nothing."""
    registration = _locked(session, registration_id)
    if registration.status != "cancelled":
        return registration
    old, new = _bump(session, registration, status="registered")
    registration.status = "registered"
    registration.cancelled_at = None
    session.add(registration)
    audit.log(session, "badge_scanner.registration.reinstated", actor=actor, obj=registration,
              data={"reason": (reason or "").strip(), "old_version": old, "new_version": new})
    session.flush()
    return registration


def mark_collected(session: Session, *, registration_id: int, actor: audit.Actor) -> Registration:
    """Record that the person has picked up their badge; the first time counts."""
    registration = _locked(session, registration_id)
    if registration.status == "cancelled":
        raise Conflict("registration_cancelled", "a cancelled registration gets no badge")
    return audit.first_time(session, registration, "collected_at", "badge_scanner.badge.collected", actor=actor,
                            data={"badge_version": registration.badge_version})


def resolve(session: Session, *, code: str, verifier: Verifier) -> Registration:
    """The registration a badge code names, if the code is genuine and still the current badge."""
    ref = verifier.verify(code)
    registration = found(session, Registration, ref.registration_id, what="registration")
    if registration.status == "cancelled":
        raise DomainError("revoked", "this registration was cancelled", status=409)
    if ref.badge_version != registration.badge_version:
        raise DomainError("outdated_badge",
                          f"badge version {ref.badge_version} was replaced by version {registration.badge_version}",
                          status=409)
    return registration
