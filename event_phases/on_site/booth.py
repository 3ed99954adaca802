"""The exhibitor's side of lead retrieval: its qualification questions, its lead list as a page and as files,
editing a lead, asking the organiser to pass on a contact request, and the booth dashboard. The leads themselves
(scans, the one query, downloads kept per user, figures) live in badge_scanner.leads; the files in exporters.leads.

Every service takes the exhibitor id from the signed-in user and checks that each id it is handed (lead, question,
staff member) belongs to that exhibitor: another exhibitor's ids are simply not found. What a page shows of a visitor
comes from exhibit_crm.sharing.visitor_card, the one consent rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from badge_scanner.leads import (
    QUESTION_KINDS,
    LeadFigures,
    LeadFilter,
    LeadRow,
    count_leads,
    last_download_at,
    lead_figures,
    lead_rows,
    record_download,
    resolved,
    staff_of,
    user_of,
    visitor_of,
)
from exhibit_crm import audit, outbox
from exhibit_crm.db import found
from exhibit_crm.errors import Conflict, InvalidInput
from exhibit_crm.exhibitors import booth_label, count_interested
from exhibit_crm.models import AuditLog, Company, Contact, Edition, Exhibitor, ExhibitorUser, Lead, LeadQuestion
from exhibit_crm.settings import LANGUAGES
from exhibit_crm.sharing import VisitorCard
from exhibit_crm.web.templating import render_in
from exporters.leads import FORMATS, lead_file
from exporters.tables import Download

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
    figures: LeadFigures
    matched: int


def _exhibitor(session: Session, exhibitor_id: int) -> Exhibitor:
    return found(session, Exhibitor, exhibitor_id, what="exhibitor")


# Qualification questions.

def questions(session: Session, *, exhibitor_id: int) -> list[LeadQuestion]:
    """The exhibitor's questions in the order its staff see them."""
    return list(session.scalars(select(LeadQuestion).where(LeadQuestion.exhibitor_id == exhibitor_id)
                                .order_by(LeadQuestion.position, LeadQuestion.id)))


def _question(session: Session, exhibitor_id: int, question_id: int) -> LeadQuestion:
    return found(session, LeadQuestion, question_id, what="question", exhibitor_id=exhibitor_id)


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


# The lead list, a page at a time, and as files.

def _filter(session: Session, exhibitor_id: int, filters: LeadFilter) -> LeadFilter:
    """The filter resolved to instants; one naming another exhibitor's staff member is not found."""
    filters = resolved(session, exhibitor_id=exhibitor_id, filters=filters)
    if filters.scanned_by_id is not None:
        found(session, ExhibitorUser, filters.scanned_by_id, what="staff member", exhibitor_id=exhibitor_id)
    return filters


def download_leads(session: Session, *, exhibitor_id: int, fmt: str, actor: audit.Actor,
                   filters: LeadFilter = LeadFilter(), language: str = "en") -> Download:
    """The exhibitor's lead list as a file; the download is kept for its user and written to the audit log."""
    if fmt not in FORMATS:
        raise InvalidInput("invalid", "format: one of " + ", ".join(FORMATS), field="format")
    exhibitor = _exhibitor(session, exhibitor_id)
    filters = resolved(session, exhibitor_id=exhibitor_id, filters=filters)
    rows = lead_rows(session, exhibitor_id=exhibitor_id, filters=filters, user_id=user_of(actor))
    company = session.get(Company, exhibitor.company_id)
    file = lead_file(rows, questions(session, exhibitor_id=exhibitor_id), fmt=fmt, language=language,
                     edition=session.get(Edition, exhibitor.edition_id),
                     company=company.name if company else str(exhibitor_id))
    record_download(session, exhibitor=exhibitor, actor=actor, fmt=fmt, filters=filters.as_dict(), rows=file.rows)
    return file


def download(session: Session, *, exhibitor_id: int, fmt: str, filters: LeadFilter, actor: audit.Actor,
             language: str) -> Download:
    """The lead list file of the portal's download buttons (days are the edition's; staff must be the exhibitor's)."""
    return download_leads(session, exhibitor_id=exhibitor_id, fmt=fmt, actor=actor, language=language,
                          filters=_filter(session, exhibitor_id, filters))


def lead_page(session: Session, *, exhibitor_id: int, filters: LeadFilter, actor: audit.Actor,
              page: int = 1, size: int = PAGE_SIZE) -> LeadPage:
    """One page of the exhibitor's leads that pass the filter, newest first, as the exhibitor may see them."""
    exhibitor = _exhibitor(session, exhibitor_id)
    filters = _filter(session, exhibitor_id, filters)
    user_id = user_of(actor)
    total = count_leads(session, exhibitor_id=exhibitor_id, filters=filters, user_id=user_id)
    pages = max((total + size - 1) // size, 1)
    page = min(max(page, 1), pages)
    rows = lead_rows(session, exhibitor_id=exhibitor_id, filters=filters, user_id=user_id, newest_first=True,
                     offset=(page - 1) * size, limit=size)
    edition = session.get(Edition, exhibitor.edition_id)
    return LeadPage(rows, total, page, pages, staff_of(session, exhibitor_id=exhibitor_id), edition.timezone,
                    last_download_at(session, exhibitor_id=exhibitor_id, user_id=user_id))


# One lead.

def _lead(session: Session, exhibitor_id: int, lead_id: int, *, lock: bool = False) -> Lead:
    return found(session, Lead, lead_id, what="lead", lock=lock, exhibitor_id=exhibitor_id)


def _visitor_of(session: Session, lead: Lead) -> tuple[Contact, VisitorCard]:
    return visitor_of(session, registration_id=lead.registration_id)


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
    company = session.get(Company, exhibitor.company_id)
    return Dashboard(company.name, booth_label(exhibitor), lead_figures(session, exhibitor_id=exhibitor_id),
                     count_interested(session, exhibitor_id=exhibitor.id))
