"""Gate scans: judging badges at a device's gate and recording every scan, one at a time or as an offline batch.

Each batch of scans (a single scan is a batch of one, or of many when the group-commit writer collects them) is
judged in one transaction with set-based reads: the scans already recorded, the registrations named and where
those people are. On PostgreSQL the presence rows are locked (SELECT … FOR UPDATE, in registration order) before
judging, so two processes scanning the same badge are judged one after the other: in a strict zone only the
first gets in.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select
from sqlmodel import Session

from exhibit_crm.errors import NotFound
from exhibit_crm.models import (
    BadgeChange,
    BadgeType,
    Contact,
    Edition,
    EditionDay,
    Gate,
    GateDevice,
    Registration,
    Zone,
    ZoneAccess,
)

from .code_format import BadgeRef
from .codes import Verifier
from .rules import Verdict, Where, ZoneRules, judge_badge, judge_presence
from .scan_statements import LAST_SEEN_EVERY, SCAN, Person, ScanStatements


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


@dataclass(slots=True)
class ScanRequest:
    """One scan as a device reports it; scanned_at None means now (the server's clock). Not frozen: a frozen
    dataclass takes 1.4 µs to build against 0.6, and an offline batch builds 10,000."""

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


@dataclass(frozen=True, slots=True)
class _Pending:
    """An entry judged in this transaction whose scan id is known only after the insert."""

    index: int


def _flushed(session: Session) -> Connection:
    session.flush()
    return session.connection()


def record_scans(session: Session | Connection, *, scans: list[ScanRequest], verifier: Verifier, now: datetime,
                 last_seen: dict[int, datetime] | None = None) -> list[dict]:
    """Judge and record scans in order; a scan seen before (same device and scan_id) gets its first answer.

    Runs in the transaction of `session` (an ORM Session, or a Core Connection as the group-commit writer passes).

    `last_seen` (device id -> when this process last wrote its last_seen_at) lets a long-running writer skip
    rewriting a device's last_seen_at more often than LAST_SEEN_EVERY; without it the database decides.
    """
    connection = session if isinstance(session, Connection) else _flushed(session)
    db = ScanStatements(connection)
    with db.pipeline():
        return _record(db, scans, verifier, now, last_seen)


def _record(db: ScanStatements, scans: list[ScanRequest], verifier: Verifier, now: datetime,
            last_seen: dict[int, datetime] | None) -> list[dict]:
    # sent first, read once the signatures are checked: in a pipeline these three share one round trip
    recorded_rows = db.by_key("verdict, reason, registration_id", {(s.gate.device_id, s.scan_id) for s in scans})
    refs = verifier.check_many([s.code for s in scans])
    people_named = db.people({r.registration_id for r in refs if r})
    scan_ids = db.new_scan_ids(len(scans))
    recorded = {(d, s): (v, r, reg) for d, s, v, r, reg in recorded_rows()}
    people = people_named()
    if missing := {v[2] for v in recorded.values() if v[2]} - people.keys():  # answers given before, to others
        people.update(db.people(missing)())
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
    where = db.whereabouts(moving, now)
    rows, results, left, moved = [], [None] * len(scans), [], {}
    received = db.time(now)
    for i in sorted(first.values()):
        scan, ref = scans[i], refs[i]
        at = scan.scanned_at or now
        verdict = static[i] or _judge_move(db, scan, ref.registration_id, at, where, left, rows, len(rows))
        if verdict.move is not None:
            moved[ref.registration_id] = moving[ref.registration_id]
        person = people.get(ref.registration_id) if ref else None
        rows.append(_row(scan, ref if person else None, verdict, db.time(at), received))
        results[i] = _answer(scan.scan_id, verdict.verdict, verdict.reason, person)
    _write(db, rows, scan_ids() if rows else [], where, moved, left, now)
    _touch_devices(db, {s.gate.device_id for s in scans}, now, last_seen)
    for i, scan in enumerate(scans):
        if results[i] is None:
            key = (scan.gate.device_id, scan.scan_id)
            if key in recorded:
                verdict, reason, reg_id = recorded[key]
                results[i] = _answer(scan.scan_id, verdict, reason, people.get(reg_id))
            else:
                results[i] = results[first[key]]
    return results


def _judge_move(db: ScanStatements, scan: ScanRequest, registration_id: int, at: datetime, where: dict[int, Where],
                left: list, rows: list[dict], index: int) -> Verdict:
    """Judge by where the person is and move them: the previous entry (zone) ends when they leave or move on."""
    rules = scan.gate.rules
    now_at = where.get(registration_id)
    verdict = judge_presence(rules, now_at, direction=scan.direction, at=at)
    if verdict.move is None:
        return verdict
    if now_at is not None and now_at.zone_id is not None and now_at.entry is not None:
        if isinstance(now_at.entry, _Pending):
            rows[now_at.entry.index]["left_at"] = db.time(at)
        else:
            left.append((db.time(at), now_at.entry))
    if verdict.move == "enter":
        where[registration_id] = Where(rules.zone_id, at, _Pending(index))
    else:
        where[registration_id] = Where(None)
    return verdict


def _row(scan: ScanRequest, ref: BadgeRef | None, verdict: Verdict, at: object, now: object) -> dict:
    """A scan row: `at` and `now` already as the database stores them."""
    return {"scan_id": scan.scan_id, "device_id": scan.gate.device_id, "gate_id": scan.gate.gate_id,
            "zone_id": scan.gate.zone_id, "registration_id": ref.registration_id if ref else None,
            "badge_version": ref.badge_version if ref else None, "direction": scan.direction, "scanned_at": at,
            "received_at": now, "verdict": verdict.verdict, "reason": verdict.reason,
            "device_verdict": scan.device_verdict, "device_reason": scan.device_reason, "offline": scan.offline,
            "left_at": None}


def _answer(scan_id: str, verdict: str, reason: str | None, person: Person | None) -> dict:
    return {"scan_id": scan_id, "verdict": verdict, "reason": reason, "person": person.public() if person else None}


def _write(db: ScanStatements, rows: list[dict], ids: list[int], where: dict[int, Where], moved: dict[int, int],
           left: list[tuple], now: datetime) -> None:
    """Insert the scans under their ids, then point presence at the new entries and close the entries people
    left."""
    if rows:
        db.insert_scans(rows, ids)
    if moved:
        updated = db.time(now)
        db.save_presence([_presence_row(db, reg, edition_id, where[reg], rows, ids, updated)
                          for reg, edition_id in sorted(moved.items())])
    if left:
        db.close_entries(left)


def _touch_devices(db: ScanStatements, devices: set[int], now: datetime, last_seen: dict[int, datetime] | None) -> None:
    """Set the devices' last_seen_at, at most every LAST_SEEN_EVERY."""
    if last_seen is not None:
        devices = {d for d in devices if d not in last_seen or not timedelta(0) <= now - last_seen[d] < LAST_SEEN_EVERY}
        last_seen.update((d, now) for d in devices)
    if devices:
        db.touch_devices(sorted(devices), now)


def _presence_row(db: ScanStatements, registration_id: int, edition_id: int, where: Where, rows: list[dict], ids: list,
                  updated: object) -> tuple:
    entry = where.entry
    if isinstance(entry, _Pending):  # entered by a scan of this transaction: its row holds the time, converted
        return (registration_id, edition_id, where.zone_id, rows[entry.index]["scanned_at"], ids[entry.index],
                updated)
    return (registration_id, edition_id, where.zone_id, db.time(where.entered_at), entry, updated)


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
