"""Lead lists an exhibitor downloads: CSV, XLSX and a CRM-import CSV, filtered, consent-aware, and audited.

One row per lead, its qualification answers as columns. What each row shows of the visitor comes from
exhibit_crm.sharing.visitor_card: without the visitor's consent to share, only name, company and badge type.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from exhibit_crm import audit
from exhibit_crm.errors import InvalidInput, NotFound
from exhibit_crm.i18n import N_, translations
from exhibit_crm.models import (
    AuditLog,
    BadgeType,
    Company,
    Contact,
    Edition,
    Exhibitor,
    ExhibitorUser,
    Lead,
    LeadQuestion,
    Registration,
)
from exhibit_crm.models.exhibitors import LEAD_RATINGS
from exhibit_crm.sharing import SHARED_FIELDS, VisitorCard, visitor_card

from .tables import CONTENT_TYPES, Column, Table

FORMATS = ("csv", "xlsx", "crm-csv")
DOWNLOADED = "exporters.leads.downloaded"


@dataclass(frozen=True)
class LeadFilter:
    """Which leads a download holds; every part is optional."""

    since: datetime | None = None
    until: datetime | None = None
    rating: str | None = None
    scanned_by_id: int | None = None
    # only leads created or changed after this user's last download
    new_only: bool = False

    def as_dict(self) -> dict:
        return {key: value.isoformat() if isinstance(value, datetime) else value
                for key, value in asdict(self).items() if value not in (None, False)}


@dataclass(frozen=True)
class LeadRecord:
    lead_id: int
    created_at: datetime
    updated_at: datetime
    rating: str | None
    notes: str
    answers: dict
    scanned_by: str
    visitor: VisitorCard


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    data: bytes
    rows: int


def _check(filters: LeadFilter) -> None:
    if filters.rating is not None and filters.rating not in LEAD_RATINGS:
        raise InvalidInput("invalid", "rating: one of " + ", ".join(LEAD_RATINGS), field="rating")
    if filters.since and filters.until and filters.since > filters.until:
        raise InvalidInput("invalid", "until: must not be earlier than since", field="until")


def last_download_at(session: Session, *, exhibitor_id: int, actor: audit.Actor) -> datetime | None:
    """When this user last downloaded the exhibitor's leads (from the audit log, which records every download)."""
    return session.scalar(select(func.max(AuditLog.at)).where(
        AuditLog.action == DOWNLOADED, AuditLog.object_type == "exhibitor", AuditLog.object_id == exhibitor_id,
        AuditLog.actor_type == actor.type, AuditLog.actor_id == actor.id))


def lead_records(session: Session, *, exhibitor_id: int, filters: LeadFilter = LeadFilter(),
                 actor: audit.Actor | None = None) -> list[LeadRecord]:
    """The exhibitor's leads that pass the filter, oldest first, each with the visitor as the exhibitor may see them."""
    _check(filters)
    # plain columns, not ORM objects: a list of 20,000 leads is read in a fraction of the time
    contact_columns = [getattr(Contact, name) for name in ("full_name", "consent_share", *SHARED_FIELDS)]
    query = (select(Lead.id, Lead.created_at, Lead.updated_at, Lead.rating, Lead.notes, Lead.answers,
                    ExhibitorUser.name.label("user_name"), ExhibitorUser.email.label("user_email"),
                    Company.name.label("company"), BadgeType.code.label("badge_type"), *contact_columns)
             .join(Registration, Registration.id == Lead.registration_id)
             .join(Contact, Contact.id == Registration.contact_id)
             .join(BadgeType, BadgeType.id == Registration.badge_type_id)
             .outerjoin(Company, Company.id == Contact.company_id)
             .outerjoin(ExhibitorUser, ExhibitorUser.id == Lead.scanned_by_id)
             .where(Lead.exhibitor_id == exhibitor_id)
             .order_by(Lead.created_at, Lead.id))
    if filters.since is not None:
        query = query.where(Lead.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Lead.created_at < filters.until)
    if filters.rating is not None:
        query = query.where(Lead.rating == filters.rating)
    if filters.scanned_by_id is not None:
        query = query.where(Lead.scanned_by_id == filters.scanned_by_id)
    if filters.new_only and actor is not None:
        last = last_download_at(session, exhibitor_id=exhibitor_id, actor=actor)
        if last is not None:
            query = query.where(Lead.updated_at > last)
    return [LeadRecord(row.id, row.created_at, row.updated_at, row.rating, row.notes, row.answers or {},
                       row.user_name or row.user_email or "",
                       visitor_card(row, company=row.company, badge_type=row.badge_type))
            # on the connection: plain rows, without the ORM's result processing
            for row in session.connection().execute(query)]


def _answer(question: LeadQuestion, value):
    return _answer_of(value, question.kind == "checkbox")


def _answer_of(value, checkbox: bool):
    if checkbox:
        return bool(value) if value is not None else None
    return value


class LeadList(Table):
    """The exhibitor's own list: every field the visitor shares, then one column per qualification question."""

    sheet_title = "Leads"
    TITLES = (N_("Scanned at"), N_("Updated at"), N_("Rating"), N_("Scanned by"), N_("Visitor name"), N_("Company"),
              N_("Badge type"), N_("Title"), N_("E-mail"), N_("Phone"), N_("Country"), N_("Province"), N_("City"),
              N_("Notes"))
    KINDS = ("datetime", "datetime") + ("text",) * 12

    def __init__(self, records: Sequence[LeadRecord], questions: Sequence[LeadQuestion], *, tz: ZoneInfo,
                 language: str = "en"):
        self.records, self.questions, self.tz = records, questions, tz
        self.gettext = translations(language).gettext

    def columns(self) -> list[Column]:
        fixed = [Column(self.gettext(title), kind, 18 if kind == "datetime" else 16)
                 for title, kind in zip(self.TITLES, self.KINDS, strict=True)]
        return fixed + [Column(question.label, "bool" if question.kind == "checkbox" else "text")
                        for question in self.questions]

    def rows(self) -> Iterable[Sequence]:
        keyed = [(str(q.id), q.kind == "checkbox") for q in self.questions]
        ratings = {rating: self.gettext(rating) for rating in LEAD_RATINGS}
        for record in self.records:
            card, answers = record.visitor, record.answers
            yield (record.created_at.astimezone(self.tz), record.updated_at.astimezone(self.tz),
                   ratings.get(record.rating, ""), record.scanned_by, card.name, card.company,
                   card.badge_type, card.title, card.email, card.phone, card.country, card.province, card.city,
                   record.notes, *(_answer_of(answers.get(key), checkbox) for key, checkbox in keyed))


# The usual layout of a CRM's lead import (Salesforce, HubSpot and Zoho map these headers by name).
CRM_COLUMNS = ("First Name", "Last Name", "Company", "Email", "Phone", "Title", "Country", "Lead Source", "Rating",
               "Description")
# two-character Chinese surnames, so that 欧阳娜 splits as 欧阳 + 娜
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯")


def split_name(card: VisitorCard) -> tuple[str, str]:
    """(first name, last name): the contact's own parts if known, else split from the full name."""
    if card.first_name or card.last_name:
        return card.first_name, card.last_name
    name = card.name.strip()
    if name and "\u4e00" <= name[0] <= "\u9fff" and " " not in name:
        surname = 2 if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else 1
        return name[surname:], name[:surname]
    first, _, last = name.rpartition(" ")
    return (first, last) if first else ("", name)


class CrmLeadList(Table):
    """The list as a CRM imports it: English headers, ratings as Hot/Warm/Cold, answers folded into the notes."""

    sheet_title = "Leads"

    def __init__(self, records: Sequence[LeadRecord], questions: Sequence[LeadQuestion], *, source: str):
        self.records, self.questions, self.source = records, questions, source

    def columns(self) -> list[Column]:
        return [Column(title) for title in CRM_COLUMNS]

    def rows(self) -> Iterable[Sequence]:
        for record in self.records:
            card = record.visitor
            first, last = split_name(card)
            answers = [f"{q.label}: {_answer_text(_answer(q, record.answers.get(str(q.id))))}"
                       for q in self.questions if record.answers.get(str(q.id)) not in (None, "", [])]
            description = "\n".join(part for part in (record.notes, *answers) if part)
            yield (first, last, card.company, card.email, card.phone, card.title, card.country, self.source,
                   (record.rating or "").title(), description)


def _answer_text(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def download_leads(session: Session, *, exhibitor_id: int, fmt: str, actor: audit.Actor,
                   filters: LeadFilter = LeadFilter(), language: str = "en") -> Download:
    """The exhibitor's lead list as a file; the download is written to the audit log (who, when, how many rows)."""
    if fmt not in FORMATS:
        raise InvalidInput("invalid", "format: one of " + ", ".join(FORMATS), field="format")
    exhibitor = session.get(Exhibitor, exhibitor_id)
    if exhibitor is None:
        raise NotFound("exhibitor", exhibitor_id)
    edition = session.get(Edition, exhibitor.edition_id)
    company = session.get(Company, exhibitor.company_id)
    questions = session.scalars(select(LeadQuestion).where(LeadQuestion.exhibitor_id == exhibitor_id)
                                .order_by(LeadQuestion.position, LeadQuestion.id)).all()
    records = lead_records(session, exhibitor_id=exhibitor_id, filters=filters, actor=actor)
    if fmt == "crm-csv":
        table: Table = CrmLeadList(records, questions, source=f"Trade Show - {edition.name}")
    else:
        table = LeadList(records, questions, tz=ZoneInfo(edition.timezone), language=language)
    data = table.render("xlsx" if fmt == "xlsx" else "csv")
    audit.log(session, DOWNLOADED, actor=actor, obj=exhibitor,
              data={"format": fmt, "rows": len(records), "filters": filters.as_dict()})
    session.flush()
    stem = f"leads-{edition.year}-{_slug(company.name if company else str(exhibitor_id))}"
    suffix = "-crm.csv" if fmt == "crm-csv" else f".{fmt}"
    return Download(stem + suffix, CONTENT_TYPES["xlsx" if fmt == "xlsx" else "csv"], data, len(records))


def _slug(name: str) -> str:
    # Chinese company names stay readable in the file name; only what file systems refuse is replaced
    cleaned = "".join("-" if ch in '\\/:*?"<>|' or ch.isspace() else ch for ch in name)
    return cleaned.strip("-")[:60] or "exhibitor"
