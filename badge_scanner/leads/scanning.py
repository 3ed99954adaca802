"""Lead retrieval: exhibitor staff scan a visitor's badge at their booth, rate and qualify the lead.

A scan names a lead by the client's scan_id: sending it again (an offline phone uploading after a lost reply)
returns the lead as it is and changes nothing. Scanning the same visitor again opens the same lead (one lead per
exhibitor and registration) and applies the rating, notes and answers sent with it. An exhibitor may scan any badge
of its edition that would pass the gates' checks of the badge itself: genuine, active, the current version.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from exhibit_crm import audit
from exhibit_crm.errors import InvalidInput, NotFound
from exhibit_crm.models import Exhibitor, Lead, LeadScan, Registration

from ..codes import Verifier
from .group import GroupScan
from .queries import visitor_of
from .rules import ACCEPTED, MAX_NOTES, REJECTED, BoothScan, apply_scan, check_answers, check_scan

# the audit log's name for a lead edit since its first entries: kept, so that the log reads as one
CHANGED = "event_phases.on_site.lead.changed"


def _lead_json(lead: Lead | None) -> dict | None:
    if lead is None:
        return None
    return {"id": lead.id, "rating": lead.rating, "notes": lead.notes, "answers": lead.answers or {},
            "created_at": lead.created_at.isoformat(), "updated_at": lead.updated_at.isoformat()}


def _visitor(session: Session, registration_id: int) -> dict | None:
    found = visitor_of(session, registration_id=registration_id)
    return found[1].__dict__ if found else None


def _answer(session: Session, scan: LeadScan, lead: Lead | None, registration_id: int | None) -> dict:
    return {"scan_id": scan.scan_id, "verdict": scan.verdict, "reason": scan.reason, "lead": _lead_json(lead),
            "visitor": _visitor(session, registration_id) if registration_id is not None else None}


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


def scan_lead(session: Session, *, exhibitor_id: int, user_id: int | None, scan: BoothScan,
              verifier: Verifier, now: datetime) -> dict:
    """Judge a booth scan, open or update the lead, and answer as the lead API does; a repeated scan_id is harmless."""
    exhibitor = session.get(Exhibitor, exhibitor_id)
    if exhibitor is None:
        raise NotFound("exhibitor", exhibitor_id)
    seen = session.scalars(select(LeadScan).where(LeadScan.exhibitor_id == exhibitor_id,
                                                  LeadScan.scan_id == scan.scan_id)).first()
    if seen is not None:
        return _replayed(session, seen)
    check_scan(scan)
    answers = check_answers(session, exhibitor_id=exhibitor_id, answers=scan.answers)
    reason, registration_id = _judge(session, exhibitor, scan.code, verifier)
    lead = None
    if reason is None:
        lead = _lead_for(session, exhibitor_id, registration_id, user_id=user_id, now=now)
        apply_scan(lead, scan, answers, now)
        session.add(lead)
    recorded = LeadScan(exhibitor_id=exhibitor_id, lead_id=lead.id if lead else None, exhibitor_user_id=user_id,
                        scan_id=scan.scan_id, verdict=REJECTED if reason else ACCEPTED, reason=reason,
                        device_time=scan.scanned_at, received_at=now)
    try:
        with session.begin_nested():
            session.add(recorded)
            session.flush()
    except IntegrityError:
        # the same scan_id from a concurrent upload: that one counts
        seen = session.scalars(select(LeadScan).where(LeadScan.exhibitor_id == exhibitor_id,
                                                      LeadScan.scan_id == scan.scan_id)).one()
        return _replayed(session, seen)
    # a refused badge shows nothing of its holder
    return _answer(session, recorded, lead, registration_id if reason is None else None)


def scan_leads(session: Session, *, items: list[tuple[int, int | None, BoothScan]], verifier: Verifier,
               now: datetime) -> list[dict | InvalidInput]:
    """Several booth scans (exhibitor id, user id, scan) in one transaction, answered as scan_lead answers each in
    turn: a scan that is refused for its input comes back as its InvalidInput and the others are recorded.

    The group's reads are made once for all its scans and its writes sent together as plain statements (scan_lead
    costs several milliseconds a scan in ORM statements). A concurrent process recording the same lead or scan_id
    first makes an insert fail: then the group is judged again scan by scan, each in its own savepoint, as scan_lead
    does.
    """
    if not items:
        return []
    session.flush()
    try:
        with session.begin_nested():
            return GroupScan(session.connection(), items, verifier, now).run()
    except IntegrityError:
        pass
    return _scan_by_scan(session, items, verifier, now)


def record_lead_scans(connection: Connection, *, items: list[tuple[int, int | None, BoothScan]],
                      verifier: Verifier, now: datetime) -> list[dict | InvalidInput]:
    """scan_leads on a Core connection in a transaction (the lead API's group writer): an ORM session is made only
    for a group that meets a concurrent insert and is judged scan by scan."""
    if not items:
        return []
    try:
        with connection.begin_nested():
            return GroupScan(connection, items, verifier, now).run()
    except IntegrityError:
        pass
    # the session joins the connection's transaction and leaves its commit to the writer
    with Session(bind=connection) as session:
        results = _scan_by_scan(session, items, verifier, now)
        session.flush()
    return results


def _scan_by_scan(session: Session, items: list, verifier: Verifier, now: datetime) -> list[dict | InvalidInput]:
    results: list[dict | InvalidInput] = []
    for exhibitor_id, user_id, scan in items:
        try:
            with session.begin_nested():
                results.append(scan_lead(session, exhibitor_id=exhibitor_id, user_id=user_id, scan=scan,
                                         verifier=verifier, now=now))
        except InvalidInput as refused:
            results.append(refused)
    return results


def _replayed(session: Session, scan: LeadScan) -> dict:
    lead = session.get(Lead, scan.lead_id) if scan.lead_id else None
    return _answer(session, scan, lead, lead.registration_id if lead else None)


def update_lead(session: Session, *, exhibitor_id: int, lead_id: int, rating: str | None, notes: str,
                answers: dict, actor: audit.Actor, now: datetime) -> Lead:
    """Change a lead of this exhibitor as its page saves it: rating (empty clears it), notes and answers; audited.
    Another exhibitor's lead id is not found."""
    lead = session.get(Lead, lead_id)
    if lead is None or lead.exhibitor_id != exhibitor_id:
        raise NotFound("lead", lead_id)
    if len(notes) > MAX_NOTES:
        raise InvalidInput("too_long", f"notes: at most {MAX_NOTES} characters", field="notes")
    edit = BoothScan(code="", scan_id="", rating=rating or None, notes=notes)
    check_scan(edit)
    apply_scan(lead, edit, check_answers(session, exhibitor_id=exhibitor_id, answers=answers or {}), now)
    lead.rating = edit.rating
    session.add(lead)
    audit.log(session, CHANGED, actor=actor, obj=lead, data={"exhibitor_id": exhibitor_id, "rating": lead.rating})
    session.flush()
    return lead
