"""The live gate dashboard's figures, read straight from the scans: who is inside each zone, entries per gate per
quarter hour, unique visitors, rejections by reason, devices last seen, and what offline devices got wrong.

A figure named visitors counts only badges for visitors (exhibit_crm.models.VISITOR_AUDIENCES); the people inside a
zone and the entries per gate count every badge as well, since the halls hold exhibitor staff, press and the
organiser's people too. Days are the edition's local days; every figure takes `now`, so nothing here reads the
clock."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, select
from sqlmodel import Session

from exhibit_crm.db import epoch_seconds, found
from exhibit_crm.models import (
    Edition,
    EditionDay,
    Gate,
    GateDevice,
    Presence,
    Registration,
    Scan,
    Zone,
    holds_visitor_badge,
)

from . import gates

SLOT_MINUTES = 15
LIST_LIMIT = 50


@dataclass(frozen=True)
class ZoneNow:
    id: int
    name: str
    name_zh: str
    reentry: str
    inside: int  # every badge
    visitors: int  # of them, badges for visitors


@dataclass(frozen=True)
class EntryChart:
    """Accepted entries per gate per quarter hour of one local day; `counts[gate id]` lines up with `slots`."""

    day: str
    slots: list[str]
    gates: list[dict]
    counts: dict[int, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceSeen:
    id: int
    name: str
    gate: str
    zone: str
    last_seen_at: str | None
    revoked: bool


@dataclass(frozen=True)
class OfflineScan:
    """An offline scan whose device verdict differs from the server's, with who and where."""

    scan_id: str
    scanned_at: str
    gate: str
    device: str
    person: str
    registration_id: int | None
    device_verdict: str | None
    device_reason: str | None
    verdict: str
    reason: str | None


@dataclass(frozen=True)
class DoubleEntry:
    """A badge that offline devices let into a zone it was already inside."""

    registration_id: int
    person: str
    zone: str
    times: int
    last_at: str


def _edition(session: Session, edition_id: int) -> Edition:
    return found(session, Edition, edition_id, what="edition")


def local_day(edition: Edition, now: datetime) -> date:
    """The edition's local date at `now`."""
    return now.astimezone(ZoneInfo(edition.timezone)).date()


def _day_bounds(edition: Edition, day: date) -> tuple[datetime, datetime]:
    """The UTC moments a local day starts and ends (23 or 25 hours long on a daylight-saving change)."""
    zone = ZoneInfo(edition.timezone)
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _edition_scans(edition_id: int):
    """Scans at the edition's zones: the join every figure starts from."""
    return Scan.zone_id.in_(select(Zone.id).where(Zone.edition_id == edition_id))


def zones_now(session: Session, *, edition_id: int) -> list[ZoneNow]:
    """Every zone of the edition with the number of people inside it now, and how many of them are visitors."""
    visitors = func.count().filter(holds_visitor_badge(Registration.badge_type_id))
    inside = (select(Presence.zone_id, func.count().label("n"), visitors.label("visitors"))
              .join(Registration, Registration.id == Presence.registration_id)
              .where(Presence.edition_id == edition_id, Presence.zone_id.is_not(None))
              .group_by(Presence.zone_id).subquery())
    rows = session.execute(select(Zone, func.coalesce(inside.c.n, 0), func.coalesce(inside.c.visitors, 0))
                           .outerjoin(inside, inside.c.zone_id == Zone.id)
                           .where(Zone.edition_id == edition_id).order_by(Zone.name, Zone.id))
    return [ZoneNow(zone.id, zone.name, zone.name_zh, zone.reentry, int(n), int(v)) for zone, n, v in rows.all()]


def _slot_expr(session: Session):
    """The quarter hour of a scan as a number (UTC epoch seconds // 900), computed by the database.

    Every time zone's offset is a whole number of quarter hours, so UTC slots are local slots too."""
    return epoch_seconds(session, Scan.scanned_at) // (SLOT_MINUTES * 60)


def _opening(session: Session, edition: Edition, day: date) -> tuple[datetime, datetime] | None:
    hours = session.execute(select(EditionDay).where(EditionDay.edition_id == edition.id, EditionDay.day == day))
    found = hours.scalars().first()
    if found is None:
        return None
    zone = ZoneInfo(edition.timezone)
    return (datetime.combine(day, found.opens_at, tzinfo=zone).astimezone(UTC),
            datetime.combine(day, found.closes_at, tzinfo=zone).astimezone(UTC))


def entries_per_gate(session: Session, *, edition_id: int, day: date) -> EntryChart:
    """Accepted entries per gate in each quarter hour of a local day: its opening hours and any scan outside them."""
    edition = _edition(session, edition_id)
    start, end = _day_bounds(edition, day)
    slot = _slot_expr(session).label("slot")
    rows = session.execute(
        select(Scan.gate_id, slot, func.count()).where(
            _edition_scans(edition_id), Scan.verdict == "accepted", Scan.direction == "in",
            Scan.scanned_at >= start, Scan.scanned_at < end).group_by(Scan.gate_id, slot)).all()
    seconds = SLOT_MINUTES * 60
    wanted = {int(row[1]) for row in rows}
    opening = _opening(session, edition, day)
    if opening:
        wanted |= {int(opening[0].timestamp()) // seconds, (int(opening[1].timestamp()) - 1) // seconds}
    gates = session.execute(select(Gate, Zone).join(Zone, Zone.id == Gate.zone_id)
                            .where(Zone.edition_id == edition_id).order_by(Zone.name, Gate.name, Gate.id)).all()
    if not wanted:
        return EntryChart(day.isoformat(), [], [_gate_dict(gate, zone) for gate, zone in gates])
    first, last = min(wanted), max(wanted)
    local = ZoneInfo(edition.timezone)
    slots = [datetime.fromtimestamp(n * seconds, UTC).astimezone(local).strftime("%H:%M")
             for n in range(first, last + 1)]
    counts = {gate.id: [0] * len(slots) for gate, _zone in gates}
    for gate_id, number, n in rows:
        counts.setdefault(gate_id, [0] * len(slots))[int(number) - first] = int(n)
    return EntryChart(day.isoformat(), slots, [_gate_dict(gate, zone) for gate, zone in gates], counts)


def _gate_dict(gate: Gate, zone: Zone) -> dict:
    return {"id": gate.id, "name": gate.name, "zone": zone.name, "zone_zh": zone.name_zh}


def unique_visitors(session: Session, *, edition_id: int, day: date | None = None) -> int:
    """Distinct visitors (registrations with a badge for visitors) with at least one accepted entry (on one local
    day, or ever); exhibitor staff, press and organiser badges are not visitors."""
    query = select(func.count(distinct(Scan.registration_id))).join(
        Registration, Registration.id == Scan.registration_id).where(
        _edition_scans(edition_id), Scan.verdict == "accepted", Scan.direction == "in",
        holds_visitor_badge(Registration.badge_type_id))
    if day is not None:
        start, end = _day_bounds(_edition(session, edition_id), day)
        query = query.where(Scan.scanned_at >= start, Scan.scanned_at < end)
    return int(session.execute(query).scalar_one())


def rejections(session: Session, *, edition_id: int, day: date) -> dict[str, int]:
    """Rejected scans of a local day by reason, the commonest first."""
    start, end = _day_bounds(_edition(session, edition_id), day)
    n = func.count().label("n")
    rows = session.execute(select(Scan.reason, n).where(
        _edition_scans(edition_id), Scan.verdict == "rejected", Scan.scanned_at >= start, Scan.scanned_at < end)
        .group_by(Scan.reason).order_by(n.desc(), Scan.reason)).all()
    return {reason or "unknown": int(count) for reason, count in rows}


def devices_seen(session: Session, *, edition_id: int) -> list[DeviceSeen]:
    """The edition's gate devices, the most recently seen first; never-seen ones last."""
    rows = session.execute(
        select(GateDevice, Gate, Zone).join(Gate, Gate.id == GateDevice.gate_id).join(Zone, Zone.id == Gate.zone_id)
        .where(Zone.edition_id == edition_id)
        .order_by(GateDevice.last_seen_at.is_(None), GateDevice.last_seen_at.desc(), GateDevice.id)).all()
    return [DeviceSeen(device.id, device.name, gate.name, zone.name, _iso(device.last_seen_at),
                       device.revoked_at is not None) for device, gate, zone in rows]


def offline_disagreements(session: Session, *, edition_id: int) -> list[OfflineScan]:
    """Offline scans the device judged otherwise than the server (whose verdict is the one counted), newest first."""
    return [OfflineScan(row.scan_id, _iso(row.scanned_at), row.gate_name, row.device_name, row.full_name,
                        row.registration_id, row.device_verdict, row.device_reason, row.verdict, row.reason)
            for row in gates.verdict_disagreements(session, edition_id=edition_id, limit=LIST_LIMIT)]


def double_entries(session: Session, *, edition_id: int) -> list[DoubleEntry]:
    """Badges offline devices let into a strict zone they were already inside, one line per person and zone."""
    found: dict[tuple[int | None, int], dict] = {}
    for row in gates.offline_double_entries(session, edition_id=edition_id, limit=None):  # newest first
        entry = found.setdefault((row.registration_id, row.zone_id), {
            "registration_id": row.registration_id, "person": row.full_name, "zone": row.zone_name, "times": 0,
            "last_at": _iso(row.scanned_at)})
        entry["times"] += 1
    return [DoubleEntry(**entry) for entry in list(found.values())[:LIST_LIMIT]]


def dashboard(session: Session, *, edition_id: int, now: datetime, day: date | None = None) -> dict:
    """Every figure of the live dashboard as plain JSON-ready values; the chart shows `day` (default: today)."""
    edition = _edition(session, edition_id)
    today = local_day(edition, now)
    chart = entries_per_gate(session, edition_id=edition_id, day=day or today)
    return {
        "edition": {"id": edition.id, "name": edition.name, "timezone": edition.timezone},
        "now": _iso(now), "today": today.isoformat(),
        "zones": [asdict(zone) for zone in zones_now(session, edition_id=edition_id)],
        "entries": {"day": chart.day, "slots": chart.slots,
                    "gates": [{**gate, "counts": chart.counts.get(gate["id"], [0] * len(chart.slots))}
                              for gate in chart.gates]},
        "visitors": {"today": unique_visitors(session, edition_id=edition_id, day=today),
                     "total": unique_visitors(session, edition_id=edition_id)},
        "rejected": rejections(session, edition_id=edition_id, day=today),
        "devices": [asdict(device) for device in devices_seen(session, edition_id=edition_id)],
        "disagreements": [asdict(scan) for scan in offline_disagreements(session, edition_id=edition_id)],
        "double_entries": [asdict(entry) for entry in double_entries(session, edition_id=edition_id)],
    }


def dashboard_page(session: Session, *, edition_id: int, now: datetime) -> dict:
    """What the dashboard page shows before its first poll: the edition and today's figures."""
    return {"edition": _edition(session, edition_id), "figures": dashboard(session, edition_id=edition_id, now=now)}
