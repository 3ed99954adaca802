"""The exhibitor's side of lead retrieval: its qualification questions, its lead list as a page, editing a lead,
asking the organiser to pass on a contact request, and the booth dashboard.

Every service takes the exhibitor id from the signed-in user and checks that each id it is handed (lead, question,
staff member) belongs to that exhibitor: another exhibitor's ids are simply not found. What a page shows of a visitor
comes from exhibit_crm.sharing.visitor_card, the one consent rule.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from badge_scanner.leads import MAX_NOTES, QUESTION_KINDS, update_lead
from exhibit_crm import audit, outbox
from exhibit_crm.errors import Conflict, InvalidInput, NotFound
from exhibit_crm.exhibitors import booth_label, count_interested
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
    LeadScan,
    Registration,
)
from exhibit_crm.models.exhibitors import LEAD_RATINGS
from exhibit_crm.settings import LANGUAGES
from exhibit_crm.sharing import SHARED_FIELDS, VisitorCard, visitor_card
from exhibit_crm.web.templating import render_in
from exporters.leads import Download, LeadFilter, download_leads, last_download_at

PAGE_SIZE = 50
MAX_LABEL, MAX_OPTION, MAX_OPTIONS = 200, 100, 50
MAX_MESSAGE = 1000
CONTACT_REQUESTED = "event_phases.on_site.lead.contact_requested"


# QuestionIn: a qualification question as the exhibitor types it; options one per line for a select.
class QuestionIn(SQLModel):
    label: str = ""
    kind: str = "checkbox"
    options: list[str] = []


@dataclass(frozen=True)
class BoothFilter:
    """The list's filter as the page has it: days are the edition's local days, `until` included."""

    since: date | None = None
    until: date | None = None
    rating: str | None = None
    scanned_by_id: int | None = None
    new_only: bool = False


@dataclass(frozen=True)
class LeadRow:
    id: int
    created_at: datetime
    updated_at: datetime
    rating: str | None
    notes: str
    scanned_by: str
    visitor: VisitorCard


@dataclass(frozen=True)
class LeadPage:
    rows: list[LeadRow]
    total: int
    page: int
    pages: int
    staff: list[ExhibitorUser]
    timezone: str
    last_download: datetime | None


@dataclass(frozen=True)
class LeadView:
    lead: Lead
    visitor: VisitorCard
    questions: list[LeadQuestion]
    scanned_by: str
    timezone: str
    contact_requested_at: datetime | None
    can_request_contact: bool


@dataclass(frozen=True)
class Dashboard:
    company: str
    booth: str
    total: int
    by_rating: dict[str, int]
    by_day: list[tuple[date, dict[str, int]]]
    by_staff: list[tuple[str, int, int]]  # (name, scans, leads first scanned)
    matched: int


def _exhibitor(session: Session, exhibitor_id: int) -> Exhibitor:
    exhibitor = session.get(Exhibitor, exhibitor_id)
    if exhibitor is None:
        raise NotFound("exhibitor", exhibitor_id)
    return exhibitor


# Qualification questions.

def questions(session: Session, *, exhibitor_id: int) -> list[LeadQuestion]:
    """The exhibitor's questions in the order its staff see them."""
    return list(session.scalars(select(LeadQuestion).where(LeadQuestion.exhibitor_id == exhibitor_id)
                                .order_by(LeadQuestion.position, LeadQuestion.id)))


def _question(session: Session, exhibitor_id: int, question_id: int) -> LeadQuestion:
    question = session.get(LeadQuestion, question_id)
    if question is None or question.exhibitor_id != exhibitor_id:
        raise NotFound("question", question_id)
    return question


def _checked(data: QuestionIn) -> QuestionIn:
    label = " ".join(data.label.split())
    if not label:
        raise InvalidInput("required", "label: enter the question", field="label")
    if len(label) > MAX_LABEL:
        raise InvalidInput("too_long", f"label: at most {MAX_LABEL} characters", field="label")
    if data.kind not in QUESTION_KINDS:
        raise InvalidInput("invalid_choice", "kind: one of " + ", ".join(QUESTION_KINDS), field="kind")
    options = list(dict.fromkeys(" ".join(o.split()) for o in data.options if o.strip())) if data.kind == "select" \
        else []
    if data.kind == "select" and not options:
        raise InvalidInput("options_required", "options: a choice list needs at least one option", field="options")
    if len(options) > MAX_OPTIONS or any(len(option) > MAX_OPTION for option in options):
        raise InvalidInput("too_long", f"options: at most {MAX_OPTIONS} of at most {MAX_OPTION} characters each",
                           field="options")
    return QuestionIn(label=label, kind=data.kind, options=options)


def save_question(session: Session, *, exhibitor_id: int, data: QuestionIn, actor: audit.Actor,
                  question_id: int | None = None) -> LeadQuestion:
    """Add a question at the end of the list, or change one of the exhibitor's own."""
    _exhibitor(session, exhibitor_id)
    data = _checked(data)
    if question_id is None:
        last = session.scalar(select(func.max(LeadQuestion.position)).where(LeadQuestion.exhibitor_id == exhibitor_id))
        question = LeadQuestion(exhibitor_id=exhibitor_id, position=(last or 0) + 1)
    else:
        question = _question(session, exhibitor_id, question_id)
    question.label, question.kind, question.options = data.label, data.kind, data.options
    session.add(question)
    session.flush()
    audit.log(session, "event_phases.on_site.lead_question." + ("created" if question_id is None else "changed"),
              actor=actor, obj=question, data={"exhibitor_id": exhibitor_id, "label": data.label, "kind": data.kind})
    return question


def delete_question(session: Session, *, exhibitor_id: int, question_id: int, actor: audit.Actor) -> None:
    """Remove a question; the answers leads hold for it stay in the lead but leave the lists and downloads."""
    question = _question(session, exhibitor_id, question_id)
    audit.log(session, "event_phases.on_site.lead_question.deleted", actor=actor, obj=question,
              data={"exhibitor_id": exhibitor_id, "label": question.label})
    session.delete(question)
    session.flush()


def move_question(session: Session, *, exhibitor_id: int, question_id: int, up: bool, actor: audit.Actor) -> None:
    """Swap a question with its neighbour above or below."""
    ordered = questions(session, exhibitor_id=exhibitor_id)
    question = _question(session, exhibitor_id, question_id)
    at = ordered.index(question)
    other = at - 1 if up else at + 1
    if 0 <= other < len(ordered):
        ordered[at], ordered[other] = ordered[other], ordered[at]
    for position, item in enumerate(ordered, start=1):
        item.position = position
        session.add(item)
    audit.log(session, "event_phases.on_site.lead_question.moved", actor=actor, obj=question,
              data={"exhibitor_id": exhibitor_id, "position": ordered.index(question) + 1})
    session.flush()


# The lead list, a page at a time.

def staff_of(session: Session, *, exhibitor_id: int) -> list[ExhibitorUser]:
    return list(session.scalars(select(ExhibitorUser).where(ExhibitorUser.exhibitor_id == exhibitor_id)
                                .order_by(ExhibitorUser.name, ExhibitorUser.email)))


def check_filter(session: Session, *, exhibitor_id: int, filters: LeadFilter) -> None:
    """A filter naming a rating we do not have is a 422; one naming another exhibitor's staff member is not found."""
    if filters.rating is not None and filters.rating not in LEAD_RATINGS:
        raise InvalidInput("invalid", "rating: one of " + ", ".join(LEAD_RATINGS), field="rating")
    if filters.scanned_by_id is not None:
        user = session.get(ExhibitorUser, filters.scanned_by_id)
        if user is None or user.exhibitor_id != exhibitor_id:
            raise NotFound("staff member", filters.scanned_by_id)


def lead_filter(session: Session, *, exhibitor_id: int, filters: BoothFilter) -> LeadFilter:
    """The exporters' filter for the page's: local days become instants; another exhibitor's staff is not found."""
    if filters.since and filters.until and filters.since > filters.until:
        raise InvalidInput("invalid", "until: must not be earlier than since", field="until")
    zone = ZoneInfo(session.get(Edition, _exhibitor(session, exhibitor_id).edition_id).timezone)

    def start(day: date | None) -> datetime | None:
        return datetime.combine(day, time(), zone) if day else None

    result = LeadFilter(since=start(filters.since), until=start(filters.until + timedelta(days=1) if filters.until
                                                                   else None),
                        rating=filters.rating, scanned_by_id=filters.scanned_by_id, new_only=filters.new_only)
    check_filter(session, exhibitor_id=exhibitor_id, filters=result)
    return result


def download(session: Session, *, exhibitor_id: int, fmt: str, filters: BoothFilter, actor: audit.Actor,
             language: str) -> Download:
    """The lead list file of the portal's download buttons (written to the audit log by the exporter)."""
    return download_leads(session, exhibitor_id=exhibitor_id, fmt=fmt, actor=actor, language=language,
                          filters=lead_filter(session, exhibitor_id=exhibitor_id, filters=filters))


def lead_page(session: Session, *, exhibitor_id: int, filters: BoothFilter, actor: audit.Actor,
              page: int = 1, size: int = PAGE_SIZE) -> LeadPage:
    """One page of the exhibitor's leads that pass the filter, newest first, as the exhibitor may see them."""
    exhibitor = _exhibitor(session, exhibitor_id)
    filters = lead_filter(session, exhibitor_id=exhibitor_id, filters=filters)
    last = last_download_at(session, exhibitor_id=exhibitor_id, actor=actor)
    where = [Lead.exhibitor_id == exhibitor_id]
    if filters.since is not None:
        where.append(Lead.created_at >= filters.since)
    if filters.until is not None:
        where.append(Lead.created_at < filters.until)
    if filters.rating is not None:
        where.append(Lead.rating == filters.rating)
    if filters.scanned_by_id is not None:
        where.append(Lead.scanned_by_id == filters.scanned_by_id)
    if filters.new_only and last is not None:
        where.append(Lead.updated_at > last)
    total = session.scalar(select(func.count()).select_from(Lead).where(*where)) or 0
    pages = max((total + size - 1) // size, 1)
    page = min(max(page, 1), pages)
    contact_columns = [getattr(Contact, name) for name in ("full_name", "consent_share", *SHARED_FIELDS)]
    query = (select(Lead.id, Lead.created_at, Lead.updated_at, Lead.rating, Lead.notes,
                    ExhibitorUser.name.label("user_name"), ExhibitorUser.email.label("user_email"),
                    Company.name.label("company"), BadgeType.code.label("badge_type"), *contact_columns)
             .join(Registration, Registration.id == Lead.registration_id)
             .join(Contact, Contact.id == Registration.contact_id)
             .join(BadgeType, BadgeType.id == Registration.badge_type_id)
             .outerjoin(Company, Company.id == Contact.company_id)
             .outerjoin(ExhibitorUser, ExhibitorUser.id == Lead.scanned_by_id)
             .where(*where).order_by(Lead.created_at.desc(), Lead.id.desc())
             .offset((page - 1) * size).limit(size))
    rows = [LeadRow(row.id, row.created_at, row.updated_at, row.rating, row.notes,
                    row.user_name or row.user_email or "",
                    visitor_card(row, company=row.company, badge_type=row.badge_type))
            for row in session.execute(query)]
    edition = session.get(Edition, exhibitor.edition_id)
    return LeadPage(rows, total, page, pages, staff_of(session, exhibitor_id=exhibitor_id), edition.timezone, last)


# One lead.

def _lead(session: Session, exhibitor_id: int, lead_id: int, *, lock: bool = False) -> Lead:
    lead = session.get(Lead, lead_id, with_for_update=lock, populate_existing=lock)
    if lead is None or lead.exhibitor_id != exhibitor_id:
        raise NotFound("lead", lead_id)
    return lead


def _visitor_of(session: Session, lead: Lead) -> tuple[Contact, VisitorCard]:
    contact, company, badge_type = session.execute(
        select(Contact, Company.name, BadgeType.code)
        .join(Registration, Registration.contact_id == Contact.id)
        .join(BadgeType, BadgeType.id == Registration.badge_type_id)
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(Registration.id == lead.registration_id)).one()
    return contact, visitor_card(contact, company=company, badge_type=badge_type)


def contact_requested_at(session: Session, *, lead_id: int) -> datetime | None:
    return session.scalar(select(func.min(AuditLog.at)).where(
        AuditLog.action == CONTACT_REQUESTED, AuditLog.object_type == "lead", AuditLog.object_id == lead_id))


def lead_view(session: Session, *, exhibitor_id: int, lead_id: int) -> LeadView:
    """A lead of this exhibitor with its visitor card and the exhibitor's questions."""
    lead = _lead(session, exhibitor_id, lead_id)
    contact, card = _visitor_of(session, lead)
    user = session.get(ExhibitorUser, lead.scanned_by_id) if lead.scanned_by_id else None
    edition = session.get(Edition, _exhibitor(session, exhibitor_id).edition_id)
    requested = contact_requested_at(session, lead_id=lead.id)
    return LeadView(lead, card, questions(session, exhibitor_id=exhibitor_id), (user.name or user.email) if user
                    else "", edition.timezone, requested,
                    can_request_contact=not card.shared and bool(contact.email) and requested is None)


def save_lead(session: Session, *, exhibitor_id: int, lead_id: int, rating: str | None, notes: str,
              answers: dict, actor: audit.Actor, now: datetime) -> Lead:
    """Change a lead's rating, notes and answers (an empty rating clears it)."""
    lead = _lead(session, exhibitor_id, lead_id)
    if len(notes) > MAX_NOTES:
        raise InvalidInput("too_long", f"notes: at most {MAX_NOTES} characters", field="notes")
    lead = update_lead(session, exhibitor_id=exhibitor_id, lead_id=lead.id, rating=rating or None, notes=notes,
                       answers=answers, now=now)
    if not rating:
        lead.rating = None
        session.add(lead)
    audit.log(session, "event_phases.on_site.lead.changed", actor=actor, obj=lead,
              data={"exhibitor_id": exhibitor_id, "rating": lead.rating})
    session.flush()
    return lead


# Contact through the organiser, for visitors who did not consent to share their details.

def request_contact(session: Session, *, exhibitor_id: int, lead_id: int, message: str, reply_to: str,
                    actor: audit.Actor) -> int:
    """Queue a mail to the visitor, in their language, saying which exhibitor would like to be in touch and how to
    reply; once per lead, and only for a visitor who keeps their details to themselves. Returns the message id."""
    lead = _lead(session, exhibitor_id, lead_id, lock=True)  # locked: two clicks at once send one mail
    contact, card = _visitor_of(session, lead)
    if card.shared:
        raise Conflict("visitor_shares", "this visitor shares their details: contact them directly")
    if contact_requested_at(session, lead_id=lead.id) is not None:
        raise Conflict("already_requested", "the visitor has been asked already")
    if not contact.email:
        raise Conflict("no_email", "the organiser has no e-mail address for this visitor")
    message = message.strip()
    if len(message) > MAX_MESSAGE:
        raise InvalidInput("too_long", f"message: at most {MAX_MESSAGE} characters", field="message")
    reply_to = outbox.normalise_address(reply_to, field_name="reply_to")
    exhibitor = _exhibitor(session, exhibitor_id)
    company = session.get(Company, exhibitor.company_id)
    edition = session.get(Edition, exhibitor.edition_id)
    language = contact.language if contact.language in LANGUAGES else "zh-CN"
    context = {"visitor": card, "company": company.name, "booth": booth_label(exhibitor), "edition": edition.name,
               "message": message, "reply_to": reply_to}
    mail = outbox.queue_message(
        session, to_addr=contact.email, to_name=contact.full_name,
        subject=render_in("mail/lead_contact_request_subject.txt", language, context).strip(),
        text_body=render_in("mail/lead_contact_request.txt", language, context),
        html_body=render_in("mail/lead_contact_request.html", language, context),
        kind="lead_contact_request", contact_id=contact.id)
    audit.log(session, CONTACT_REQUESTED, actor=actor, obj=lead,
              data={"exhibitor_id": exhibitor_id, "outbox_id": mail.id, "reply_to": reply_to})
    session.flush()
    return mail.id


# The booth dashboard.

def dashboard(session: Session, *, exhibitor_id: int) -> Dashboard:
    """Leads so far by the edition's local day and by rating, each staff member's scans, and the matched visitors."""
    exhibitor = _exhibitor(session, exhibitor_id)
    zone = ZoneInfo(session.get(Edition, exhibitor.edition_id).timezone)
    days: dict[date, Counter] = {}
    by_rating: Counter = Counter()
    # two columns per lead: the figures need no more, and 20,000 leads read in a blink
    for created_at, rating in session.execute(select(Lead.created_at, Lead.rating)
                                              .where(Lead.exhibitor_id == exhibitor_id)):
        key = rating or "unrated"
        days.setdefault(created_at.astimezone(zone).date(), Counter())[key] += 1
        by_rating[key] += 1
    scans = dict(session.execute(select(LeadScan.exhibitor_user_id, func.count()).where(
        LeadScan.exhibitor_id == exhibitor_id, LeadScan.verdict == "accepted").group_by(LeadScan.exhibitor_user_id))
        .all())
    leads = dict(session.execute(select(Lead.scanned_by_id, func.count()).where(Lead.exhibitor_id == exhibitor_id)
                                 .group_by(Lead.scanned_by_id)).all())
    staff = [(user.name or user.email, scans.get(user.id, 0), leads.get(user.id, 0))
             for user in staff_of(session, exhibitor_id=exhibitor_id) if scans.get(user.id) or leads.get(user.id)]
    company = session.get(Company, exhibitor.company_id)
    order = (*LEAD_RATINGS, "unrated")
    return Dashboard(company.name, booth_label(exhibitor), sum(by_rating.values()),
                     {key: by_rating.get(key, 0) for key in order},
                     [(day, {key: days[day].get(key, 0) for key in order}) for day in sorted(days)],
                     sorted(staff, key=lambda item: (-item[1], item[0])),
                     count_interested(session, exhibitor_id=exhibitor.id))
