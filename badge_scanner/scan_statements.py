"""The statements judging and recording gate scans needs, as plain SQL on the core's bulk-SQL helper.

Scans come in thousands a second: each statement's text is the same whatever the number of scans (arrays on
PostgreSQL, which then prepares it once per connection), and times are converted with the column types' own
processors (the same values the ORM stores and reads).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from exhibit_crm.bulk_sql import BulkSql
from exhibit_crm.models import BadgeType, Company, Contact, GateDevice, Presence, Registration, Scan

from .rules import Badge, Where

# a device's last_seen_at is rewritten at most this often: the dashboard shows minutes, not milliseconds
LAST_SEEN_EVERY = timedelta(seconds=5)
SCAN = Scan.__table__
PRESENCE = Presence.__table__
DEVICE = GateDevice.__table__
SCAN_WRITE_TYPE = SCAN.c.scanned_at.type.impl_instance  # how a naive UTC time is bound
SCAN_COLUMNS = ("id", "scan_id", "device_id", "gate_id", "zone_id", "registration_id", "badge_version", "direction",
                "scanned_at", "received_at", "verdict", "reason", "device_verdict", "device_reason", "offline",
                "left_at")
_SCAN_VALUES = operator.itemgetter(*SCAN_COLUMNS)  # a scan row's values in column order
PRESENCE_COLUMNS = ("registration_id", "edition_id", "zone_id", "entered_at", "entry_scan_id", "updated_at")


def _sqlite_text(at: datetime) -> str:
    return at.isoformat(" ", "microseconds")


def _naive(at: datetime | None) -> datetime | None:
    """What UTCDateTime stores for an aware datetime: naive UTC."""
    return None if at is None else at.astimezone(UTC).replace(tzinfo=None)


@dataclass(slots=True)
class Person:
    """The holder of a badge as a scan's answer shows them, with what their badge is judged by."""

    badge: Badge
    name: str
    company: str
    badge_type: str

    def public(self) -> dict:
        return {"name": self.name, "company": self.company, "badge_type": self.badge_type}


class ScanStatements(BulkSql):
    """The few statements judging and recording scans needs, inside the connection's transaction."""

    def __init__(self, connection: Connection):
        super().__init__(connection)
        dialect = connection.dialect
        to_db = SCAN_WRITE_TYPE.dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)
        # SQLite stores times as text: SQLAlchemy's processor builds it from a dict of fields (~2 µs), isoformat
        # writes the same text in C; used only when it gives exactly what the processor gives
        sample = datetime(2026, 3, 10, 9, 5, 7, 4321)
        fast = _sqlite_text if dialect.name == "sqlite" and to_db(sample) == _sqlite_text(sample) else None
        self._to_db = fast or to_db
        self._from_db = self.result(PRESENCE.c.entered_at)

    def time(self, at: datetime | None) -> object:
        """An aware datetime as the database stores it (naive UTC, a string on SQLite)."""
        if at is None:
            return None
        if self._to_db is _sqlite_text:  # one expression for the common case: two scans' times a scan
            return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return self._to_db(_naive(at))

    def by_key(self, columns: str, keys: set[tuple[int, str]]) -> Callable[[], list[tuple]]:
        """Scans recorded under these (device, scan_id) keys: device_id, scan_id, then `columns` (sent now, read
        later; see `query`)."""
        return self.pairs(SCAN.name, columns, "device_id", "scan_id", keys)

    def people(self, ids: set[int]) -> Callable[[], dict[int, Person]]:
        """The people these registrations name (sent now, read later; see `query`)."""
        reads = [self.query(
            "SELECT r.id, r.edition_id, r.status, r.badge_version, r.badge_type_id, c.full_name, "
            f"COALESCE(co.name, ''), t.code FROM {Registration.__tablename__} r "
            f"JOIN {Contact.__tablename__} c ON c.id = r.contact_id "
            f"JOIN {BadgeType.__tablename__} t ON t.id = r.badge_type_id "
            f"LEFT JOIN {Company.__tablename__} co ON co.id = c.company_id "
            f"WHERE {condition}", params) for condition, params in self.among("r.id", sorted(ids))]

        def read() -> dict[int, Person]:
            return {reg_id: Person(Badge(reg_id, edition_id, status, version, type_id), name, company, type_code)
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
            self.insert(PRESENCE, PRESENCE_COLUMNS, [(i, people[i], None, None, None, at) for i in ids],
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
        self.insert(SCAN, SCAN_COLUMNS, list(map(_SCAN_VALUES, rows)))

    def touch_devices(self, devices: list[int], now: datetime) -> None:
        """Set the devices' last_seen_at to now unless it is already less than LAST_SEEN_EVERY old."""
        at, stale = self.time(now), self.time(now - LAST_SEEN_EVERY)
        for condition, params in self.among("id", devices):
            self.execute(f"UPDATE {DEVICE.name} SET last_seen_at = {self.mark} WHERE {condition} AND "
                         f"(last_seen_at IS NULL OR last_seen_at < {self.mark})", [at, *params, stale])

    def save_presence(self, rows: list[tuple]) -> None:
        """Presence rows, one per person at most (a statement may not update a row twice on PostgreSQL)."""
        self.insert(PRESENCE, PRESENCE_COLUMNS, rows, " ON CONFLICT (registration_id) DO UPDATE SET "
                    + ", ".join(f"{c} = excluded.{c}" for c in PRESENCE_COLUMNS[2:]))

    def close_entries(self, left: list[tuple]) -> None:
        """(left_at, scan pk) pairs."""
        self.update(SCAN, ("left_at",), left)
