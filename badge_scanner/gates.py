"""Gate scans: judging badges at a device's gate and recording every scan, one at a time or as an offline batch.

Each batch of scans (a single scan is a batch of one, or of many when the group-commit writer collects them) is
judged in one transaction with set-based reads: the scans already recorded, the registrations named and where
those people are. On PostgreSQL the presence rows are locked (SELECT … FOR UPDATE, in registration order) before
judging, so two processes scanning the same badge are judged one after the other: in a strict zone only the
first gets in.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects import postgresql
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

from .codes import BadgeRef, Verifier
from .rules import Badge, Verdict, Where, ZoneRules, judge_badge, judge_presence

# bound parameters per IN list: under every backend's limit
CHUNK = 1000
# a device's last_seen_at is rewritten at most this often: the dashboard shows minutes, not milliseconds
LAST_SEEN_EVERY = timedelta(seconds=5)
SCAN = Scan.__table__
PRESENCE = Presence.__table__
DEVICE = GateDevice.__table__
SCAN_WRITE_TYPE = SCAN.c.scanned_at.type.impl_instance  # how a naive UTC time is bound


def _sqlite_text(at: datetime) -> str:
    return at.isoformat(" ", "microseconds")


def _naive(at: datetime | None) -> datetime | None:
    """What UTCDateTime stores for an aware datetime: naive UTC."""
    return None if at is None else at.astimezone(UTC).replace(tzinfo=None)


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


@dataclass(slots=True)
class _Person:
    badge: Badge
    name: str
    company: str
    badge_type: str

    def public(self) -> dict:
        return {"name": self.name, "company": self.company, "badge_type": self.badge_type}


@functools.cache
def _postgres_types(table: Table) -> dict[str, str]:
    """Each column's type as PostgreSQL names it, for array parameters."""
    dialect = postgresql.dialect()
    return {column.name: column.type.compile(dialect=dialect) for column in table.columns}


def _chunks(values: list) -> Iterable[list]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


_SCAN_COLUMNS = ("id", "scan_id", "device_id", "gate_id", "zone_id", "registration_id", "badge_version", "direction",
                 "scanned_at", "received_at", "verdict", "reason", "device_verdict", "device_reason", "offline",
                 "left_at")
_SCAN_VALUES = operator.itemgetter(*_SCAN_COLUMNS)  # a scan row's values in column order
_PRESENCE_COLUMNS = ("registration_id", "edition_id", "zone_id", "entered_at", "entry_scan_id", "updated_at")


class _Db:
    """The few statements judging and recording scans needs, sent through the session connection's own DB-API
    cursor, inside the session's transaction.

    Built SQL costs a few hundred microseconds a statement in the ORM and Core layers, several times what SQLite
    needs to run it; scans come in thousands a second, so these statements are plain SQL with the driver's
    placeholders, and times are converted with the column types' own processors (the same values the ORM
    stores and reads).
    """

    def __init__(self, connection: Connection):
        dialect = connection.dialect
        self.postgres = dialect.name == "postgresql"
        self._dbapi = connection.connection
        self.cursor = self._dbapi.cursor()
        self._mark = "%s" if self.postgres else "?"
        to_db = SCAN_WRITE_TYPE.dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)
        # SQLite stores times as text: SQLAlchemy's processor builds it from a dict of fields (~2 µs), isoformat
        # writes the same text in C; used only when it gives exactly what the processor gives
        sample = datetime(2026, 3, 10, 9, 5, 7, 4321)
        fast = _sqlite_text if dialect.name == "sqlite" and to_db(sample) == _sqlite_text(sample) else None
        self._to_db = fast or to_db
        from_db = PRESENCE.c.entered_at.type.dialect_impl(dialect).result_processor(dialect, None)
        self._from_db = from_db or (lambda value: value)

    def time(self, at: datetime | None) -> object:
        """An aware datetime as the database stores it (naive UTC, a string on SQLite)."""
        if at is None:
            return None
        if self._to_db is _sqlite_text:  # one expression for the common case: two scans' times a scan
            return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return self._to_db(_naive(at))

    def marks(self, count: int) -> str:
        return ", ".join([self._mark] * count)

    def rows(self, sql: str, params: list) -> list[tuple]:
        self.cursor.execute(sql, params)
        return self.cursor.fetchall()

    def query(self, sql: str, params: list) -> Callable[[], list[tuple]]:
        """Send a query now and read its rows later, with what the returned function gives: in a pipeline the
        statements sent before a read share its round trip."""
        cursor = self._dbapi.cursor()
        cursor.execute(sql, params)
        return cursor.fetchall

    def pipeline(self) -> contextlib.AbstractContextManager:
        """On PostgreSQL psycopg's pipeline mode: statements go out without waiting for their answers and a read
        waits only for what was sent before it, so a group's ten statements take four round trips. Errors of
        statements that nothing read come out when the block ends."""
        if not self.postgres:
            return contextlib.nullcontext()
        return self._dbapi.driver_connection.pipeline()

    def many(self, sql: str, params: list[tuple]) -> None:
        self.cursor.executemany(sql, params)

    def among(self, column: str, values: list[int]) -> Iterable[tuple[str, list]]:
        """(condition, parameters) for integer `column` IN values: on PostgreSQL one array parameter (`= ANY`), so
        that the statement's text is the same whatever the number of values and psycopg prepares it once per
        connection, sparing the server its parsing and planning; on SQLite IN lists of at most CHUNK values."""
        if self.postgres:
            yield f"{column} = ANY(%s::integer[])", [values]
            return
        for chunk in _chunks(values):
            yield f"{column} IN ({self.marks(len(chunk))})", chunk

    def insert(self, table: Table, columns: tuple[str, ...], rows: list[tuple], tail: str = "") -> None:
        """Insert rows of values in `columns` order, `tail` after (ON CONFLICT …): on PostgreSQL one statement of one
        text, an array a column through unnest (see `among`); on SQLite executemany, whose statement is prepared
        once."""
        if not rows:
            return
        names = ", ".join(columns)
        if not self.postgres:
            self.many(f"INSERT INTO {table.name} ({names}) VALUES ({self.marks(len(columns))}){tail}", rows)
            return
        types = _postgres_types(table)
        arrays = ", ".join(f"%s::{types[column]}[]" for column in columns)
        self.cursor.execute(f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays}){tail}",
                            [list(values) for values in zip(*rows, strict=True)])

    def by_key(self, columns: str, keys: set[tuple[int, str]]) -> Callable[[], list[tuple]]:
        """Scans recorded under these (device, scan_id) keys: device_id, scan_id, then `columns` (sent now, read
        later; see `query`)."""
        if self.postgres:
            pairs = sorted(keys)
            return self.query(f"SELECT device_id, scan_id, {columns} FROM {SCAN.name} WHERE (device_id, scan_id) "
                              "IN (SELECT * FROM unnest(%s::integer[], %s::text[]))",
                              [[d for d, _s in pairs], [s for _d, s in pairs]])
        reads = []
        for chunk in _chunks(sorted(keys)):
            # two plain IN lists on the (device_id, scan_id) index; the few rows of other pairs they also find are
            # dropped when read
            devices, ids = sorted({d for d, _s in chunk}), sorted({s for _d, s in chunk})
            reads.append(self.query(f"SELECT device_id, scan_id, {columns} FROM {SCAN.name} WHERE device_id IN "
                                    f"({self.marks(len(devices))}) AND scan_id IN ({self.marks(len(ids))})",
                                    devices + ids))
        return lambda: [row for rows_of in reads for row in rows_of() if (row[0], row[1]) in keys]

    def people(self, ids: set[int]) -> Callable[[], dict[int, _Person]]:
        """The people these registrations name (sent now, read later; see `query`)."""
        reads = [self.query(
            "SELECT r.id, r.edition_id, r.status, r.badge_version, r.badge_type_id, c.full_name, "
            f"COALESCE(co.name, ''), t.code FROM {Registration.__tablename__} r "
            f"JOIN {Contact.__tablename__} c ON c.id = r.contact_id "
            f"JOIN {BadgeType.__tablename__} t ON t.id = r.badge_type_id "
            f"LEFT JOIN {Company.__tablename__} co ON co.id = c.company_id "
            f"WHERE {condition}", params) for condition, params in self.among("r.id", sorted(ids))]

        def read() -> dict[int, _Person]:
            return {reg_id: _Person(Badge(reg_id, edition_id, status, version, type_id), name, company, type_code)
                    for rows_of in reads
                    for reg_id, edition_id, status, version, type_id, name, company, type_code in rows_of()}

        return read

    def whereabouts(self, people: dict[int, int], now: datetime) -> dict[int, Where]:
        """Where each person (registration id -> edition id) is, their rows locked until commit on PostgreSQL."""
        ids = sorted(people)
        if not ids:
            return {}
        if self.postgres:
            # A row must exist to be locked; one made by a concurrent transaction makes this wait for it, then skip.
            at = self.time(now)
            self.insert(PRESENCE, _PRESENCE_COLUMNS, [(i, people[i], None, None, None, at) for i in ids],
                        " ON CONFLICT (registration_id) DO NOTHING")
        lock = " FOR UPDATE" if self.postgres else ""
        reads = [self.query(f"SELECT registration_id, zone_id, entered_at, entry_scan_id FROM {PRESENCE.name} "
                            f"WHERE {condition} ORDER BY registration_id{lock}", params)
                 for condition, params in self.among("registration_id", ids)]
        return {reg: Where(zone, self._from_db(entered), entry)
                for rows_of in reads for reg, zone, entered, entry in rows_of()}

    def new_scan_ids(self, count: int) -> Callable[[], list[int]]:
        """Ids for up to `count` new scans, given here rather than looked up after the insert (which would cost a
        fifth of the insert again): on PostgreSQL from the table's sequence (sent now, read later; see `query`), on
        SQLite the ids after the highest, which are ours since this transaction holds the database's write lock
        (BEGIN IMMEDIATE)."""
        if self.postgres:
            read = self.query(f"SELECT nextval(pg_get_serial_sequence('{SCAN.name}', 'id')) FROM "
                              "generate_series(1, %s)", [count])
            return lambda: [pk for (pk,) in read()]

        def after_the_highest() -> list[int]:
            top = self.rows(f"SELECT COALESCE(MAX(id), 0) FROM {SCAN.name}", [])[0][0]
            return list(range(top + 1, top + 1 + count))

        return after_the_highest

    def insert_scans(self, rows: list[dict], ids: list[int]) -> None:
        """Insert scan rows under these ids (one each, in order)."""
        for pk, row in zip(ids, rows, strict=False):
            row["id"] = pk
        self.insert(SCAN, _SCAN_COLUMNS, list(map(_SCAN_VALUES, rows)))

    def touch_devices(self, devices: list[int], now: datetime) -> None:
        """Set the devices' last_seen_at to now unless it is already less than LAST_SEEN_EVERY old."""
        at, stale = self.time(now), self.time(now - LAST_SEEN_EVERY)
        for condition, params in self.among("id", devices):
            self.cursor.execute(f"UPDATE {DEVICE.name} SET last_seen_at = {self._mark} WHERE {condition} AND "
                                f"(last_seen_at IS NULL OR last_seen_at < {self._mark})", [at, *params, stale])

    def save_presence(self, rows: list[tuple]) -> None:
        """Presence rows, one per person at most (a statement may not update a row twice on PostgreSQL)."""
        self.insert(PRESENCE, _PRESENCE_COLUMNS, rows, " ON CONFLICT (registration_id) DO UPDATE SET "
                    + ", ".join(f"{c} = excluded.{c}" for c in _PRESENCE_COLUMNS[2:]))

    def close_entries(self, left: list[tuple]) -> None:
        """(left_at, scan pk) pairs."""
        self.many(f"UPDATE {SCAN.name} SET left_at = {self._mark} WHERE id = {self._mark}", left)


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
    db = _Db(connection)
    with db.pipeline():
        return _record(db, scans, verifier, now, last_seen)


def _record(db: _Db, scans: list[ScanRequest], verifier: Verifier, now: datetime,
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


def _judge_move(db: _Db, scan: ScanRequest, registration_id: int, at: datetime, where: dict[int, Where], left: list,
                rows: list[dict], index: int) -> Verdict:
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


def _answer(scan_id: str, verdict: str, reason: str | None, person: _Person | None) -> dict:
    return {"scan_id": scan_id, "verdict": verdict, "reason": reason, "person": person.public() if person else None}


def _write(db: _Db, rows: list[dict], ids: list[int], where: dict[int, Where], moved: dict[int, int],
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


def _touch_devices(db: _Db, devices: set[int], now: datetime, last_seen: dict[int, datetime] | None) -> None:
    """Set the devices' last_seen_at, at most every LAST_SEEN_EVERY."""
    if last_seen is not None:
        devices = {d for d in devices if d not in last_seen or not timedelta(0) <= now - last_seen[d] < LAST_SEEN_EVERY}
        last_seen.update((d, now) for d in devices)
    if devices:
        db.touch_devices(sorted(devices), now)


def _presence_row(db: _Db, registration_id: int, edition_id: int, where: Where, rows: list[dict], ids: list,
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
