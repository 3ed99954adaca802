"""After the show: a lead report mail to each exhibitor that collected leads, with its figures and the link to its
lead list in the portal. Queued through the outbox; an exhibitor already sent its report is skipped, so running the
command again queues nothing twice. The figures are the booth dashboard's (badge_scanner.leads.lead_figures)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from badge_scanner.leads import lead_figures
from exhibit_crm import audit, outbox
from exhibit_crm.db import found
from exhibit_crm.models import AuditLog, Company, Edition, Exhibitor, ExhibitorUser, Lead
from exhibit_crm.settings import LANGUAGES
from exhibit_crm.web.templating import render_in

QUEUED = "event_phases.post_show.lead_report.queued"
KIND = "lead_report"
LEADS_PATH = "/portal/leads"


@dataclass
class ReportRun:
    edition_id: int
    queued: list[dict] = field(default_factory=list)  # one entry per exhibitor mailed now
    skipped: list[int] = field(default_factory=list)  # exhibitors mailed before, or without anyone to mail

    def as_dict(self) -> dict:
        return {**asdict(self), "exhibitors_mailed": len(self.queued),
                "mails": sum(len(item["recipients"]) for item in self.queued)}


def _exhibitors_with_leads(session: Session, edition_id: int) -> list[Exhibitor]:
    with_leads = select(Lead.exhibitor_id).distinct()
    return list(session.scalars(select(Exhibitor).where(Exhibitor.edition_id == edition_id,
                                                        Exhibitor.id.in_(with_leads)).order_by(Exhibitor.id)))


def _reported(session: Session, exhibitor_id: int) -> bool:
    return session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == QUEUED, AuditLog.object_type == "exhibitor", AuditLog.object_id == exhibitor_id)) > 0


def _report_mail(language: str, context: dict) -> dict:
    return {"subject": render_in("mail/lead_report_subject.txt", language, context).strip(),
            "text_body": render_in("mail/lead_report.txt", language, context),
            "html_body": render_in("mail/lead_report.html", language, context)}


def report_exhibitor(session: Session, *, exhibitor: Exhibitor, edition: Edition, base_url: str,
                     actor: audit.Actor) -> dict | None:
    """Queue the report to each active user of the exhibitor, once; None if sent before or nobody to send to."""
    # locked, so that two runs at once cannot both find the exhibitor unreported
    session.execute(select(Exhibitor.id).where(Exhibitor.id == exhibitor.id).with_for_update()).one()
    if _reported(session, exhibitor.id):
        return None
    users = session.scalars(select(ExhibitorUser).where(ExhibitorUser.exhibitor_id == exhibitor.id,
                                                        ExhibitorUser.is_active).order_by(ExhibitorUser.id)).all()
    if not users:
        return None
    company = session.get(Company, exhibitor.company_id)
    found = lead_figures(session, exhibitor_id=exhibitor.id)
    context = {"company": company.name, "edition": edition.name, "figures": found,
               "link": base_url.rstrip("/") + LEADS_PATH}
    ids = []
    rendered: dict[str, dict] = {}  # one rendering a language: the users of an exhibitor get the same report
    for user in users:
        language = user.language if user.language in LANGUAGES else "zh-CN"
        if language not in rendered:
            rendered[language] = _report_mail(language, context)
        mail = outbox.queue_message(session, to_addr=user.email, to_name=user.name, kind=KIND, **rendered[language])
        ids.append(mail.id)
    entry = {"exhibitor_id": exhibitor.id, "company": company.name, "leads": found.leads,
             "by_rating": found.by_rating, "recipients": [user.email for user in users], "outbox_ids": ids}
    audit.log(session, QUEUED, actor=actor, obj=exhibitor, data=entry)
    session.flush()
    return entry


def exhibitors_to_report(session: Session, *, edition_id: int) -> list[int]:
    found(session, Edition, edition_id, what="edition")
    return [exhibitor.id for exhibitor in _exhibitors_with_leads(session, edition_id)]


def send_lead_reports(session: Session, *, edition_id: int, base_url: str, actor: audit.Actor = audit.CLI,
                      advance: Callable[[], None] = lambda: None) -> ReportRun:
    """Queue the lead report of every exhibitor of the edition with leads that has not had it yet."""
    edition = found(session, Edition, edition_id, what="edition")
    run = ReportRun(edition_id)
    for exhibitor in _exhibitors_with_leads(session, edition_id):
        entry = report_exhibitor(session, exhibitor=exhibitor, edition=edition, base_url=base_url, actor=actor)
        if entry is None:
            run.skipped.append(exhibitor.id)
        else:
            run.queued.append(entry)
        advance()
    return run
