"""A small hand-built show for the statistics tests: one series, its 2025 and 2026 editions (Asia/Shanghai, UTC+8),
a few visitors, exhibitors, scans and leads whose figures were counted by hand in the tests.

2026 has three days (10–12 March, 9:00–17:00), Hall 1 (gates A and B) and the Lounge (gate L); 2025 two days
(10–11 March). The people, in the 2026 edition:

| who | country, province | badge (audience) | source | registered | entries (accepted, local time) |
|---|---|---|---|---|---|
| P1 王伟 | CN 上海市 | trade_visitor | online | 1 Feb | day 1 09:10 A (out 10:00), 10:30 A; day 2 09:05 B |
| P2 Anna | DE | vip_buyer (trade) | invitation | 15 Jan | day 1 11:00 L |
| P3 李娜 | CN 广东省 | public_visitor | online | 11 Mar 10:00 | day 2 10:20 B |
| P4 张三 | CN 上海市 | trade_visitor | walk_in | 12 Mar 09:30 | day 3 09:40 A |
| P5 Tom | US | trade_visitor | import | 10 Jan | none |
| P6 赵六 | CN (no province) | public_visitor, cancelled 15 Feb | third_party | 10 Feb | none |
| P7 钱七 | CN 浙江省 | trade_visitor | online | 20 Feb | rejected day 1; accepted 9 Mar (move-in day) |
| P8 孙八 | CN | exhibitor_staff | import | 1 Mar | day 1 08:30 A |
| P9 周九 | CN | press | online | 1 Mar | day 1 09:15 A |

In 2025: P1 (registered 5 Jan 2025, came 10 Mar), P5 (1 Feb, came 11 Mar), P10 吴十 (10 Mar 08:00, came 10 Mar)
and P11 郑十一 (27 Feb, never came), all trade visitors.
Exhibitors 2026: 华美 (CN, paid, N1-A01, 36 m², sofas+beds, arrived; leads: P1 hot, P2 warm, P3 unrated),
Acme (DE, contracted, N2-B01, 18 m², lighting), X (CN, cancelled, 50 m²). 2025: 华美 (24 m²), 老客 (CN, 100 m²,
N1-C01, kitchen; leads P1 hot, P5 cold; user 刘经理), X (50 m², N2-D02), Y (cancelled, 30 m²)."""

from __future__ import annotations

from datetime import date, datetime, time
from itertools import count
from zoneinfo import ZoneInfo

from sqlmodel import Session

from exhibit_crm.models import (
    BadgeType,
    Company,
    Contact,
    Edition,
    EditionDay,
    Exhibitor,
    ExhibitorUser,
    Gate,
    Lead,
    ProductCategory,
    Registration,
    RegistrationQuestion,
    Scan,
    Series,
    Zone,
)

TZ = ZoneInfo("Asia/Shanghai")
_scan_ids = count(1)


def at(day: date, hhmm: str) -> datetime:
    """A local moment of the venue."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=TZ)


def _add(session: Session, row):
    session.add(row)
    session.flush()
    return row


def _edition(session: Session, series: Series, year: int, days: int) -> dict:
    ed = _add(session, Edition(series_id=series.id, name=f"Furniture Fair {year}", year=year, timezone="Asia/Shanghai"))
    for offset in range(days):
        session.add(EditionDay(edition_id=ed.id, day=date(year, 3, 10 + offset), opens_at=time(9), closes_at=time(17)))
    hall = _add(session, Zone(edition_id=ed.id, name="Hall 1", name_zh="1号馆"))
    lounge = _add(session, Zone(edition_id=ed.id, name="Lounge", name_zh="贵宾室", reentry="strict"))
    gates = {name: _add(session, Gate(zone_id=zone.id, name=f"Gate {name}"))
             for name, zone in (("A", hall), ("B", hall), ("L", lounge))}
    types = {code: _add(session, BadgeType(edition_id=ed.id, code=code, name=code, audience=audience))
             for code, audience in (("trade_visitor", "trade_visitor"), ("public_visitor", "public_visitor"),
                                    ("vip_buyer", "trade_visitor"), ("exhibitor_staff", "exhibitor_staff"),
                                    ("press", "press"))}
    return {"edition": ed, "gates": gates, "types": types}


def _person(session: Session, name: str, country: str, province: str = "") -> Contact:
    return _add(session, Contact(full_name=name, email=f"{next(_scan_ids)}@show.example", country=country,
                                 province=province))


def _register(session: Session, show: dict, contact: Contact, badge: str, source: str, when: datetime, *,
              answers: dict | None = None, cancelled: datetime | None = None) -> Registration:
    return _add(session, Registration(
        contact_id=contact.id, edition_id=show["edition"].id, badge_type_id=show["types"][badge].id, source=source,
        answers=answers or {}, registered_at=when, status="cancelled" if cancelled else "registered",
        cancelled_at=cancelled))


def _scan(session: Session, show: dict, reg: Registration, gate: str, when: datetime, *, left: datetime | None = None,
          direction: str = "in", verdict: str = "accepted") -> None:
    gate_row = show["gates"][gate]
    session.add(Scan(scan_id=f"s{next(_scan_ids)}", gate_id=gate_row.id, zone_id=gate_row.zone_id,
                     registration_id=reg.id, direction=direction, scanned_at=when, verdict=verdict,
                     reason=None if verdict == "accepted" else "zone_denied", left_at=left))


def _exhibitor(session: Session, show: dict, company: Company, status: str, hall: str | None, sqm: float,
               categories: list[str], *, arrived: bool = False) -> Exhibitor:
    return _add(session, Exhibitor(
        edition_id=show["edition"].id, company_id=company.id, status=status, booth_hall=hall,
        booth_number=f"{hall}-{next(_scan_ids):02d}" if hall else None, booth_sqm=sqm, product_categories=categories,
        arrived_at=at(date(show["edition"].year, 3, 9), "14:00") if arrived else None))


def build(session: Session) -> dict:
    """The show above; returns the two editions' ids and the people's registrations."""
    series = _add(session, Series(name="Furniture Fair", name_zh="家具展"))
    past, this = _edition(session, series, 2025, 2), _edition(session, series, 2026, 3)
    ed = this["edition"]
    session.add(RegistrationQuestion(edition_id=ed.id, key="interests", label="Interests", label_zh="兴趣",
                                     kind="multiple", options=[{"value": v, "label": v} for v in
                                                               ("sofas", "beds", "lighting")]))
    for code in ("sofas", "beds", "lighting"):
        session.add(ProductCategory(edition_id=ed.id, code=code, name=code.title(), name_zh=code))
    d1, d2, d3 = date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 12)
    people = {key: _person(session, *values) for key, values in {
        "P1": ("王伟", "CN", "上海市"), "P2": ("Anna Schmidt", "DE"), "P3": ("李娜", "CN", "广东省"),
        "P4": ("张三", "CN", "上海市"), "P5": ("Tom Smith", "US"), "P6": ("赵六", "CN"), "P7": ("钱七", "CN", "浙江省"),
        "P8": ("孙八", "CN"), "P9": ("周九", "CN"), "P10": ("吴十", "CN"), "P11": ("郑十一", "CN")}.items()}
    regs = {
        "P1": _register(session, this, people["P1"], "trade_visitor", "online", at(date(2026, 2, 1), "10:00"),
                        answers={"interests": ["sofas", "beds"]}),
        "P2": _register(session, this, people["P2"], "vip_buyer", "invitation", at(date(2026, 1, 15), "10:00"),
                        answers={"interests": ["beds"]}),
        "P3": _register(session, this, people["P3"], "public_visitor", "online", at(d2, "10:00"),
                        answers={"interests": ["sofas"]}),
        "P4": _register(session, this, people["P4"], "trade_visitor", "walk_in", at(d3, "09:30")),
        "P5": _register(session, this, people["P5"], "trade_visitor", "import", at(date(2026, 1, 10), "10:00"),
                        answers={"interests": "lighting"}),
        "P6": _register(session, this, people["P6"], "public_visitor", "third_party", at(date(2026, 2, 10), "10:00"),
                        cancelled=at(date(2026, 2, 15), "10:00")),
        "P7": _register(session, this, people["P7"], "trade_visitor", "online", at(date(2026, 2, 20), "10:00"),
                        answers={"interests": []}),
        "P8": _register(session, this, people["P8"], "exhibitor_staff", "import", at(date(2026, 3, 1), "10:00")),
        "P9": _register(session, this, people["P9"], "press", "online", at(date(2026, 3, 1), "10:00")),
    }
    _scan(session, this, regs["P1"], "A", at(d1, "09:10"), left=at(d1, "10:00"))
    _scan(session, this, regs["P1"], "A", at(d1, "10:00"), direction="out")
    _scan(session, this, regs["P1"], "A", at(d1, "10:30"))
    _scan(session, this, regs["P1"], "B", at(d2, "09:05"))
    _scan(session, this, regs["P2"], "L", at(d1, "11:00"))
    _scan(session, this, regs["P3"], "B", at(d2, "10:20"))
    _scan(session, this, regs["P4"], "A", at(d3, "09:40"))
    _scan(session, this, regs["P7"], "L", at(d1, "09:30"), verdict="rejected")
    _scan(session, this, regs["P7"], "A", at(date(2026, 3, 9), "15:00"))
    _scan(session, this, regs["P8"], "A", at(d1, "08:30"))
    _scan(session, this, regs["P9"], "A", at(d1, "09:15"))

    before = {key: _register(session, past, people[key], "trade_visitor", "online", when) for key, when in (
        ("P1", at(date(2025, 1, 5), "10:00")), ("P5", at(date(2025, 2, 1), "10:00")),
        ("P10", at(date(2025, 3, 10), "08:00")), ("P11", at(date(2025, 2, 27), "10:00")))}
    for key, day in (("P1", date(2025, 3, 10)), ("P5", date(2025, 3, 11)), ("P10", date(2025, 3, 10))):
        _scan(session, past, before[key], "A", at(day, "10:00"))

    firms = {name: _add(session, Company(name=name, name_key=name.lower(), country=country))
             for name, country in (("华美", "CN"), ("Acme", "DE"), ("X", "CN"), ("老客", "CN"), ("Y", "CN"))}
    huamei = _exhibitor(session, this, firms["华美"], "paid", "N1", 36, ["sofas", "beds"], arrived=True)
    _exhibitor(session, this, firms["Acme"], "contracted", "N2", 18, ["lighting"])
    _exhibitor(session, this, firms["X"], "cancelled", "N1", 50, ["sofas"])
    for key, rating in (("P1", "hot"), ("P2", "warm"), ("P3", None)):
        session.add(Lead(exhibitor_id=huamei.id, registration_id=regs[key].id, rating=rating))
    _exhibitor(session, past, firms["华美"], "paid", "N1", 24, ["sofas"], arrived=True)
    laoke = _exhibitor(session, past, firms["老客"], "paid", "N1", 100, ["kitchen"], arrived=True)
    _exhibitor(session, past, firms["X"], "paid", "N2", 50, ["sofas"], arrived=True)
    _exhibitor(session, past, firms["Y"], "cancelled", "N2", 30, ["sofas"])
    for key, rating in (("P1", "hot"), ("P5", "cold")):
        session.add(Lead(exhibitor_id=laoke.id, registration_id=before[key].id, rating=rating))
    session.add(ExhibitorUser(exhibitor_id=laoke.id, email="laoke@show.example", name="刘经理"))
    session.commit()
    return {"this": ed.id, "past": past["edition"].id, "series": series.id, "laoke": laoke.id}
