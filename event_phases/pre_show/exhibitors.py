"""Exhibitors of an edition: booking status, booth, product categories and staff allowance (their users' invitations
are in `invitations`).

Status moves forward — prospect → contracted → paid, steps may be skipped — and any status may be cancelled.
A cancelled exhibitor may be reopened as a prospect (one company has one exhibitor per edition, so a company that
comes back after cancelling takes its old record up again); no other step goes backwards. Every change is kept
with its date (exhibitor_status_change). Cancelling releases the booth, so that it can be sold again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from exhibit_crm import audit, contacts
from exhibit_crm.errors import Conflict, InvalidInput, NotFound
from exhibit_crm.exhibitors import booth_label, count_interested
from exhibit_crm.models import (
    BadgeType,
    Company,
    Contact,
    Edition,
    Exhibitor,
    ExhibitorStatusChange,
    ExhibitorUser,
    ProductCategory,
    Registration,
    utcnow,
)
from exhibit_crm.models.exhibitors import EXHIBITOR_STATUSES

# status -> the statuses it may change to
TRANSITIONS = {
    "prospect": ("contracted", "paid", "cancelled"),
    "contracted": ("paid", "cancelled"),
    "paid": ("cancelled",),
    "cancelled": ("prospect",),
}
STAFF_BADGE_TYPE = "exhibitor_staff"
MAX_ALLOWANCE = 1000


@dataclass(frozen=True)
class ExhibitorRow:
    id: int
    company: str
    status: str
    booth: str
    booth_sqm: float | None
    categories: tuple[str, ...]
    staff: int
    staff_allowance: int


@dataclass(frozen=True)
class StaffMember:
    registration_id: int
    full_name: str
    email: str | None
    phone: str | None
    status: str
    badge_version: int
    registered_at: datetime


@dataclass(frozen=True)
class ExhibitorView:
    """Everything the organiser's exhibitor page shows."""

    exhibitor: Exhibitor
    company: Company
    edition: Edition
    booth: str
    history: list[ExhibitorStatusChange]
    users: list[ExhibitorUser]
    staff: list[StaffMember]
    active_staff: int
    matched_visitors: int
    categories: list[ProductCategory]

    @property
    def next_statuses(self) -> tuple[str, ...]:
        return TRANSITIONS[self.exhibitor.status]


# Reading.

def edition_of(session: Session, *, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise NotFound("edition", edition_id)
    return edition


def categories(session: Session, *, edition_id: int) -> list[ProductCategory]:
    """The edition-wide product categories exhibitors pick from."""
    return list(session.scalars(select(ProductCategory).where(ProductCategory.edition_id == edition_id)
                                .order_by(ProductCategory.code)))


def exhibitor_in(session: Session, *, edition_id: int | None, exhibitor_id: int, lock: bool = False) -> Exhibitor:
    """The exhibitor, locked for update if asked; NotFound unless it is one of the edition's (any edition if None)."""
    if lock:
        # FOR UPDATE on PostgreSQL serialises changes to one exhibitor; SQLite writers are serialised already
        exhibitor = session.get(Exhibitor, exhibitor_id, with_for_update=True, populate_existing=True)
    else:
        exhibitor = session.get(Exhibitor, exhibitor_id)
    if exhibitor is None or (edition_id is not None and exhibitor.edition_id != edition_id):
        raise NotFound("exhibitor", exhibitor_id)
    return exhibitor


def active_staff(session: Session, *, exhibitor_id: int) -> int:
    """How many staff badges of the exhibitor are active: the ones its allowance counts."""
    return session.scalar(select(func.count()).select_from(Registration).where(
        Registration.exhibitor_id == exhibitor_id, Registration.status == "registered")) or 0


def exhibitor_list(session: Session, *, edition_id: int, status: str = "") -> list[ExhibitorRow]:
    """The edition's exhibitors by company name, or only those with the given status."""
    edition_of(session, edition_id=edition_id)
    query = (select(Exhibitor, Company.name).join(Company, Company.id == Exhibitor.company_id)
             .where(Exhibitor.edition_id == edition_id))
    if status:
        query = query.where(Exhibitor.status == status)
    staff = dict(session.execute(
        select(Registration.exhibitor_id, func.count()).join(Exhibitor, Exhibitor.id == Registration.exhibitor_id)
        .where(Exhibitor.edition_id == edition_id, Registration.status == "registered")
        .group_by(Registration.exhibitor_id)).all())
    rows = [ExhibitorRow(id=exhibitor.id, company=name, status=exhibitor.status, booth=booth_label(exhibitor),
                         booth_sqm=exhibitor.booth_sqm, categories=tuple(exhibitor.product_categories or ()),
                         staff=staff.get(exhibitor.id, 0), staff_allowance=exhibitor.staff_allowance)
            for exhibitor, name in session.execute(query)]
    # sorted here so that the order does not depend on the database's collation
    rows.sort(key=lambda row: (row.company.casefold(), row.id))
    return rows


def staff_of(session: Session, *, exhibitor_id: int) -> list[StaffMember]:
    """The exhibitor's staff registrations, active ones first, then by name."""
    rows = session.execute(select(Registration, Contact).join(Contact, Contact.id == Registration.contact_id)
                           .where(Registration.exhibitor_id == exhibitor_id))
    staff = [StaffMember(registration_id=reg.id, full_name=contact.full_name, email=contact.email,
                         phone=contact.phone, status=reg.status, badge_version=reg.badge_version,
                         registered_at=reg.registered_at) for reg, contact in rows]
    staff.sort(key=lambda member: (member.status != "registered", member.full_name.casefold(), member.registration_id))
    return staff


def exhibitor_view(session: Session, *, edition_id: int, exhibitor_id: int) -> ExhibitorView:
    """The organiser's page of one exhibitor."""
    exhibitor = exhibitor_in(session, edition_id=edition_id, exhibitor_id=exhibitor_id)
    history = session.scalars(select(ExhibitorStatusChange).where(ExhibitorStatusChange.exhibitor_id == exhibitor.id)
                              .order_by(ExhibitorStatusChange.changed_at, ExhibitorStatusChange.id))
    users = session.scalars(select(ExhibitorUser).where(ExhibitorUser.exhibitor_id == exhibitor.id)
                            .order_by(ExhibitorUser.email))
    return ExhibitorView(
        exhibitor=exhibitor, company=session.get(Company, exhibitor.company_id),
        edition=edition_of(session, edition_id=edition_id), booth=booth_label(exhibitor), history=list(history),
        users=list(users), staff=staff_of(session, exhibitor_id=exhibitor.id),
        active_staff=active_staff(session, exhibitor_id=exhibitor.id),
        matched_visitors=count_interested(session, exhibitor_id=exhibitor.id),
        categories=categories(session, edition_id=edition_id))


def find_companies(session: Session, *, edition_id: int, query: str, limit: int = 20) -> list[tuple[Company, bool]]:
    """Companies whose name contains the text, each with whether it exhibits in the edition already."""
    key = contacts.company_key(query or "")
    if not key:
        return []
    pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    found = list(session.scalars(select(Company).where(Company.name_key.like(pattern, escape="\\"))
                                 .order_by(Company.name_key, Company.id).limit(limit)))
    taken = set(session.scalars(select(Exhibitor.company_id).where(
        Exhibitor.edition_id == edition_id, Exhibitor.company_id.in_([company.id for company in found]))))
    return [(company, company.id in taken) for company in found]


# Creating and booking.

def create_exhibitor(session: Session, *, edition_id: int, actor: audit.Actor, company_name: str = "",
                     company_id: int | None = None, now: datetime | None = None) -> Exhibitor:
    """An exhibitor of the edition for an existing company (by id) or one named (found or created)."""
    now = now or utcnow()
    edition_of(session, edition_id=edition_id)
    if company_id is not None:
        company = session.get(Company, company_id)
        if company is None:
            raise NotFound("company", company_id)
    else:
        name = " ".join((company_name or "").split())
        if len(name) > 300:
            raise InvalidInput("too_long", "company: at most 300 characters", field="company_name")
        company = contacts.find_or_create_company(session, name=name)
        if company is None:
            raise InvalidInput("required", "company: enter the company's name", field="company_name")
    exhibitor = Exhibitor(edition_id=edition_id, company_id=company.id, created_at=now)
    try:
        with session.begin_nested():
            session.add(exhibitor)
            session.flush()
    except IntegrityError:
        raise Conflict("exhibitor_exists", f"company: {company.name} exhibits in this edition already",
                       field="company_name") from None
    session.add(ExhibitorStatusChange(exhibitor_id=exhibitor.id, status=exhibitor.status, changed_at=now))
    audit.log(session, "event_phases.pre_show.exhibitor.created", actor=actor, obj=exhibitor,
              data={"edition_id": edition_id, "company_id": company.id, "company": company.name})
    session.flush()
    return exhibitor


def change_status(session: Session, *, edition_id: int | None, exhibitor_id: int, status: str, actor: audit.Actor,
                  now: datetime | None = None) -> Exhibitor:
    """Move the exhibitor to another status (see TRANSITIONS), recording the date; cancelling frees the booth."""
    now = now or utcnow()
    if status not in EXHIBITOR_STATUSES:
        raise InvalidInput("invalid_status", f"status: one of {', '.join(EXHIBITOR_STATUSES)}", field="status")
    exhibitor = exhibitor_in(session, edition_id=edition_id, exhibitor_id=exhibitor_id, lock=True)
    old = exhibitor.status
    if status == old:
        return exhibitor
    if status not in TRANSITIONS[old]:
        raise Conflict("invalid_transition", f"status: {old} cannot change to {status}", field="status")
    data = {"from": old, "to": status}
    if status == "cancelled" and (exhibitor.booth_hall or exhibitor.booth_number):
        data["released_booth"] = booth_label(exhibitor)
        exhibitor.booth_hall = exhibitor.booth_number = None
    exhibitor.status = status
    session.add(exhibitor)
    session.add(ExhibitorStatusChange(exhibitor_id=exhibitor.id, status=status, changed_at=now))
    audit.log(session, "event_phases.pre_show.exhibitor.status_changed", actor=actor, obj=exhibitor, data=data)
    session.flush()
    return exhibitor


def _booth_holder(session: Session, *, edition_id: int, hall: str, number: str, other_than: int) -> str | None:
    return session.scalars(select(Company.name).join(Exhibitor, Exhibitor.company_id == Company.id).where(
        Exhibitor.edition_id == edition_id, Exhibitor.booth_hall == hall, Exhibitor.booth_number == number,
        Exhibitor.id != other_than)).first()


def _booth_taken(hall: str, number: str, holder: str | None) -> Conflict:
    who = holder or "another exhibitor"
    return Conflict("booth_taken", f"booth: {hall} {number} is already assigned to {who}", field="booth_number")


def assign_booth(session: Session, *, edition_id: int | None, exhibitor_id: int, hall: str, number: str,
                 sqm: float | None, actor: audit.Actor) -> Exhibitor:
    """Give the exhibitor a booth (hall, number, m²), or none when hall and number are blank; a booth that
    another exhibitor of the edition holds is refused."""
    hall, number = " ".join((hall or "").split()), " ".join((number or "").split())
    if bool(hall) != bool(number):
        field = "booth_hall" if not hall else "booth_number"
        raise InvalidInput("required", f"{field}: a booth needs both a hall and a number", field=field)
    if len(hall) > 20 or len(number) > 20:
        raise InvalidInput("too_long", "booth: hall and number have at most 20 characters each", field="booth_number")
    if sqm is not None and not (0 <= sqm <= 100_000):
        raise InvalidInput("invalid_sqm", "booth_sqm: a size in square metres", field="booth_sqm")
    exhibitor = exhibitor_in(session, edition_id=edition_id, exhibitor_id=exhibitor_id, lock=True)
    if exhibitor.status == "cancelled" and hall:
        raise Conflict("exhibitor_cancelled", "booth: a cancelled exhibitor gets no booth", field="booth_number")
    if hall:
        holder = _booth_holder(session, edition_id=exhibitor.edition_id, hall=hall, number=number,
                               other_than=exhibitor.id)
        if holder is not None:
            raise _booth_taken(hall, number, holder)
    old = booth_label(exhibitor)
    try:
        # changed inside the savepoint: begin_nested flushes pending changes first, outside it
        with session.begin_nested():
            exhibitor.booth_hall, exhibitor.booth_number, exhibitor.booth_sqm = hall or None, number or None, sqm
            session.add(exhibitor)
            session.flush()
    except IntegrityError:
        # another request took the booth between our check and our write: the unique constraint decided
        session.refresh(exhibitor)
        raise _booth_taken(hall, number, _booth_holder(session, edition_id=exhibitor.edition_id, hall=hall,
                                                       number=number, other_than=exhibitor.id)) from None
    audit.log(session, "event_phases.pre_show.exhibitor.booth_assigned", actor=actor, obj=exhibitor,
              data={"from": old, "to": booth_label(exhibitor), "sqm": sqm})
    session.flush()
    return exhibitor


def checked_categories(session: Session, *, edition_id: int, codes: list[str]) -> list[str]:
    """The codes, deduplicated in the edition list's order; InvalidInput naming any code not on the list."""
    known = [category.code for category in categories(session, edition_id=edition_id)]
    wanted = {str(code).strip() for code in codes if str(code).strip()}
    unknown = sorted(wanted - set(known))
    if unknown:
        raise InvalidInput("unknown_category", f"product_categories: not a category of this edition: "
                           f"{', '.join(unknown)}", field="product_categories")
    return [code for code in known if code in wanted]


def set_categories(session: Session, *, edition_id: int | None, exhibitor_id: int, codes: list[str],
                   actor: audit.Actor) -> Exhibitor:
    """Replace the exhibitor's product categories with codes from the edition's list."""
    exhibitor = exhibitor_in(session, edition_id=edition_id, exhibitor_id=exhibitor_id, lock=True)
    chosen = checked_categories(session, edition_id=exhibitor.edition_id, codes=codes)
    if chosen != list(exhibitor.product_categories or []):
        audit.log(session, "event_phases.pre_show.exhibitor.categories_changed", actor=actor, obj=exhibitor,
                  data={"from": list(exhibitor.product_categories or []), "to": chosen})
        exhibitor.product_categories = chosen
        session.add(exhibitor)
        session.flush()
    return exhibitor


def set_allowance(session: Session, *, edition_id: int | None, exhibitor_id: int, allowance: int,
                  actor: audit.Actor) -> Exhibitor:
    """How many staff badges the exhibitor may register; never below the active ones it has."""
    if not 0 <= allowance <= MAX_ALLOWANCE:
        raise InvalidInput("invalid_allowance", f"staff_allowance: a number from 0 to {MAX_ALLOWANCE}",
                           field="staff_allowance")
    exhibitor = exhibitor_in(session, edition_id=edition_id, exhibitor_id=exhibitor_id, lock=True)
    active = active_staff(session, exhibitor_id=exhibitor.id)
    if allowance < active:
        raise Conflict("allowance_below_staff", f"staff_allowance: the exhibitor has {active} staff badges already",
                       field="staff_allowance")
    if allowance != exhibitor.staff_allowance:
        audit.log(session, "event_phases.pre_show.exhibitor.allowance_changed", actor=actor, obj=exhibitor,
                  data={"from": exhibitor.staff_allowance, "to": allowance})
        exhibitor.staff_allowance = allowance
        session.add(exhibitor)
        session.flush()
    return exhibitor


def staff_badge_type(session: Session, *, edition_id: int) -> BadgeType:
    """The edition's exhibitor-staff badge type; a Conflict if the organiser has not set it up."""
    badge_type = session.scalars(select(BadgeType).where(BadgeType.edition_id == edition_id,
                                                         BadgeType.code == STAFF_BADGE_TYPE)).first()
    if badge_type is None:
        raise Conflict("no_staff_badge_type", f"the edition has no badge type with the code {STAFF_BADGE_TYPE}")
    return badge_type
