"""Finding an exhibitor's leads: one filter and one row for the portal's pages, the lead API's list and every
download, and the visitor a lead shows. What a row shows of the visitor comes from exhibit_crm.sharing.visitor_card:
without the visitor's consent to share, only name, company and badge type."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from exhibit_crm.errors import InvalidInput, NotFound
from exhibit_crm.models import BadgeType, Company, Contact, Edition, Exhibitor, ExhibitorUser, Lead, Registration
from exhibit_crm.models.exhibitors import LEAD_RATINGS
from exhibit_crm.models.types import within_years
from exhibit_crm.sharing import SHARED_FIELDS, VisitorCard, visitor_card

from .downloads import last_download_at


@dataclass(frozen=True)
class LeadFilter:
    """Which leads; every part is optional. `since` and `until` are instants (aware datetimes, `until` excluded) or
    days of the edition in its own time zone (dates, `until`'s day included)."""

    since: date | None = None
    until: date | None = None
    rating: str | None = None
    scanned_by_id: int | None = None
    # only leads created or changed after the user's last download
    new_only: bool = False

    def as_dict(self) -> dict:
        return {key: value.isoformat() if isinstance(value, date) else value
                for key, value in asdict(self).items() if value not in (None, False)}


@dataclass(frozen=True)
class LeadRow:
    """A lead as the exhibitor sees it, on a page or in a file."""

    id: int
    created_at: datetime
    updated_at: datetime
    rating: str | None
    notes: str
    answers: dict
    scanned_by: str
    visitor: VisitorCard


def _check(filters: LeadFilter) -> None:
    if filters.rating is not None and filters.rating not in LEAD_RATINGS:
        raise InvalidInput("invalid", "rating: one of " + ", ".join(LEAD_RATINGS), field="rating")
    since, until = filters.since, filters.until
    for name, value in (("since", since), ("until", until)):
        if not within_years(value):
            raise InvalidInput("invalid", f"{name}: a date in the years 2000 to 2099", field=name)
    if since and until and isinstance(since, datetime) == isinstance(until, datetime) and since > until:
        raise InvalidInput("invalid", "until: must not be earlier than since", field="until")


def timezone_of(session: Session, *, exhibitor_id: int) -> ZoneInfo:
    """The time zone of the exhibitor's edition, in which its days are counted."""
    name = session.scalar(select(Edition.timezone).join(Exhibitor, Exhibitor.edition_id == Edition.id)
                          .where(Exhibitor.id == exhibitor_id))
    if name is None:
        raise NotFound("exhibitor", exhibitor_id)
    return ZoneInfo(name)


def resolved(session: Session, *, exhibitor_id: int, filters: LeadFilter) -> LeadFilter:
    """The filter with its days as the instants they start and end at in the edition's time zone."""
    _check(filters)
    days = [day for day in (filters.since, filters.until) if day is not None and not isinstance(day, datetime)]
    if not days:
        return filters
    zone = timezone_of(session, exhibitor_id=exhibitor_id)

    def instant(day: date | None, *, end: bool = False) -> datetime | None:
        if day is None or isinstance(day, datetime):
            return day
        return datetime.combine(day + timedelta(days=1) if end else day, time(), zone)

    return LeadFilter(instant(filters.since), instant(filters.until, end=True), filters.rating, filters.scanned_by_id,
                      filters.new_only)


def _where(session: Session, exhibitor_id: int, filters: LeadFilter, user_id: int | None) -> list:
    filters = resolved(session, exhibitor_id=exhibitor_id, filters=filters)
    where = [Lead.exhibitor_id == exhibitor_id]
    if filters.since is not None:
        where.append(Lead.created_at >= filters.since)
    if filters.until is not None:
        where.append(Lead.created_at < filters.until)
    if filters.rating is not None:
        where.append(Lead.rating == filters.rating)
    if filters.scanned_by_id is not None:
        where.append(Lead.scanned_by_id == filters.scanned_by_id)
    last = last_download_at(session, exhibitor_id=exhibitor_id, user_id=user_id) if filters.new_only else None
    if last is not None:
        where.append(Lead.updated_at > last)
    return where


def count_leads(session: Session, *, exhibitor_id: int, filters: LeadFilter = LeadFilter(),
                user_id: int | None = None) -> int:
    """How many of the exhibitor's leads pass the filter (new_only: for this exhibitor user)."""
    where = _where(session, exhibitor_id, filters, user_id)
    return session.scalar(select(func.count()).select_from(Lead).where(*where)) or 0


def lead_rows(session: Session, *, exhibitor_id: int, filters: LeadFilter = LeadFilter(), user_id: int | None = None,
              newest_first: bool = False, offset: int = 0, limit: int | None = None) -> list[LeadRow]:
    """The exhibitor's leads that pass the filter (new_only: for this exhibitor user), oldest or newest first."""
    where = _where(session, exhibitor_id, filters, user_id)
    # plain columns, not ORM objects: a list of 20,000 leads is read in a fraction of the time
    contact_columns = [getattr(Contact, name) for name in ("full_name", "consent_share", *SHARED_FIELDS)]
    order = (Lead.created_at.desc(), Lead.id.desc()) if newest_first else (Lead.created_at, Lead.id)
    query = (select(Lead.id, Lead.created_at, Lead.updated_at, Lead.rating, Lead.notes, Lead.answers,
                    ExhibitorUser.name.label("user_name"), ExhibitorUser.email.label("user_email"),
                    Company.name.label("company"), BadgeType.code.label("badge_type"), *contact_columns)
             .join(Registration, Registration.id == Lead.registration_id)
             .join(Contact, Contact.id == Registration.contact_id)
             .join(BadgeType, BadgeType.id == Registration.badge_type_id)
             .outerjoin(Company, Company.id == Contact.company_id)
             .outerjoin(ExhibitorUser, ExhibitorUser.id == Lead.scanned_by_id)
             .where(*where).order_by(*order).offset(offset).limit(limit))
    return [LeadRow(row.id, row.created_at, row.updated_at, row.rating, row.notes, row.answers or {},
                    row.user_name or row.user_email or "",
                    visitor_card(row, company=row.company, badge_type=row.badge_type))
            # on the connection: plain rows, without the ORM's result processing
            for row in session.connection().execute(query)]


def staff_of(session: Session, *, exhibitor_id: int) -> list[ExhibitorUser]:
    """The exhibitor's users, by name: who may have scanned its leads."""
    return list(session.scalars(select(ExhibitorUser).where(ExhibitorUser.exhibitor_id == exhibitor_id)
                                .order_by(ExhibitorUser.name, ExhibitorUser.email)))


def visitor_of(session: Session, *, registration_id: int) -> tuple[Contact, VisitorCard] | None:
    """The registration's contact and the card an exhibitor may see of them (None for no such registration)."""
    row = session.execute(
        select(Contact, Company.name, BadgeType.code)
        .join(Registration, Registration.contact_id == Contact.id)
        .join(BadgeType, BadgeType.id == Registration.badge_type_id)
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(Registration.id == registration_id)).first()
    if row is None:
        return None
    contact, company, badge_type = row
    return contact, visitor_card(contact, company=company, badge_type=badge_type)
