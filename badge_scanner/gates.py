"""Gate scans: judging badges at a device's gate and recording every scan, one at a time or as an offline batch.

Each batch of scans (a single scan is a batch of one, or of many when the group-commit writer collects them) is
judged in one transaction with set-based reads: the scans already recorded, the registrations named and where
those people are. On PostgreSQL the presence rows are locked (SELECT … FOR UPDATE, in registration order) before
judging, so two processes scanning the same badge are judged one after the other: in a strict zone only the
first gets in.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from exhibit_crm.errors import NotFound
from exhibit_crm.models import (
    BadgeChange,
    BadgeType,
    Company,
    Contact,
    Edition,
    EditionDay,
    Gate,
    GateDevice,
    Presence,
    Registration,
    Scan,
    Zone,
    ZoneAccess,
)

from .codes import BadgeRef, InvalidCode, Verifier
from .rules import Badge, Verdict, Where, ZoneRules, judge_badge, judge_presence

# bound parameters per IN list: under every backend's limit
CHUNK = 1000
# a device's last_seen_at is rewritten at most this often: the dashboard shows minutes, not milliseconds
LAST_SEEN_EVERY = timedelta(seconds=5)
SCAN = Scan.__table__
PRESENCE = Presence.__table__


@dataclass(frozen=True)
class GateContext:
    """A device's gate, zone and edition with the zone's rules: everything a scan is judged against."""

    device_id: int
    device_name: str
    gate_id: int
    gate_name: str
    zone_name: str
    zone_name_zh: str
    edition_name: str
    timezone: str
    rules: ZoneRules
    badge_type_codes: dict[int, str]
    day_ids: dict[int, object]

    @property
    def edition_id(self) -> int:
        return self.rules.edition_id

    @property
    def zone_id(self) -> int:
        return self.rules.zone_id


@dataclass(frozen=True)
class ScanRequest:
    """One scan as a device reports it; scanned_at None means now (the server's clock)."""

    gate: GateContext
    code: str
    direction: str
    scan_id: str
    scanned_at: datetime | None = None
    offline: bool = False
    device_verdict: str | None = None
    device_reason: str | None = None


def gate_context(session: Session, *, device_id: int) -> GateContext:
    """The gate, zone, edition and rules of a device."""
    row = session.execute(
        select(GateDevice.name, Gate.id, Gate.name, Zone, Edition.name, Edition.timezone)
        .join(Gate, Gate.id == GateDevice.gate_id).join(Zone, Zone.id == Gate.zone_id)
        .join(Edition, Edition.id == Zone.edition_id).where(GateDevice.id == device_id)).first()
    if row is None:
        raise NotFound("device", device_id)
    device_name, gate_id, gate_name, zone, edition_name, timezone = row
    days = session.execute(select(EditionDay.id, EditionDay.day, EditionDay.opens_at, EditionDay.closes_at)
                           .where(EditionDay.edition_id == zone.edition_id).order_by(EditionDay.day)).all()
    access = session.execute(select(ZoneAccess.badge_type_id, ZoneAccess.day_id)
                             .where(ZoneAccess.zone_id == zone.id)).all()
    types = dict(session.execute(select(BadgeType.id, BadgeType.code)
                                 .where(BadgeType.edition_id == zone.edition_id)).all())
    day_of = {day_id: day for day_id, day, _o, _c in days}
    rules = ZoneRules(
        edition_id=zone.edition_id, zone_id=zone.id, reentry=zone.reentry,
        margin=timedelta(minutes=zone.margin_minutes), timezone=ZoneInfo(timezone),
        days=tuple((day, opens, closes) for _id, day, opens, closes in days),
        access=frozenset((type_id, day_of.get(day_id)) for type_id, day_id in access))
    return GateContext(device_id, device_name, gate_id, gate_name, zone.name, zone.name_zh, edition_name, timezone,
                       rules, types, day_of)


# Verifying a signature costs ~0.15 ms; a code that verified once always verifies with the same key, and badges
# are read again and again (in, out, other halls, other days), so the answers are kept per key.
@functools.lru_cache(maxsize=200_000)
def _verified(verifier: Verifier, code: str) -> BadgeRef | None:
    try:
        return verifier.verify(code)
    except InvalidCode:
        return None


@dataclass
class _Person:
    badge: Badge
    name: str
    company: str
    badge_type: str

    def public(self) -> dict:
        return {"name": self.name, "company": self.company, "badge_type": self.badge_type}


def _chunks(values: list) -> Iterable[list]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _recorded(session: Session, scans: list[ScanRequest]) -> dict[tuple[int, str], tuple]:
    """Scans already recorded under the same (device, scan_id): re-sends get their first answer."""
    keys = sorted({(s.gate.device_id, s.scan_id) for s in scans})
    found = {}
    for chunk in _chunks(keys):
        rows = session.execute(select(SCAN.c.device_id, SCAN.c.scan_id, SCAN.c.verdict, SCAN.c.reason,
                                      SCAN.c.registration_id)
                               .where(tuple_(SCAN.c.device_id, SCAN.c.scan_id).in_(chunk)))
        found.update({(d, s): (v, r, reg) for d, s, v, r, reg in rows})
    return found


def _people(session: Session, ids: set[int]) -> dict[int, _Person]:
    found = {}
    for chunk in _chunks(sorted(ids)):
        rows = session.execute(
            select(Registration.id, Registration.edition_id, Registration.status, Registration.badge_version,
                   Registration.badge_type_id, Contact.full_name, func.coalesce(Company.name, ""), BadgeType.code)
            .join(Contact, Contact.id == Registration.contact_id)
            .join(BadgeType, BadgeType.id == Registration.badge_type_id)
            .outerjoin(Company, Company.id == Contact.company_id).where(Registration.id.in_(chunk)))
        for reg_id, edition_id, status, version, type_id, name, company, type_code in rows:
            found[reg_id] = _Person(Badge(reg_id, edition_id, status, version, type_id), name, company, type_code)
    return found


def _upsert(session: Session):
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(PRESENCE)


def _whereabouts(session: Session, people: dict[int, int], now: datetime) -> dict[int, Where]:
    """Where each person (registration id -> edition id) is, their rows locked until commit on PostgreSQL."""
    ids = sorted(people)
    if not ids:
        return {}
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # A row must exist to be locked; one made by a concurrent transaction makes this wait for it, then skip.
        rows = [{"registration_id": i, "edition_id": people[i], "zone_id": None, "entered_at": None,
                 "entry_scan_id": None, "updated_at": now} for i in ids]
        session.execute(_upsert(session).on_conflict_do_nothing(index_elements=["registration_id"]), rows)
    found = {}
    for chunk in _chunks(ids):
        query = (select(PRESENCE.c.registration_id, PRESENCE.c.zone_id, PRESENCE.c.entered_at,
                        PRESENCE.c.entry_scan_id).where(PRESENCE.c.registration_id.in_(chunk))
                 .order_by(PRESENCE.c.registration_id))
        if postgres:
            query = query.with_for_update()
        found.update({reg: Where(zone, entered, entry) for reg, zone, entered, entry in session.execute(query)})
    return found


@dataclass(frozen=True)
class _Pending:
    """An entry judged in this transaction whose scan id is known only after the insert."""

    index: int


def record_scans(session: Session, *, scans: list[ScanRequest], verifier: Verifier, now: datetime) -> list[dict]:
    """Judge and record scans in order; a scan seen before (same device and scan_id) gets its first answer."""
    recorded = _recorded(session, scans)
    refs = [_verified(verifier, s.code) for s in scans]
    people = _people(session, {r.registration_id for r in refs if r} | {v[2] for v in recorded.values() if v[2]})
    first: dict[tuple[int, str], int] = {}
    static: list[Verdict | None] = []
    for i, (scan, ref) in enumerate(zip(scans, refs, strict=True)):
        key = (scan.gate.device_id, scan.scan_id)
        if key in recorded or key in first:
            static.append(None)
            continue
        first[key] = i
        person = people.get(ref.registration_id) if ref else None
        static.append(judge_badge(scan.gate.rules, person.badge if person else None, version=ref.badge_version if ref
                                  else 0, direction=scan.direction, at=scan.scanned_at or now))
    judged = {i for i in first.values() if static[i] is None}
    moving = {refs[i].registration_id: people[refs[i].registration_id].badge.edition_id for i in judged}
    where = _whereabouts(session, moving, now)
    rows, results, left, moved = [], [None] * len(scans), [], {}
    for i in sorted(first.values()):
        scan, ref = scans[i], refs[i]
        at = scan.scanned_at or now
        verdict = static[i] or _judge_move(scan, ref.registration_id, at, where, left, rows, len(rows))
        if verdict.move is not None:
            moved[ref.registration_id] = moving[ref.registration_id]
        person = people.get(ref.registration_id) if ref else None
        rows.append(_row(scan, ref if person else None, verdict, at, now))
        results[i] = _answer(scan.scan_id, verdict.verdict, verdict.reason, person)
    _write(session, rows, where, moved, left, now, {s.gate.device_id for s in scans})
    for i, scan in enumerate(scans):
        if results[i] is None:
            key = (scan.gate.device_id, scan.scan_id)
            if key in recorded:
                verdict, reason, reg_id = recorded[key]
                results[i] = _answer(scan.scan_id, verdict, reason, people.get(reg_id))
            else:
                results[i] = results[first[key]]
    return results


def _judge_move(scan: ScanRequest, registration_id: int, at: datetime, where: dict[int, Where], left: list,
                rows: list[dict], index: int) -> Verdict:
    """Judge by where the person is and move them: the previous entry (zone) ends when they leave or move on."""
    rules = scan.gate.rules
    now_at = where.get(registration_id)
    verdict = judge_presence(rules, now_at, direction=scan.direction, at=at)
    if verdict.move is None:
        return verdict
    if now_at is not None and now_at.zone_id is not None and now_at.entry is not None:
        if isinstance(now_at.entry, _Pending):
            rows[now_at.entry.index]["left_at"] = at
        else:
            left.append({"scan_pk": now_at.entry, "left_at": at})
    if verdict.move == "enter":
        where[registration_id] = Where(rules.zone_id, at, _Pending(index))
    else:
        where[registration_id] = Where(None)
    return verdict


def _row(scan: ScanRequest, ref: BadgeRef | None, verdict: Verdict, at: datetime, now: datetime) -> dict:
    return {"scan_id": scan.scan_id, "device_id": scan.gate.device_id, "gate_id": scan.gate.gate_id,
            "zone_id": scan.gate.zone_id, "registration_id": ref.registration_id if ref else None,
            "badge_version": ref.badge_version if ref else None, "direction": scan.direction, "scanned_at": at,
            "received_at": now, "verdict": verdict.verdict, "reason": verdict.reason,
            "device_verdict": scan.device_verdict, "device_reason": scan.device_reason, "offline": scan.offline,
            "left_at": None}


def _answer(scan_id: str, verdict: str, reason: str | None, person: _Person | None) -> dict:
    return {"scan_id": scan_id, "verdict": verdict, "reason": reason, "person": person.public() if person else None}


def _write(session: Session, rows: list[dict], where: dict[int, Where], moved: dict[int, int], left: list[dict],
           now: datetime, devices: set[int]) -> None:
    """Insert the scans, then point presence at the new entries and close the entries people left."""
    ids = []
    if rows:
        ids = [pk for (pk,) in session.execute(insert(SCAN).returning(SCAN.c.id, sort_by_parameter_order=True),
                                               rows)]
    if moved:
        _save_presence(session, [_presence_row(reg, edition_id, where[reg], ids, now)
                                 for reg, edition_id in sorted(moved.items())])
    if left:
        session.execute(update(SCAN).where(SCAN.c.id == bindparam("scan_pk")).values(left_at=bindparam("left_at")),
                        left)
    session.execute(update(GateDevice).where(GateDevice.id.in_(sorted(devices)),
                                             or_(GateDevice.last_seen_at.is_(None),
                                                 GateDevice.last_seen_at < now - LAST_SEEN_EVERY))
                    .values(last_seen_at=now))


def _presence_row(registration_id: int, edition_id: int, where: Where, ids: list[int], now: datetime) -> dict:
    entry = ids[where.entry.index] if isinstance(where.entry, _Pending) else where.entry
    return {"registration_id": registration_id, "edition_id": edition_id, "zone_id": where.zone_id,
            "entered_at": where.entered_at, "entry_scan_id": entry, "updated_at": now}


def _save_presence(session: Session, rows: list[dict]) -> None:
    stmt = _upsert(session)
    stmt = stmt.on_conflict_do_update(index_elements=["registration_id"], set_={
        "zone_id": stmt.excluded.zone_id, "entered_at": stmt.excluded.entered_at,
        "entry_scan_id": stmt.excluded.entry_scan_id, "updated_at": stmt.excluded.updated_at})
    session.execute(stmt, rows)


def snapshot(session: Session, *, gate: GateContext, verifier: Verifier, cursor: int = 0,
             now: datetime) -> dict:
    """What a device needs to judge offline, with the badge changes after `cursor` (latest per registration)."""
    changes = session.execute(
        select(BadgeChange.id, BadgeChange.registration_id, BadgeChange.badge_version, BadgeChange.status)
        .where(BadgeChange.edition_id == gate.edition_id, BadgeChange.id > cursor).order_by(BadgeChange.id)).all()
    latest = {}
    for _id, registration_id, version, status in changes:
        latest[registration_id] = {"registration_id": registration_id, "valid_version": version, "status": status}
    rules = gate.rules
    access = sorted(({"badge_type": gate.badge_type_codes.get(type_id, ""), "day": day.isoformat() if day else None}
                     for type_id, day in rules.access), key=lambda a: (a["badge_type"], a["day"] or ""))
    return {
        "edition": {"id": gate.edition_id, "name": gate.edition_name, "timezone": gate.timezone},
        "gate": {"id": gate.gate_id, "name": gate.gate_name},
        "zone": {"id": gate.zone_id, "name": gate.zone_name, "name_zh": gate.zone_name_zh, "reentry": rules.reentry,
                 "margin_minutes": int(rules.margin.total_seconds() // 60)},
        "public_key": base64.b64encode(verifier.public_key_raw()).decode("ascii"),
        "public_key_pem": verifier.public_key_pem(),
        "days": [{"day": day.isoformat(), "opens_at": opens.isoformat(timespec="minutes"),
                  "closes_at": closes.isoformat(timespec="minutes")} for day, opens, closes in rules.days],
        "access": access,
        "revocations": sorted(latest.values(), key=lambda r: r["registration_id"]),
        "cursor": changes[-1][0] if changes else cursor,
        "server_time": now.isoformat(),
    }


@dataclass(frozen=True)
class ScanRow:
    """A recorded scan with who and where, for staff lists."""

    id: int
    scan_id: str
    scanned_at: datetime
    received_at: datetime
    direction: str
    verdict: str
    reason: str | None
    device_verdict: str | None
    device_reason: str | None
    registration_id: int | None
    full_name: str
    zone_id: int
    zone_name: str
    gate_name: str
    device_name: str


def _scan_rows(query, limit: int | None) -> object:
    query = (query.join(Zone, Zone.id == SCAN.c.zone_id).join(Gate, Gate.id == SCAN.c.gate_id)
             .outerjoin(GateDevice, GateDevice.id == SCAN.c.device_id)
             .outerjoin(Registration, Registration.id == SCAN.c.registration_id)
             .outerjoin(Contact, Contact.id == Registration.contact_id)
             .order_by(SCAN.c.scanned_at.desc(), SCAN.c.id.desc()))
    return query.limit(limit) if limit else query


def _select_scan_rows():
    return select(SCAN.c.id, SCAN.c.scan_id, SCAN.c.scanned_at, SCAN.c.received_at, SCAN.c.direction,
                  SCAN.c.verdict, SCAN.c.reason, SCAN.c.device_verdict, SCAN.c.device_reason,
                  SCAN.c.registration_id, func.coalesce(Contact.full_name, ""), SCAN.c.zone_id, Zone.name, Gate.name,
                  func.coalesce(GateDevice.name, "")).select_from(SCAN)


def offline_double_entries(session: Session, *, edition_id: int, limit: int = 100) -> list[ScanRow]:
    """Badges an offline device let into a strict zone while the person was already inside (newest first)."""
    query = _select_scan_rows().where(
        Zone.edition_id == edition_id, Zone.reentry == "strict", SCAN.c.offline, SCAN.c.direction == "in",
        SCAN.c.device_verdict == "accepted", SCAN.c.reason == "already_inside")
    return [ScanRow(*row) for row in session.execute(_scan_rows(query, limit))]


def verdict_disagreements(session: Session, *, edition_id: int, limit: int = 100) -> list[ScanRow]:
    """Offline scans whose device verdict differs from the server's, which is the one that counts (newest first)."""
    query = _select_scan_rows().where(Zone.edition_id == edition_id, SCAN.c.offline,
                                      SCAN.c.device_verdict.is_not(None), SCAN.c.device_verdict != SCAN.c.verdict)
    return [ScanRow(*row) for row in session.execute(_scan_rows(query, limit))]
