"""Gate rules and scan recording: every verdict and reason, presence, dwell time, re-sends, offline uploads."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from badge_scanner import gates, issued_badges
from badge_scanner.codes import Signer
from exhibit_crm import audit, auth
from exhibit_crm.models import BadgeType, EditionDay, Gate, Presence, Scan, Zone, ZoneAccess
from exhibit_crm.models.types import utcnow
from tests import factories

# 2026-03-10 is the first show day, 09:00–17:00 in Shanghai (UTC+8); zones have a 30-minute margin
OPEN = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 11:00 local
DESK = audit.Actor("staff", 1, "desk")


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate()


@pytest.fixture
def show(session):
    """An edition: Hall 1 (free) for trade and public visitors every day; the VIP Lounge (strict) for trade
    visitors on the second day only; one device at each zone's gate."""
    ed = factories.edition(session)
    zones = {z.name: z for z in session.exec(select(Zone).where(Zone.edition_id == ed.id))}
    types = {t.code: t for t in session.exec(select(BadgeType).where(BadgeType.edition_id == ed.id))}
    days = list(session.exec(select(EditionDay).where(EditionDay.edition_id == ed.id).order_by(EditionDay.day)))
    hall, vip = zones["Hall 1"], zones["VIP Lounge"]
    for code in ("trade_visitor", "public_visitor"):
        session.add(ZoneAccess(zone_id=hall.id, badge_type_id=types[code].id))
    session.add(ZoneAccess(zone_id=vip.id, badge_type_id=types["trade_visitor"].id, day_id=days[1].id))
    devices = {}
    for zone in (hall, vip):
        gate = session.exec(select(Gate).where(Gate.zone_id == zone.id)).one()
        devices[zone.name] = auth.create_device(session, gate_id=gate.id, name=f"{zone.name} scanner")[1].id
    session.commit()
    contexts = {name: gates.gate_context(session, device_id=device_id) for name, device_id in devices.items()}
    return ed, contexts, days


def scan(session, signer, gate, code, *, direction="in", at=OPEN, scan_id=None, now=None, **extra):
    request = gates.ScanRequest(gate=gate, code=code, direction=direction, scan_id=scan_id or f"s-{next(_ids)}",
                                scanned_at=at, **extra)
    [result] = gates.record_scans(session, scans=[request], verifier=signer.verifier, now=now or at)
    session.commit()
    return result


def _counter():
    n = 0
    while True:
        n += 1
        yield n


_ids = _counter()


def person(session, ed, signer, *, badge_type="trade_visitor", name="王伟", company="广州华美家居有限公司"):
    reg = factories.registration(session, ed, full_name=name, badge_type=badge_type, company=company)
    return reg, signer.sign(reg.id, reg.badge_version)


def outcome(result):
    return result["verdict"], result["reason"]


def test_an_accepted_scan_names_the_person_and_is_recorded_with_both_times(session, show, signer):
    ed, gate, _ = show
    reg, code = person(session, ed, signer)
    received = OPEN + timedelta(minutes=7)
    result = scan(session, signer, gate["Hall 1"], code, scan_id="a-1", now=received)
    assert result == {"scan_id": "a-1", "verdict": "accepted", "reason": None,
                      "person": {"name": "王伟", "company": "广州华美家居有限公司", "badge_type": "trade_visitor"}}
    row = session.exec(select(Scan)).one()
    assert (row.registration_id, row.badge_version, row.scanned_at, row.received_at) == (reg.id, 1, OPEN, received)
    presence = session.get(Presence, reg.id)
    assert (presence.zone_id, presence.entered_at, presence.entry_scan_id) == (gate["Hall 1"].zone_id, OPEN, row.id)


def test_without_a_device_time_the_server_time_is_used(session, show, signer):
    ed, gate, _ = show
    _, code = person(session, ed, signer)
    scan(session, signer, gate["Hall 1"], code, at=None, now=OPEN)
    row = session.exec(select(Scan)).one()
    assert row.scanned_at == row.received_at == OPEN


def test_the_rules_are_judged_at_the_device_time_not_the_upload_time(session, show, signer):
    ed, gate, _ = show
    _, code = person(session, ed, signer)
    # read at 11:00 while offline, uploaded at 23:00 when the hall is closed
    result = scan(session, signer, gate["Hall 1"], code, at=OPEN, now=OPEN + timedelta(hours=12), offline=True,
                  device_verdict="accepted")
    assert outcome(result) == ("accepted", None)
    row = session.exec(select(Scan)).one()
    assert (row.scanned_at, row.received_at, row.offline, row.device_verdict) == (
        OPEN, OPEN + timedelta(hours=12), True, "accepted")


@pytest.mark.parametrize("code", ["", "not a badge", "A" * 116])
def test_a_malformed_or_forged_code_is_invalid_and_names_nobody(session, show, signer, code):
    _, gate, _ = show
    result = scan(session, signer, gate["Hall 1"], code)
    assert (outcome(result), result["person"]) == (("rejected", "invalid_code"), None)
    assert session.exec(select(Scan.reason, Scan.registration_id)).one() == ("invalid_code", None)


def test_a_code_signed_with_another_key_is_invalid(session, show, signer):
    ed, gate, _ = show
    reg, _ = person(session, ed, signer)
    assert outcome(scan(session, signer, gate["Hall 1"], Signer.generate().sign(reg.id, 1))) == (
        "rejected", "invalid_code")


def test_a_genuine_code_for_no_registration_of_this_edition_is_invalid(session, show, signer):
    ed, gate, _ = show
    other = factories.edition(session, name="Furniture Fair 2027", year=2027)
    reg, code = person(session, other, signer)
    assert outcome(scan(session, signer, gate["Hall 1"], code)) == ("rejected", "invalid_code")
    assert outcome(scan(session, signer, gate["Hall 1"], signer.sign(reg.id + 1000, 1))) == (
        "rejected", "invalid_code")


def test_a_cancelled_registration_is_revoked_and_a_reprinted_badge_outdated(session, show, signer):
    ed, gate, _ = show
    cancelled, cancelled_code = person(session, ed, signer, name="李娜")
    reprinted, old_code = person(session, ed, signer, name="张伟")
    issued_badges.cancel(session, registration_id=cancelled.id, actor=DESK)
    issued_badges.reprint(session, registration_id=reprinted.id, actor=DESK, reason="lost")
    session.commit()
    result = scan(session, signer, gate["Hall 1"], cancelled_code)
    assert (outcome(result), result["person"]["name"]) == (("rejected", "revoked"), "李娜")
    assert outcome(scan(session, signer, gate["Hall 1"], old_code)) == ("rejected", "outdated_badge")
    assert outcome(scan(session, signer, gate["Hall 1"], signer.sign(reprinted.id, 2))) == ("accepted", None)


def test_a_badge_type_not_admitted_to_the_zone_is_denied(session, show, signer):
    ed, gate, days = show
    _, staff_code = person(session, ed, signer, badge_type="exhibitor_staff")
    _, trade_code = person(session, ed, signer)
    assert outcome(scan(session, signer, gate["Hall 1"], staff_code)) == ("rejected", "zone_denied")
    # the VIP Lounge admits trade visitors on the second day only
    assert outcome(scan(session, signer, gate["VIP Lounge"], trade_code)) == ("rejected", "zone_denied")
    assert outcome(scan(session, signer, gate["VIP Lounge"], trade_code, at=OPEN + timedelta(days=1))) == (
        "accepted", None)


@pytest.mark.parametrize(("local", "verdict"), [
    ("08:29", ("rejected", "closed")), ("08:31", ("accepted", None)), ("17:29", ("accepted", None)),
    ("17:31", ("rejected", "closed")), ("03:00", ("rejected", "closed"))])
def test_a_zone_is_open_during_the_days_hours_with_its_margin_in_the_editions_time_zone(session, show, signer,
                                                                                       local, verdict):
    ed, gate, _ = show
    _, code = person(session, ed, signer)
    hour, minute = map(int, local.split(":"))
    at = datetime(2026, 3, 10, hour, minute, tzinfo=UTC) - timedelta(hours=8)
    assert outcome(scan(session, signer, gate["Hall 1"], code, at=at)) == verdict


def test_no_show_day_is_closed(session, show, signer):
    ed, gate, _ = show
    _, code = person(session, ed, signer)
    assert outcome(scan(session, signer, gate["Hall 1"], code, at=OPEN - timedelta(days=1))) == ("rejected", "closed")


def test_a_strict_zone_wants_an_exit_before_the_next_entry(session, show, signer):
    ed, gate, _ = show
    reg, code = person(session, ed, signer)
    vip, day2 = gate["VIP Lounge"], OPEN + timedelta(days=1)
    assert outcome(scan(session, signer, vip, code, direction="out", at=day2)) == ("rejected", "not_inside")
    assert outcome(scan(session, signer, vip, code, at=day2)) == ("accepted", None)
    assert outcome(scan(session, signer, vip, code, at=day2 + timedelta(minutes=1))) == ("rejected", "already_inside")
    assert outcome(scan(session, signer, vip, code, direction="out", at=day2 + timedelta(minutes=30))) == (
        "accepted", None)
    assert session.get(Presence, reg.id).zone_id is None
    entry = session.exec(select(Scan).where(Scan.verdict == "accepted", Scan.direction == "in")).one()
    assert entry.left_at == day2 + timedelta(minutes=30)
    assert outcome(scan(session, signer, vip, code, at=day2 + timedelta(minutes=40))) == ("accepted", None)


def test_a_free_zone_counts_every_entry_and_ends_the_previous_visit(session, show, signer):
    ed, gate, _ = show
    reg, code = person(session, ed, signer)
    hall = gate["Hall 1"]
    assert outcome(scan(session, signer, hall, code)) == ("accepted", None)
    assert outcome(scan(session, signer, hall, code, at=OPEN + timedelta(hours=1))) == ("accepted", None)
    assert outcome(scan(session, signer, hall, code, direction="out", at=OPEN + timedelta(hours=2))) == (
        "accepted", None)
    # out of a free zone one is not in is still let through
    assert outcome(scan(session, signer, hall, code, direction="out", at=OPEN + timedelta(hours=3))) == (
        "accepted", None)
    entries = session.exec(select(Scan.scanned_at, Scan.left_at).where(Scan.direction == "in").order_by(Scan.id)).all()
    assert entries == [(OPEN, OPEN + timedelta(hours=1)), (OPEN + timedelta(hours=1), OPEN + timedelta(hours=2))]


def test_the_same_badge_read_twice_within_seconds_is_a_duplicate_not_a_second_visit(session, show, signer):
    ed, gate, _ = show
    _, code = person(session, ed, signer)
    hall, vip, day2 = gate["Hall 1"], gate["VIP Lounge"], OPEN + timedelta(days=1)
    assert outcome(scan(session, signer, hall, code)) == ("accepted", None)
    assert outcome(scan(session, signer, hall, code, at=OPEN + timedelta(seconds=3))) == ("rejected", "duplicate")
    assert outcome(scan(session, signer, hall, code, at=OPEN + timedelta(seconds=6))) == ("accepted", None)
    assert outcome(scan(session, signer, vip, code, at=day2)) == ("accepted", None)
    assert outcome(scan(session, signer, vip, code, at=day2 + timedelta(seconds=2))) == ("rejected", "duplicate")


def test_entering_a_zone_moves_the_person_out_of_the_one_they_were_in(session, show, signer):
    ed, gate, _ = show
    reg, code = person(session, ed, signer)
    day2 = OPEN + timedelta(days=1)
    scan(session, signer, gate["Hall 1"], code, at=day2)
    scan(session, signer, gate["VIP Lounge"], code, at=day2 + timedelta(minutes=45))
    assert session.get(Presence, reg.id).zone_id == gate["VIP Lounge"].zone_id
    hall_entry = session.exec(select(Scan).where(Scan.zone_id == gate["Hall 1"].zone_id)).one()
    assert hall_entry.left_at == day2 + timedelta(minutes=45)
    # back into the hall without an exit scan at the lounge: the lounge visit ends, the lounge does not refuse later
    scan(session, signer, gate["Hall 1"], code, at=day2 + timedelta(hours=1))
    assert outcome(scan(session, signer, gate["VIP Lounge"], code, at=day2 + timedelta(hours=2))) == ("accepted", None)


def test_a_resent_scan_id_gets_the_first_answer_and_records_nothing(session, show, signer):
    ed, gate, _ = show
    _, code = person(session, ed, signer)
    first = scan(session, signer, gate["Hall 1"], code, scan_id="again")
    # even if the rules would now say otherwise (it would be a duplicate), the answer stays the first one
    assert scan(session, signer, gate["Hall 1"], code, scan_id="again", at=OPEN + timedelta(seconds=1)) == first
    assert len(session.exec(select(Scan)).all()) == 1


def test_one_batch_judges_in_order_and_answers_repeats_inside_it(session, show, signer):
    ed, gate, _ = show
    vip, day2 = gate["VIP Lounge"], OPEN + timedelta(days=1)
    _, code = person(session, ed, signer)
    requests = [gates.ScanRequest(vip, code, "in", "b1", day2), gates.ScanRequest(vip, code, "in", "b2",
                                                                                  day2 + timedelta(minutes=5)),
                gates.ScanRequest(vip, code, "in", "b1", day2), gates.ScanRequest(vip, code, "out", "b3",
                                                                                  day2 + timedelta(minutes=9))]
    results = gates.record_scans(session, scans=requests, verifier=signer.verifier, now=day2 + timedelta(hours=1))
    session.commit()
    assert [outcome(r) for r in results] == [("accepted", None), ("rejected", "already_inside"), ("accepted", None),
                                             ("accepted", None)]
    assert results[0] == results[2]
    entry = session.exec(select(Scan).where(Scan.scan_id == "b1")).one()
    assert entry.left_at == day2 + timedelta(minutes=9)
    assert len(session.exec(select(Scan)).all()) == 3


def test_the_same_scan_id_from_two_devices_is_two_scans(session, show, signer):
    ed, gate, _ = show
    _, code = person(session, ed, signer)
    other = replace(gate["Hall 1"], device_id=auth.create_device(session, gate_id=gate["Hall 1"].gate_id,
                                                                 name="second")[1].id)
    session.commit()
    scan(session, signer, gate["Hall 1"], code, scan_id="x")
    assert outcome(scan(session, signer, other, code, scan_id="x", at=OPEN + timedelta(minutes=1))) == (
        "accepted", None)
    assert len(session.exec(select(Scan)).all()) == 2


def test_offline_double_entries_and_disagreements_are_listed_for_staff(session, show, signer):
    ed, gate, _ = show
    _, code = person(session, ed, signer, name="陈静")
    vip, day2 = gate["VIP Lounge"], OPEN + timedelta(days=1)
    scan(session, signer, vip, code, at=day2, offline=True, device_verdict="accepted", scan_id="o1")
    scan(session, signer, vip, code, at=day2 + timedelta(minutes=10), offline=True, device_verdict="accepted",
         scan_id="o2")
    _, forged = "", "B" * 116
    scan(session, signer, gate["Hall 1"], forged, offline=True, device_verdict="accepted", scan_id="o3",
         at=OPEN + timedelta(minutes=1))
    doubles = gates.offline_double_entries(session, edition_id=ed.id)
    assert [(d.scan_id, d.full_name, d.zone_name, d.reason) for d in doubles] == [
        ("o2", "陈静", "VIP Lounge", "already_inside")]
    disagreements = gates.verdict_disagreements(session, edition_id=ed.id)
    assert [(d.scan_id, d.device_verdict, d.verdict, d.reason) for d in disagreements] == [
        ("o2", "accepted", "rejected", "already_inside"), ("o3", "accepted", "rejected", "invalid_code")]


def test_the_device_is_seen_when_it_scans(session, show, signer):
    ed, gate, _ = show
    _, code = person(session, ed, signer)
    scan(session, signer, gate["Hall 1"], code, now=OPEN + timedelta(hours=1))
    from exhibit_crm.models import GateDevice

    assert session.get(GateDevice, gate["Hall 1"].device_id).last_seen_at == OPEN + timedelta(hours=1)


def test_the_snapshot_has_the_rules_and_the_badge_changes_after_the_cursor(session, show, signer):
    ed, gate, days = show
    first, _ = person(session, ed, signer)
    second, _ = person(session, ed, signer, name="李娜")
    issued_badges.reprint(session, registration_id=first.id, actor=DESK, reason="lost")
    issued_badges.reprint(session, registration_id=first.id, actor=DESK, reason="lost again")
    session.commit()
    snap = gates.snapshot(session, gate=gate["VIP Lounge"], verifier=signer.verifier, now=OPEN)
    assert snap["zone"] == {"id": gate["VIP Lounge"].zone_id, "name": "VIP Lounge", "name_zh": "", "reentry": "strict",
                            "margin_minutes": 30}
    assert snap["days"][0] == {"day": "2026-03-10", "opens_at": "09:00", "closes_at": "17:00"}
    assert snap["access"] == [{"badge_type": "trade_visitor", "day": "2026-03-11"}]
    assert snap["revocations"] == [{"registration_id": first.id, "valid_version": 3, "status": "registered"}]
    assert snap["edition"] == {"id": ed.id, "name": ed.name, "timezone": "Asia/Shanghai"}
    issued_badges.cancel(session, registration_id=second.id, actor=DESK)
    session.commit()
    later = gates.snapshot(session, gate=gate["VIP Lounge"], verifier=signer.verifier, cursor=snap["cursor"], now=OPEN)
    assert later["revocations"] == [{"registration_id": second.id, "valid_version": 2, "status": "cancelled"}]
    assert later["cursor"] > snap["cursor"]
    assert gates.snapshot(session, gate=gate["VIP Lounge"], verifier=signer.verifier, cursor=later["cursor"],
                          now=utcnow())["revocations"] == []


def test_a_big_batch_has_its_signatures_checked_on_every_core_with_the_same_answers(signer):
    verifier = Signer(signer._key).verifier  # a fresh verifier: nothing remembered yet
    good = [signer.sign(n, 1) for n in range(1, 41)]
    other = Signer.generate().sign(5, 1)
    codes = [*good, other, "Z" * 116, "not a code", good[0]]
    threads, sign = set(), verifier._signatures

    def recording(headers):
        threads.add(threading.current_thread().name.split("_")[0])
        return sign(headers)

    verifier._signatures = recording
    found = verifier.check_many(codes, spread_from=1)
    assert found == [*(gates.BadgeRef(n, 1) for n in range(1, 41)), None, None, None, gates.BadgeRef(1, 1)]
    assert all(verifier.knows(code) for code in good)
    assert threads == ({"MainThread", "badge-check"} if (os.cpu_count() or 1) > 1 else {"MainThread"})
