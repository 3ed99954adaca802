"""Lead retrieval: exhibitor staff scan a visitor's badge at their booth, rate and qualify the lead.

A scan names a lead by the client's scan_id: sending it again (an offline phone uploading after a lost reply)
returns the lead as it is and changes nothing. Scanning the same visitor again opens the same lead (one lead per
exhibitor and registration) and applies the rating, notes and answers sent with it. An exhibitor may scan any badge
of its edition that would pass the gates' checks of the badge itself: genuine, active, the current version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from exhibit_crm.errors import InvalidInput, NotFound
from exhibit_crm.models import (
    BadgeType,
    Company,
    Contact,
    Exhibitor,
    Lead,
    LeadQuestion,
    LeadScan,
    Registration,
)
from exhibit_crm.models.exhibitors import LEAD_RATINGS
from exhibit_crm.sharing import visitor_card

from .codes import Verifier

ACCEPTED, REJECTED = "accepted", "rejected"
REASONS = ("invalid_code", "revoked", "outdated_badge", "other_edition")
QUESTION_KINDS = ("checkbox", "select", "text")
MAX_NOTES = 4000


@dataclass(frozen=True)
class LeadScanRequest:
    """One booth scan as the phone sent it; rating, notes and answers are None when not sent."""

    code: str
    scan_id: str
    rating: str | None = None
    notes: str | None = None
    answers: dict[str, object] = field(default_factory=dict)
    scanned_at: datetime | None = None


def _lead_json(lead: Lead | None) -> dict | None:
    if lead is None:
        return None
    return {"id": lead.id, "rating": lead.rating, "notes": lead.notes, "answers": lead.answers or {},
            "created_at": lead.created_at.isoformat(), "updated_at": lead.updated_at.isoformat()}


def _visitor(session: Session, registration_id: int) -> dict | None:
    row = session.execute(
        select(Contact, Company.name, BadgeType.code)
        .join(Registration, Registration.contact_id == Contact.id)
        .join(BadgeType, BadgeType.id == Registration.badge_type_id)
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(Registration.id == registration_id)).first()
    if row is None:
        return None
    contact, company, badge_type = row
    return visitor_card(contact, company=company, badge_type=badge_type).__dict__


def _answer(session: Session, scan: LeadScan, lead: Lead | None, registration_id: int | None) -> dict:
    return {"scan_id": scan.scan_id, "verdict": scan.verdict, "reason": scan.reason, "lead": _lead_json(lead),
            "visitor": _visitor(session, registration_id) if registration_id is not None else None}


def check_answers(session: Session, *, exhibitor_id: int, answers: dict, prefix: str = "answers") -> dict:
    """Answers keyed by the exhibitor's own question ids, each of the question's kind; a 422 naming the one at fault."""
    if not answers:
        return {}
    questions = {str(q.id): q for q in session.scalars(select(LeadQuestion)
                                                        .where(LeadQuestion.exhibitor_id == exhibitor_id))}
    checked = {}
    for key, value in answers.items():
        where = f"{prefix}.{key}"
        question = questions.get(str(key))
        if question is None:
            raise InvalidInput("invalid", f"{where}: no such question of this exhibitor", field=where)
        if value is None:
            checked[str(key)] = None
        elif question.kind == "checkbox" and not isinstance(value, bool):
            raise InvalidInput("invalid", f"{where}: true or false", field=where)
        elif question.kind == "select" and value not in question.options:
            raise InvalidInput("invalid", f"{where}: one of " + ", ".join(question.options), field=where)
        elif question.kind == "text" and (not isinstance(value, str) or len(value) > MAX_NOTES):
            raise InvalidInput("invalid", f"{where}: a text of at most {MAX_NOTES} characters", field=where)
        else:
            checked[str(key)] = value
    return checked


def _check(request: LeadScanRequest) -> None:
    if request.rating is not None and request.rating not in LEAD_RATINGS:
        raise InvalidInput("invalid", "rating: one of " + ", ".join(LEAD_RATINGS), field="rating")
    if request.notes is not None and len(request.notes) > MAX_NOTES:
        raise InvalidInput("invalid", f"notes: at most {MAX_NOTES} characters", field="notes")


def _judge(session: Session, exhibitor: Exhibitor, code: str, verifier: Verifier) -> tuple[str | None, int | None]:
    """(reason or None, registration id) for a badge code read at the exhibitor's booth."""
    ref = verifier.check(code)  # remembers codes that verified: a badge is scanned at many booths
    if ref is None:
        return "invalid_code", None
    registration = session.get(Registration, ref.registration_id)
    if registration is None:
        return "invalid_code", None
    if registration.edition_id != exhibitor.edition_id:
        return "other_edition", None
    if registration.status == "cancelled":
        return "revoked", registration.id
    if ref.badge_version != registration.badge_version:
        return "outdated_badge", registration.id
    return None, registration.id


def _lead_for(session: Session, exhibitor_id: int, registration_id: int, *, user_id: int | None,
              now: datetime) -> Lead:
    """The exhibitor's lead of this visitor, created on the first scan (a concurrent first scan makes one lead)."""
    for _attempt in range(2):
        lead = session.scalars(select(Lead).where(Lead.exhibitor_id == exhibitor_id,
                                                  Lead.registration_id == registration_id)).first()
        if lead is not None:
            return lead
        lead = Lead(exhibitor_id=exhibitor_id, registration_id=registration_id, scanned_by_id=user_id,
                    created_at=now, updated_at=now)
        try:
            with session.begin_nested():
                session.add(lead)
                session.flush()
            return lead
        except IntegrityError:
            continue
    raise NotFound("lead", registration_id)


def _apply(lead: Lead, request: LeadScanRequest, answers: dict, now: datetime) -> None:
    if request.rating is not None:
        lead.rating = request.rating
    if request.notes is not None:
        lead.notes = request.notes
    if answers:
        lead.answers = {**(lead.answers or {}), **answers}
    lead.updated_at = now


def scan_lead(session: Session, *, exhibitor_id: int, user_id: int | None, request: LeadScanRequest,
              verifier: Verifier, now: datetime) -> dict:
    """Judge a booth scan, open or update the lead, and answer as the lead API does; a repeated scan_id is harmless."""
    exhibitor = session.get(Exhibitor, exhibitor_id)
    if exhibitor is None:
        raise NotFound("exhibitor", exhibitor_id)
    seen = session.scalars(select(LeadScan).where(LeadScan.exhibitor_id == exhibitor_id,
                                                  LeadScan.scan_id == request.scan_id)).first()
    if seen is not None:
        return _replayed(session, seen)
    _check(request)
    answers = check_answers(session, exhibitor_id=exhibitor_id, answers=request.answers)
    reason, registration_id = _judge(session, exhibitor, request.code, verifier)
    lead = None
    if reason is None:
        lead = _lead_for(session, exhibitor_id, registration_id, user_id=user_id, now=now)
        _apply(lead, request, answers, now)
        session.add(lead)
    scan = LeadScan(exhibitor_id=exhibitor_id, lead_id=lead.id if lead else None, exhibitor_user_id=user_id,
                    scan_id=request.scan_id, verdict=REJECTED if reason else ACCEPTED, reason=reason,
                    device_time=request.scanned_at, received_at=now)
    try:
        with session.begin_nested():
            session.add(scan)
            session.flush()
    except IntegrityError:
        # the same scan_id from a concurrent upload: that one counts
        seen = session.scalars(select(LeadScan).where(LeadScan.exhibitor_id == exhibitor_id,
                                                      LeadScan.scan_id == request.scan_id)).one()
        return _replayed(session, seen)
    # a refused badge shows nothing of its holder
    return _answer(session, scan, lead, registration_id if reason is None else None)


def scan_leads(session: Session, *, items: list[tuple[int, int | None, LeadScanRequest]], verifier: Verifier,
               now: datetime) -> list[dict | InvalidInput]:
    """Several booth scans (exhibitor id, user id, request) in one transaction, answered as scan_lead answers each in
    turn: a scan that is refused for its input comes back as its InvalidInput and the others are recorded.

    The group's reads are made once for all its scans and its writes flushed together (scan_lead costs several
    milliseconds a scan in statements). A concurrent process recording the same lead or scan_id first makes that
    flush fail: then the group is judged again scan by scan, each in its own savepoint, as scan_lead does.
    """
    if not items:
        return []
    try:
        with session.begin_nested():
            return _GroupScan(session, items, verifier, now).run()
    except IntegrityError:
        pass
    results: list[dict | InvalidInput] = []
    for exhibitor_id, user_id, request in items:
        try:
            with session.begin_nested():
                results.append(scan_lead(session, exhibitor_id=exhibitor_id, user_id=user_id, request=request,
                                         verifier=verifier, now=now))
        except InvalidInput as refused:
            results.append(refused)
    return results


@dataclass(frozen=True)
class _NewScan:
    """A booth scan recorded by this group, as a repeat of its scan_id sees it."""

    exhibitor_id: int
    scan_id: str
    verdict: str
    reason: str | None
    lead_id: None = None


class _GroupScan:
    """scan_lead for a group of scans: the same rules in the same order, with set-based reads and one flush."""

    def __init__(self, session: Session, items: list, verifier: Verifier, now: datetime):
        self.session, self.items, self.now = session, items, now
        exhibitor_ids = sorted({exhibitor_id for exhibitor_id, _u, _r in items})
        self.exhibitors = {e.id: e for e in session.scalars(select(Exhibitor).where(Exhibitor.id.in_(exhibitor_ids)))}
        scan_ids = sorted({request.scan_id for _e, _u, request in items})
        self.seen = {(s.exhibitor_id, s.scan_id): s for s in session.scalars(
            select(LeadScan).where(LeadScan.exhibitor_id.in_(exhibitor_ids), LeadScan.scan_id.in_(scan_ids)))}
        self.refs = [verifier.check(request.code) for _e, _u, request in items]
        registration_ids = sorted({ref.registration_id for ref in self.refs if ref})
        self.registrations = {r[0]: r for r in session.execute(
            select(Registration.id, Registration.edition_id, Registration.status, Registration.badge_version)
            .where(Registration.id.in_(registration_ids)))}
        lead_ids = sorted({s.lead_id for s in self.seen.values() if s.lead_id})
        found = session.scalars(select(Lead).where(
            (Lead.exhibitor_id.in_(exhibitor_ids) & Lead.registration_id.in_(registration_ids))
            | Lead.id.in_(lead_ids)))
        self.leads = {(lead.exhibitor_id, lead.registration_id): lead for lead in found}
        self.lead_by_id = {lead.id: lead for lead in self.leads.values()}
        self.recorded_here: dict[tuple[int, str], Lead | None] = {}  # scans of this group -> their lead

    def run(self) -> list[dict | InvalidInput]:
        # (answer without lead id and visitor, lead, registration id to show) per item, or its InvalidInput
        pending: list = []
        scans: list[tuple[LeadScan, Lead | None]] = []
        for (exhibitor_id, user_id, request), ref in zip(self.items, self.refs, strict=True):
            try:
                pending.append(self._one(exhibitor_id, user_id, request, ref, scans))
            except InvalidInput as refused:
                pending.append(refused)
        self.session.flush()  # the new leads get their ids
        for row, lead in scans:
            row["lead_id"] = lead.id if lead else None
        if scans:
            self.session.execute(insert(LeadScan.__table__), [row for row, _lead in scans])
        cards = self._cards({reg for item in pending if not isinstance(item, InvalidInput) for reg in [item[2]] if reg})
        results: list[dict | InvalidInput] = []
        for item in pending:
            if isinstance(item, InvalidInput):
                results.append(item)
                continue
            answer, lead, registration_id = item
            if answer["lead"] is not None:
                answer["lead"]["id"] = lead.id
            answer["visitor"] = cards.get(registration_id) if registration_id is not None else None
            results.append(answer)
        return results

    def _one(self, exhibitor_id: int, user_id: int | None, request: LeadScanRequest, ref, scans: list) -> tuple:
        exhibitor = self.exhibitors.get(exhibitor_id)
        if exhibitor is None:
            raise NotFound("exhibitor", exhibitor_id)
        seen = self.seen.get((exhibitor_id, request.scan_id))
        if seen is not None:
            lead = self._lead_of(seen)
            return (self._answer(seen, lead), lead, lead.registration_id if lead else None)
        _check(request)
        answers = check_answers(self.session, exhibitor_id=exhibitor_id, answers=request.answers)
        reason, registration_id = self._judge(exhibitor, ref)
        lead = None
        if reason is None:
            lead = self.leads.get((exhibitor_id, registration_id))
            if lead is None:
                lead = Lead(exhibitor_id=exhibitor_id, registration_id=registration_id, scanned_by_id=user_id,
                            created_at=self.now, updated_at=self.now)
                self.session.add(lead)
                self.leads[(exhibitor_id, registration_id)] = lead
            _apply(lead, request, answers, self.now)
        # the scan is inserted with the others after the leads have their ids (a row, not an ORM object)
        scan = _NewScan(exhibitor_id, request.scan_id, REJECTED if reason else ACCEPTED, reason)
        scans.append(({"exhibitor_id": exhibitor_id, "lead_id": None, "exhibitor_user_id": user_id,
                       "scan_id": request.scan_id, "verdict": scan.verdict, "reason": reason,
                       "device_time": request.scanned_at, "received_at": self.now}, lead))
        self.seen[(exhibitor_id, request.scan_id)] = scan
        self.recorded_here[(exhibitor_id, request.scan_id)] = lead
        # a refused badge shows nothing of its holder
        return (self._answer(scan, lead), lead, registration_id if reason is None else None)

    def _lead_of(self, scan: LeadScan | _NewScan) -> Lead | None:
        key = (scan.exhibitor_id, scan.scan_id)
        if key in self.recorded_here:
            return self.recorded_here[key]
        return self.lead_by_id.get(scan.lead_id) if scan.lead_id else None

    def _judge(self, exhibitor: Exhibitor, ref) -> tuple[str | None, int | None]:
        registration = self.registrations.get(ref.registration_id) if ref else None
        if registration is None:
            return "invalid_code", None
        registration_id, edition_id, status, badge_version = registration
        if edition_id != exhibitor.edition_id:
            return "other_edition", None
        if status == "cancelled":
            return "revoked", registration_id
        if ref.badge_version != badge_version:
            return "outdated_badge", registration_id
        return None, registration_id

    def _answer(self, scan: LeadScan | _NewScan, lead: Lead | None) -> dict:
        # the lead as it is now (a later scan of the group may change it); its id is known after the flush
        lead_json = None if lead is None else {
            "id": None, "rating": lead.rating, "notes": lead.notes, "answers": dict(lead.answers or {}),
            "created_at": lead.created_at.isoformat(), "updated_at": lead.updated_at.isoformat()}
        return {"scan_id": scan.scan_id, "verdict": scan.verdict, "reason": scan.reason, "lead": lead_json,
                "visitor": None}

    def _cards(self, registration_ids: set[int]) -> dict[int, dict]:
        if not registration_ids:
            return {}
        rows = self.session.execute(
            select(Registration.id, Contact, Company.name, BadgeType.code)
            .join(Contact, Registration.contact_id == Contact.id)
            .join(BadgeType, BadgeType.id == Registration.badge_type_id)
            .outerjoin(Company, Company.id == Contact.company_id)
            .where(Registration.id.in_(sorted(registration_ids))))
        return {reg_id: visitor_card(contact, company=company, badge_type=badge_type).__dict__
                for reg_id, contact, company, badge_type in rows}


def _replayed(session: Session, scan: LeadScan) -> dict:
    lead = session.get(Lead, scan.lead_id) if scan.lead_id else None
    return _answer(session, scan, lead, lead.registration_id if lead else None)


def update_lead(session: Session, *, exhibitor_id: int, lead_id: int, rating: str | None = None,
                notes: str | None = None, answers: dict | None = None, now: datetime) -> Lead:
    """Change a lead of this exhibitor (another exhibitor's lead id is not found)."""
    lead = session.get(Lead, lead_id)
    if lead is None or lead.exhibitor_id != exhibitor_id:
        raise NotFound("lead", lead_id)
    request = LeadScanRequest(code="", scan_id="", rating=rating, notes=notes)
    _check(request)
    _apply(lead, request, check_answers(session, exhibitor_id=exhibitor_id, answers=answers or {}), now)
    session.add(lead)
    session.flush()
    return lead
