"""A group of booth scans recorded at once: the same rules as scan_lead in the same order, with set-based reads and
one write of each kind, as plain statements on the transaction's connection (scan_lead costs several milliseconds a
scan in ORM statements; the lead API's group writer and offline batches send thousands)."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from exhibit_crm.bulk_sql import BulkSql
from exhibit_crm.errors import InvalidInput, NotFound
from exhibit_crm.models import BadgeType, Company, Contact, Lead, LeadQuestion, LeadScan, Registration
from exhibit_crm.sharing import SHARED_FIELDS, visitor_card

from ..codes import Verifier
from .rules import ACCEPTED, REJECTED, BoothScan, apply_scan, check_scan, checked_answers

LEAD, LEAD_SCAN = Lead.__table__, LeadScan.__table__
_LEAD_COLUMNS = ("exhibitor_id", "registration_id", "scanned_by_id", "rating", "notes", "answers", "created_at",
                 "updated_at")
_SCAN_COLUMNS = ("exhibitor_id", "lead_id", "exhibitor_user_id", "scan_id", "verdict", "reason", "device_time",
                 "received_at")


@dataclass
class _GroupLead:
    """A lead as the group reads and changes it (what apply_scan and the answer need); id None until inserted."""

    id: int | None
    exhibitor_id: int
    registration_id: int
    scanned_by_id: int | None
    rating: str | None
    notes: str
    answers: dict
    created_at: datetime
    updated_at: datetime
    changed: bool = False


_LEAD_READ = "id, exhibitor_id, registration_id, scanned_by_id, rating, notes, answers, created_at, updated_at"
_PERSON_READ = ("r.id, r.edition_id, r.status, r.badge_version, t.code, COALESCE(co.name, ''), c.full_name, "
                "c.consent_share, " + ", ".join(f"c.{name}" for name in SHARED_FIELDS))


@dataclass(frozen=True)
class _Question:
    kind: str
    options: list


@dataclass(frozen=True)
class _Seen:
    """A booth scan already recorded (or recorded by this group), as a repeat of its scan_id sees it."""

    scan_id: str
    verdict: str
    reason: str | None
    lead_id: int | None = None


class GroupScan:
    """scan_lead for a group of scans (exhibitor id, user id, scan) on a connection in a transaction."""

    def __init__(self, connection: Connection, items: list, verifier: Verifier, now: datetime):
        self.items, self.now = items, now
        db = self.db = BulkSql(connection)
        self.time_in, self.time_out = db.bind(LEAD.c.updated_at), db.result(LEAD.c.updated_at)
        self.json_in, self.json_out = db.bind(LEAD.c.answers), db.result(LEAD.c.answers)
        self.exhibitors = dict(db.by_id("exhibitor", "id, edition_id", {e for e, _u, _r in items}))
        self.seen: dict[tuple[int, str], _Seen] = {
            (e, s): _Seen(s, verdict, reason, lead_id) for e, s, verdict, reason, lead_id in db.pairs(
                LEAD_SCAN.name, "verdict, reason, lead_id", "exhibitor_id", "scan_id",
                {(e, scan.scan_id) for e, _u, scan in items})()}
        self.refs = verifier.check_many([scan.code for _e, _u, scan in items])
        registration_ids = {ref.registration_id for ref in self.refs if ref}
        self.leads: dict[tuple[int, int], _GroupLead] = {}
        self._read_leads(db.pairs(LEAD.name, _LEAD_READ, "exhibitor_id", "registration_id",
                                  {(e, ref.registration_id) for (e, _u, _r), ref in zip(items, self.refs, strict=True)
                                   if ref}, types=("integer", "integer"))())
        lead_ids = {s.lead_id for s in self.seen.values() if s.lead_id}
        self.lead_by_id = {lead.id: lead for lead in self.leads.values()}
        self._read_leads([(row[1], row[2], *row) for row in db.by_id(LEAD.name, _LEAD_READ,
                                                                        lead_ids - set(self.lead_by_id))])
        self.lead_by_id = {lead.id: lead for lead in self.leads.values()}
        self.people = {row[0]: row for row in self._people(
            registration_ids | {lead.registration_id for lead in self.lead_by_id.values()})}
        self.questions: dict[int, dict[str, _Question]] = {}
        self.recorded_here: dict[tuple[int, str], _GroupLead | None] = {}  # scans of this group -> their lead

    def _read_leads(self, rows: list[tuple]) -> None:
        time_out, json_out = self.time_out, self.json_out
        for _e, _r, lead_id, exhibitor_id, registration_id, user_id, rating, notes, answers, created, updated in rows:
            self.leads[(exhibitor_id, registration_id)] = _GroupLead(
                lead_id, exhibitor_id, registration_id, user_id, rating, notes, json_out(answers), time_out(created),
                time_out(updated))

    def _people(self, ids: set[int]) -> list[tuple]:
        found = []
        for condition, params in self.db.among("r.id", sorted(ids)):
            found += self.db.rows(
                f"SELECT {_PERSON_READ} FROM {Registration.__tablename__} r "
                f"JOIN {Contact.__tablename__} c ON c.id = r.contact_id "
                f"LEFT JOIN {BadgeType.__tablename__} t ON t.id = r.badge_type_id "
                f"LEFT JOIN {Company.__tablename__} co ON co.id = c.company_id "
                f"WHERE {condition}", params)
        return found

    def run(self) -> list[dict | InvalidInput]:
        # (answer without lead id and visitor, lead, registration id to show) per item, or its InvalidInput
        pending: list = []
        scans: list[tuple[list, _GroupLead | None]] = []
        for (exhibitor_id, user_id, scan), ref in zip(self.items, self.refs, strict=True):
            try:
                pending.append(self._one(exhibitor_id, user_id, scan, ref, scans))
            except InvalidInput as refused:
                pending.append(refused)
        self._write(scans)
        cards: dict[int, dict | None] = {}
        results: list[dict | InvalidInput] = []
        for item in pending:
            if isinstance(item, InvalidInput):
                results.append(item)
                continue
            answer, lead, registration_id = item
            if answer["lead"] is not None:
                answer["lead"]["id"] = lead.id
            if registration_id is not None:
                if registration_id not in cards:
                    cards[registration_id] = self._card(registration_id)
                answer["visitor"] = cards[registration_id]
            results.append(answer)
        return results

    def _write(self, scans: list[tuple[list, _GroupLead | None]]) -> None:
        """Insert the new leads, then learn their ids, update the leads scanned again, insert the scans."""
        db, time_in, json_in = self.db, self.time_in, self.json_in
        new = [lead for lead in self.leads.values() if lead.id is None]
        changed = [lead for lead in self.leads.values() if lead.changed and lead.id is not None]
        db.insert(LEAD, _LEAD_COLUMNS, [
            (lead.exhibitor_id, lead.registration_id, lead.scanned_by_id, lead.rating, lead.notes,
             json_in(lead.answers), time_in(lead.created_at), time_in(lead.updated_at)) for lead in new])
        if new:
            ids = {(e, r): lead_id for e, r, lead_id in db.pairs(LEAD.name, "id", "exhibitor_id", "registration_id",
                                                                   {(lead.exhibitor_id, lead.registration_id)
                                                                    for lead in new},
                                                                   types=("integer", "integer"))()}
            for lead in new:
                lead.id = ids[(lead.exhibitor_id, lead.registration_id)]
        db.update(LEAD, ("rating", "notes", "answers", "updated_at"),
                  [(lead.rating, lead.notes, json_in(lead.answers), time_in(lead.updated_at), lead.id)
                   for lead in changed])
        for row, lead in scans:
            row[1] = lead.id if lead else None
        db.insert(LEAD_SCAN, _SCAN_COLUMNS, [tuple(row) for row, _lead in scans])

    def _one(self, exhibitor_id: int, user_id: int | None, scan: BoothScan, ref, scans: list) -> tuple:
        edition_id = self.exhibitors.get(exhibitor_id)
        if edition_id is None:
            raise NotFound("exhibitor", exhibitor_id)
        seen = self.seen.get((exhibitor_id, scan.scan_id))
        if seen is not None:
            lead = self._lead_of(exhibitor_id, seen)
            return (self._answer(seen, lead), lead, lead.registration_id if lead else None)
        check_scan(scan)
        answers = checked_answers(self._questions(exhibitor_id), scan.answers) if scan.answers else {}
        reason, registration_id = self._judge(edition_id, ref)
        lead = None
        if reason is None:
            lead = self.leads.get((exhibitor_id, registration_id))
            if lead is None:
                lead = _GroupLead(None, exhibitor_id, registration_id, user_id, None, "", {}, self.now, self.now)
                self.leads[(exhibitor_id, registration_id)] = lead
            apply_scan(lead, scan, answers, self.now)
            lead.changed = True
        # the scan is inserted with the others after the new leads have their ids
        recorded = _Seen(scan.scan_id, REJECTED if reason else ACCEPTED, reason)
        scans.append(([exhibitor_id, None, user_id, scan.scan_id, recorded.verdict, reason,
                       self.time_in(scan.scanned_at), self.time_in(self.now)], lead))
        self.seen[(exhibitor_id, scan.scan_id)] = recorded
        self.recorded_here[(exhibitor_id, scan.scan_id)] = lead
        # a refused badge shows nothing of its holder
        return (self._answer(recorded, lead), lead, registration_id if reason is None else None)

    def _questions(self, exhibitor_id: int) -> dict[str, _Question]:
        if exhibitor_id not in self.questions:
            options_out = self.db.result(LeadQuestion.__table__.c.options)
            rows = self.db.rows(f"SELECT id, kind, options FROM {LeadQuestion.__tablename__} "
                                f"WHERE exhibitor_id = {self.db.mark}", [exhibitor_id])
            self.questions[exhibitor_id] = {str(q_id): _Question(kind, options_out(options) or [])
                                            for q_id, kind, options in rows}
        return self.questions[exhibitor_id]

    def _lead_of(self, exhibitor_id: int, scan: _Seen) -> _GroupLead | None:
        key = (exhibitor_id, scan.scan_id)
        if key in self.recorded_here:
            return self.recorded_here[key]
        return self.lead_by_id.get(scan.lead_id) if scan.lead_id else None

    def _judge(self, edition_id: int, ref) -> tuple[str | None, int | None]:
        person = self.people.get(ref.registration_id) if ref else None
        if person is None:
            return "invalid_code", None
        registration_id, person_edition, status, badge_version = person[:4]
        if person_edition != edition_id:
            return "other_edition", None
        if status == "cancelled":
            return "revoked", registration_id
        if ref.badge_version != badge_version:
            return "outdated_badge", registration_id
        return None, registration_id

    @staticmethod
    def _answer(scan: _Seen, lead: _GroupLead | None) -> dict:
        # the lead as it is now (a later scan of the group may change it); a new lead's id is known after the insert
        lead_json = None if lead is None else {
            "id": None, "rating": lead.rating, "notes": lead.notes, "answers": dict(lead.answers or {}),
            "created_at": lead.created_at.isoformat(), "updated_at": lead.updated_at.isoformat()}
        return {"scan_id": scan.scan_id, "verdict": scan.verdict, "reason": scan.reason, "lead": lead_json,
                "visitor": None}

    def _card(self, registration_id: int) -> dict | None:
        person = self.people.get(registration_id)
        if person is None or person[4] is None:  # the ORM path's inner join with the badge type finds nothing
            return None
        _id, _edition, _status, _version, badge_type, company, full_name, consent, *shared = person
        contact = _Contact(full_name, consent, *shared)
        return visitor_card(contact, company=company, badge_type=badge_type).__dict__


_Contact = namedtuple("_Contact", ("full_name", "consent_share", *SHARED_FIELDS))
