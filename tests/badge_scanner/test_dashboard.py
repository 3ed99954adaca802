"""The live gate dashboard's figures, from scans written as rows at fixed times: who is inside, entries per gate per
quarter hour of the venue's local day, unique visitors (badges for visitors only), rejections, devices, and what
offline devices got wrong."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from badge_scanner import dashboard
from exhibit_crm import auth
from exhibit_crm.errors import NotFound
from exhibit_crm.models import BadgeType, Gate, GateDevice, Presence, Scan, Zone
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)  # 02:00 UTC
_scan_ids = itertools.count(1)


def local(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SHANGHAI)


@pytest.fixture
def show(session):
    """The edition with its two gates (Hall 1: free re-entry; VIP Lounge: strict), a device at each, four people."""
    edition = factories.edition(session)
    gates = {zone.name: (zone, gate) for zone, gate in session.execute(
        select(Zone, Gate).join(Gate, Gate.zone_id == Zone.id).where(Zone.edition_id == edition.id)).all()}
    _token, hall_device = auth.create_device(session, gate_id=gates["Hall 1"][1].id, name="Hall scanner 1")
    _token, vip_device = auth.create_device(session, gate_id=gates["VIP Lounge"][1].id, name="VIP handheld")
    hall_device.last_seen_at = NOW - timedelta(seconds=20)
    session.add(hall_device)
    session.commit()
    people = {name: factories.registration(session, edition, full_name=name)
              for name in ("王伟", "李娜", "张敏", "陈静")}
    return {"edition": edition, "hall": gates["Hall 1"], "vip": gates["VIP Lounge"], "people": people,
            "devices": {"hall": hall_device, "vip": vip_device}}


def scan(session, where, device, registration, at, *, direction="in", verdict="accepted", reason=None, **extra):
    zone, gate = where
    session.add(Scan(scan_id=f"s{next(_scan_ids)}", device_id=device.id, gate_id=gate.id, zone_id=zone.id,
                     registration_id=registration.id if registration else None,
                     badge_version=1 if registration else None, direction=direction, scanned_at=at,
                     received_at=at, verdict=verdict, reason=reason, **extra))


@pytest.fixture
def scans(session, show):
    """A morning at the gates, with a scan just after local midnight (still the previous day in UTC)."""
    hall, vip, people, devices = show["hall"], show["vip"], show["people"], show["devices"]
    wang, li, zhang, chen = (people[name] for name in ("王伟", "李娜", "张敏", "陈静"))
    at_hall = lambda *args, **kw: scan(session, hall, devices["hall"], *args, **kw)  # noqa: E731
    at_vip = lambda *args, **kw: scan(session, vip, devices["vip"], *args, **kw)  # noqa: E731
    at_hall(chen, local(date(2026, 3, 9), 16, 0))                         # yesterday only
    at_hall(None, local(date(2026, 3, 9), 16, 5), verdict="rejected", reason="invalid_code")
    at_hall(zhang, local(DAY, 0, 10))                                      # today locally, 2026-03-09 16:10 UTC
    at_hall(wang, local(DAY, 9, 5))
    at_hall(li, local(DAY, 9, 10))
    at_hall(wang, local(DAY, 9, 20))                                       # free re-entry: counted again
    at_hall(wang, local(DAY, 9, 25), direction="out")                      # exits are not entries
    at_vip(li, local(DAY, 9, 40))
    at_hall(None, local(DAY, 9, 41), verdict="rejected", reason="invalid_code")
    at_hall(None, local(DAY, 9, 42), verdict="rejected", reason="invalid_code")
    at_hall(zhang, local(DAY, 9, 43), verdict="rejected", reason="revoked")
    # offline: the VIP handheld let 李娜 in again; the server found her already inside
    at_vip(li, local(DAY, 9, 50), verdict="rejected", reason="already_inside", offline=True,
           device_verdict="accepted")
    at_vip(li, local(DAY, 9, 55), verdict="rejected", reason="already_inside", offline=True,
           device_verdict="accepted")
    # offline and agreeing: not a disagreement
    at_vip(wang, local(DAY, 9, 51), verdict="rejected", reason="zone_denied", offline=True,
           device_verdict="rejected", device_reason="zone_denied")
    # offline, refused by the device, accepted by the server (an exit): a disagreement, not a double entry
    at_vip(li, local(DAY, 9, 58), direction="out", offline=True, device_verdict="rejected", device_reason="not_inside")
    edition_id = show["edition"].id
    session.add(Presence(registration_id=wang.id, edition_id=edition_id, zone_id=hall[0].id, entered_at=NOW))
    session.add(Presence(registration_id=li.id, edition_id=edition_id, zone_id=vip[0].id, entered_at=NOW))
    session.add(Presence(registration_id=zhang.id, edition_id=edition_id, zone_id=None, entered_at=None))
    session.commit()
    return show


def test_people_inside_each_zone_now(session, scans):
    zones = dashboard.zones_now(session, edition_id=scans["edition"].id)
    assert [(zone.name, zone.reentry, zone.inside, zone.visitors) for zone in zones] == [
        ("Hall 1", "free", 1, 1), ("VIP Lounge", "strict", 1, 1)]


@pytest.fixture
def not_visitors(session, scans):
    """The morning at the gates plus, at 09:30 into Hall 1 and still inside, a VIP buyer (a trade visitor) and three
    people who are not visitors: exhibitor staff, press and the organiser's contractor."""
    edition, hall = scans["edition"], scans["hall"]
    for code, audience in (("vip_buyer", "trade_visitor"), ("press", "press"), ("contractor", "organiser")):
        session.add(BadgeType(edition_id=edition.id, code=code, name=code, audience=audience))
    session.commit()
    for name, code in (("周杰", "vip_buyer"), ("刘洋", "exhibitor_staff"), ("赵磊", "press"), ("孙丽", "contractor")):
        person = factories.registration(session, edition, full_name=name, badge_type=code)
        scan(session, hall, scans["devices"]["hall"], person, local(DAY, 9, 30))
        session.add(Presence(registration_id=person.id, edition_id=edition.id, zone_id=hall[0].id, entered_at=NOW))
    session.commit()
    return scans


def test_exhibitor_staff_press_and_organiser_badges_are_not_counted_as_visitors(session, not_visitors):
    edition_id = not_visitors["edition"].id
    assert dashboard.unique_visitors(session, edition_id=edition_id, day=DAY) == 4  # 王伟, 李娜, 张敏, 周杰
    assert dashboard.unique_visitors(session, edition_id=edition_id) == 5
    figures = dashboard.dashboard(session, edition_id=edition_id, now=NOW)
    assert figures["visitors"] == {"today": 4, "total": 5}
    # inside Hall 1: 王伟 and 周杰 are visitors; every badge counts among the people inside and the entries
    assert [(zone["name"], zone["visitors"], zone["inside"]) for zone in figures["zones"]] == [
        ("Hall 1", 2, 5), ("VIP Lounge", 1, 1)]
    hall = next(gate for gate in figures["entries"]["gates"] if gate["zone"] == "Hall 1")
    assert dict(zip(figures["entries"]["slots"], hall["counts"], strict=True))["09:30"] == 4


def test_entries_per_gate_per_quarter_hour_of_the_local_day(session, scans):
    chart = dashboard.entries_per_gate(session, edition_id=scans["edition"].id, day=DAY)
    # from the quarter hour of the scan after midnight to the last quarter hour before closing at 17:00
    assert chart.slots[0] == "00:00" and chart.slots[-1] == "16:45" and len(chart.slots) == 68
    hall_gate, vip_gate = scans["hall"][1].id, scans["vip"][1].id
    hall = dict(zip(chart.slots, chart.counts[hall_gate], strict=True))
    vip = dict(zip(chart.slots, chart.counts[vip_gate], strict=True))
    assert {slot: n for slot, n in hall.items() if n} == {"00:00": 1, "09:00": 2, "09:15": 1}
    assert {slot: n for slot, n in vip.items() if n} == {"09:30": 1}
    assert [gate["name"] for gate in chart.gates] == ["Hall 1 Gate A", "VIP Lounge Gate A"]


def test_a_day_without_scans_shows_its_opening_hours_and_a_day_off_the_show_shows_nothing(session, scans):
    opening = dashboard.entries_per_gate(session, edition_id=scans["edition"].id, day=date(2026, 3, 11))
    assert (opening.slots[0], opening.slots[-1]) == ("09:00", "16:45")
    assert all(not any(counts) for counts in opening.counts.values())
    assert dashboard.entries_per_gate(session, edition_id=scans["edition"].id, day=date(2026, 4, 1)).slots == []


def test_unique_visitors_today_and_so_far(session, scans):
    edition_id = scans["edition"].id
    assert dashboard.unique_visitors(session, edition_id=edition_id, day=DAY) == 3      # 王伟, 李娜, 张敏
    assert dashboard.unique_visitors(session, edition_id=edition_id, day=date(2026, 3, 9)) == 1
    assert dashboard.unique_visitors(session, edition_id=edition_id) == 4


def test_rejected_scans_of_the_day_by_reason(session, scans):
    assert dashboard.rejections(session, edition_id=scans["edition"].id, day=DAY) == {
        "already_inside": 2, "invalid_code": 2, "revoked": 1, "zone_denied": 1}


def test_devices_most_recently_seen_first(session, scans):
    seen = dashboard.devices_seen(session, edition_id=scans["edition"].id)
    assert [(device.name, device.gate, device.last_seen_at) for device in seen] == [
        ("Hall scanner 1", "Hall 1 Gate A", "2026-03-10T01:59:40+00:00"), ("VIP handheld", "VIP Lounge Gate A", None)]


def test_offline_disagreements_and_badges_let_in_twice(session, scans):
    edition_id = scans["edition"].id
    disagreements = dashboard.offline_disagreements(session, edition_id=edition_id)
    assert [(scan.person, scan.device_verdict, scan.verdict, scan.reason) for scan in disagreements] == [
        ("李娜", "rejected", "accepted", None),
        ("李娜", "accepted", "rejected", "already_inside"),
        ("李娜", "accepted", "rejected", "already_inside")]
    assert disagreements[0].device == "VIP handheld" and disagreements[0].gate == "VIP Lounge Gate A"
    doubles = dashboard.double_entries(session, edition_id=edition_id)
    assert [(entry.person, entry.zone, entry.times, entry.last_at) for entry in doubles] == [
        ("李娜", "VIP Lounge", 2, local(DAY, 9, 55).astimezone(UTC).isoformat())]


def test_the_whole_dashboard_is_plain_json_for_today(session, scans):
    figures = dashboard.dashboard(session, edition_id=scans["edition"].id, now=NOW)
    assert figures["today"] == "2026-03-10" and figures["visitors"] == {"today": 3, "total": 4}
    assert figures["entries"]["day"] == "2026-03-10"
    assert sum(sum(gate["counts"]) for gate in figures["entries"]["gates"]) == 5
    assert [zone["inside"] for zone in figures["zones"]] == [1, 1]
    # just after local midnight the venue's day has changed although UTC's has not
    late = dashboard.dashboard(session, edition_id=scans["edition"].id, now=local(date(2026, 3, 11), 0, 5))
    assert late["today"] == "2026-03-11" and late["visitors"]["today"] == 0 and late["rejected"] == {}
    other = dashboard.dashboard(session, edition_id=scans["edition"].id, now=NOW, day=date(2026, 3, 9))
    assert sum(sum(gate["counts"]) for gate in other["entries"]["gates"]) == 1


def test_another_editions_scans_do_not_count(session, scans):
    other = factories.edition(session, name="Furniture Fair 2027", year=2027)
    assert dashboard.unique_visitors(session, edition_id=other.id) == 0
    assert [zone.inside for zone in dashboard.zones_now(session, edition_id=other.id)] == [0, 0]
    assert dashboard.offline_disagreements(session, edition_id=other.id) == []
    assert session.scalars(select(GateDevice)).all() and dashboard.devices_seen(session, edition_id=other.id) == []


def test_an_unknown_edition_is_not_found(session):
    with pytest.raises(NotFound):
        dashboard.dashboard(session, edition_id=999_999, now=NOW)
