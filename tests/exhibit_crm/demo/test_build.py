import json
import re
from collections import Counter
from datetime import datetime, timedelta

import phonenumbers
import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from exhibit_crm import auth, commands, migrate
from exhibit_crm.cli import main
from exhibit_crm.db import make_engine, session_scope
from exhibit_crm.demo import build_demo
from exhibit_crm.demo.data import NOW, REGISTRANT_BADGES, TZ
from exhibit_crm.errors import DomainError
from exhibit_crm.models import (
    BadgeChange,
    BadgeType,
    Company,
    Contact,
    ContactSource,
    Edition,
    EditionDay,
    EditionTarget,
    EditionTargetBase,
    Exhibitor,
    Gate,
    GateDevice,
    Lead,
    LeadScan,
    Registration,
    RegistrationInterest,
    Scan,
    Series,
    Zone,
    ZoneAccess,
)
from tests.conftest import BACKENDS, new_database_url

VISITORS, EXHIBITORS = 300, 20


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request, tmp_path_factory):
    """A small demo built once per backend; the tests only read it (logins add login attempts)."""
    engine = make_engine(new_database_url(request.param, request, tmp_path_factory.mktemp("demo")))
    with session_scope(engine) as session:
        result = build_demo(session, visitors=VISITORS, exhibitors=EXHIBITORS)
    yield engine, result
    engine.dispose()


def _editions(session):
    past, current = session.scalars(select(Edition).order_by(Edition.year)).all()
    return past, current


def _visitor_registrations(session, edition):
    return session.execute(
        select(Registration, BadgeType.code).join(BadgeType, BadgeType.id == Registration.badge_type_id)
        .where(Registration.edition_id == edition.id, BadgeType.code.in_(REGISTRANT_BADGES))).all()


def test_counts_are_as_asked(demo):
    engine, result = demo
    with Session(engine) as session:
        past, current = _editions(session)
        assert session.scalar(select(func.count()).select_from(Series)) == 1
        assert len(_visitor_registrations(session, past)) == VISITORS
        assert len(_visitor_registrations(session, current)) == round(VISITORS * 0.24)
        per_edition = Counter(session.scalars(select(Exhibitor.edition_id)))
        assert per_edition == {past.id: EXHIBITORS, current.id: round(EXHIBITORS * 0.75)}
        badges = Counter(code for _, code in _visitor_registrations(session, past))
        assert badges["trade_visitor"] > badges["public_visitor"] > 0 and badges["vip_buyer"] > 0
        sources = Counter(session.scalars(select(Registration.source).where(Registration.edition_id == past.id)))
        assert set(sources) == {"online", "import", "walk_in", "invitation", "third_party"}
    assert result.counts["visitors_2025"] == VISITORS


def test_both_editions_have_plausible_targets_and_2026_aims_higher(demo):
    engine, _result = demo
    with Session(engine) as session:
        past, current = _editions(session)
        rows = {row.edition_id: row for row in session.scalars(select(EditionTarget))}
    aims = {edition.year: EditionTargetBase.model_validate(rows[edition.id].model_dump())
            for edition in (past, current)}
    for aim in aims.values():
        assert None not in aim.model_dump().values()
        assert 0 < aim.trade_visitors < aim.visitors <= VISITORS and 0 < aim.rebooking_rate < 1
        assert aim.exhibitors * 20 < aim.net_sqm < aim.exhibitors * 60  # m² a booth, on average
    assert all(getattr(aims[2026], key) > getattr(aims[2025], key) for key in aims[2026].model_dump())


def test_contacts_have_normalised_unique_emails_valid_phones_and_chinese_names(demo):
    engine, _ = demo
    with Session(engine) as session:
        contacts = session.scalars(select(Contact)).all()
        sources = set(session.scalars(select(ContactSource.contact_id)))
    emails = [contact.email for contact in contacts if contact.email is not None]
    assert all(email == email.strip().lower() and "@" in email for email in emails)
    assert len(emails) == len(set(emails))
    for contact in contacts:
        assert contact.email or contact.phone
        if contact.phone:
            number = phonenumbers.parse(contact.phone)
            assert phonenumbers.is_valid_number(number), contact.phone
            assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == contact.phone
        if contact.consent_marketing:
            assert contact.consent_marketing_at is not None and contact.consent_marketing_source
        if contact.consent_share:
            assert contact.consent_share_at is not None and contact.consent_share_source
    chinese = [c.full_name for c in contacts if all("\u3400" <= char <= "\u9fff" or ord(char) > 0xFFFF
                                                    for char in c.full_name)]
    assert len(chinese) > len(contacts) / 2
    assert any(contact.full_name.isascii() for contact in contacts)
    # characters outside GB2312 (even outside the Basic Multilingual Plane) are part of real names
    assert any(char in "䶮𡈽喆堃赟犇龑燚頔昇彧淼" for name in chinese for char in name)
    assert any(contact.id in sources for contact in contacts)


def test_scans_fall_inside_the_show_days_and_obey_the_zone_rules(demo):
    engine, _ = demo
    with Session(engine) as session:
        past, current = _editions(session)
        days = {day.day: day for day in session.scalars(select(EditionDay).where(EditionDay.edition_id == past.id))}
        zones = {zone.id: zone for zone in session.scalars(select(Zone))}
        access = {(row.zone_id, row.badge_type_id, row.day_id) for row in session.scalars(select(ZoneAccess))}
        registrations = {reg.id: reg for reg in session.scalars(select(Registration))}
        devices = {device.id: device.gate_id for device in session.scalars(select(GateDevice))}
        scans = session.scalars(select(Scan)).all()
        gate_zone = {gate.id: gate.zone_id for gate in session.scalars(select(Gate))}
    assert len(scans) > VISITORS
    assert {zones[scan.zone_id].edition_id for scan in scans} == {past.id}  # nothing scanned yet for 2026
    reasons = Counter(scan.reason for scan in scans if scan.verdict == "rejected")
    assert {"invalid_code", "zone_denied"} <= set(reasons)
    for scan in scans:
        local = scan.scanned_at.astimezone(TZ)
        day, zone = days[local.date()], zones[scan.zone_id]
        assert devices[scan.device_id] == scan.gate_id and gate_zone[scan.gate_id] == scan.zone_id
        margin = timedelta(minutes=zone.margin_minutes)
        opens = datetime.combine(day.day, day.opens_at, tzinfo=TZ) - margin
        closes = datetime.combine(day.day, day.closes_at, tzinfo=TZ) + margin
        if scan.reason == "closed":
            assert not opens <= local <= closes
        if scan.verdict != "accepted":
            continue
        assert opens <= local <= closes, (local, zone.name)
        registration = registrations[scan.registration_id]
        assert registration.status == "registered" and scan.badge_version == registration.badge_version
        assert {(zone.id, registration.badge_type_id, None), (zone.id, registration.badge_type_id, day.id)} & access
    arrivals = Counter(scan.scanned_at.astimezone(TZ).hour for scan in scans
                       if scan.direction == "in" and scan.verdict == "accepted")
    assert arrivals[9] + arrivals[10] > arrivals[15] + arrivals[16]  # the morning peak


def test_the_printed_logins_work(demo):
    engine, result = demo
    with Session(engine) as session:
        assert {login["role"] for login in result.staff_logins} == {"admin", "marketing", "desk"}
        for login in result.staff_logins:
            who = auth.login(session, kind="staff", account=login["username"], password=login["password"])
            assert who.role == login["role"]
        assert len(result.exhibitor_logins) == 5
        past, current = _editions(session)
        for login in result.exhibitor_logins:
            who = auth.login(session, kind="exhibitor_user", account=login["email"], password=login["password"])
            assert who.exhibitor_id == login["exhibitor_id"]
            exhibitor = session.get(Exhibitor, who.exhibitor_id)
            assert session.get(Company, exhibitor.company_id).name == login["company"]
        years = Counter(session.get(Edition, session.get(Exhibitor, login["exhibitor_id"]).edition_id).year
                        for login in result.exhibitor_logins)
        assert years == {2025: 3, 2026: 2}
        session.rollback()


def test_the_current_edition_remembers_returning_contacts_and_rebooked_exhibitors(demo):
    engine, result = demo
    with Session(engine) as session:
        past, current = _editions(session)
        came = {reg.contact_id for reg, _ in _visitor_registrations(session, past)}
        now = [reg for reg, _ in _visitor_registrations(session, current)]
        returning = [reg for reg in now if reg.contact_id in came]
        assert 0.4 * len(now) < len(returning) < 0.7 * len(now)
        assert all(reg.registered_at <= NOW for reg in now)
        assert result.counts["returning_2026"] == len(returning)
        booked = {ex.edition_id: set() for ex in session.scalars(select(Exhibitor))}
        for ex in session.scalars(select(Exhibitor)):
            booked[ex.edition_id].add(ex.company_id)
        assert len(booked[current.id] & booked[past.id]) >= len(booked[current.id]) / 2
        statuses = Counter(session.scalars(select(Exhibitor.status).where(Exhibitor.edition_id == current.id)))
        assert statuses["paid"] > 0 and statuses["contracted"] + statuses["prospect"] > 0


def test_leads_come_from_visitors_who_were_in_the_exhibitors_hall(demo):
    engine, _ = demo
    with Session(engine) as session:
        past, _current = _editions(session)
        zone_of_hall = {zone.name.removeprefix("Hall "): zone.id
                        for zone in session.scalars(select(Zone).where(Zone.edition_id == past.id))}
        entries = {(scan.registration_id, scan.zone_id, scan.scanned_at.astimezone(TZ).date())
                   for scan in session.scalars(select(Scan).where(Scan.verdict == "accepted", Scan.direction == "in"))}
        leads = session.execute(select(Lead, Exhibitor).join(Exhibitor, Exhibitor.id == Lead.exhibitor_id)).all()
        scanned = set(session.scalars(select(LeadScan.lead_id)))
    assert len(leads) > EXHIBITORS
    per_exhibitor = Counter(exhibitor.id for _, exhibitor in leads)
    assert max(per_exhibitor.values()) <= 150
    for lead, exhibitor in leads:
        assert exhibitor.edition_id == past.id and lead.rating in ("hot", "warm", "cold", None)
        hall = zone_of_hall[exhibitor.booth_hall]
        assert (lead.registration_id, hall, lead.created_at.astimezone(TZ).date()) in entries
        assert lead.id in scanned and lead.updated_at >= lead.created_at


def test_the_same_seed_builds_the_same_data(demo, tmp_path):
    engine, result = demo
    other = make_engine(f"sqlite:///{tmp_path / 'again.db'}")
    migrate.upgrade(other)
    with session_scope(other) as session:
        again = build_demo(session, visitors=VISITORS, exhibitors=EXHIBITORS)
    assert again.counts == result.counts

    def people(engine):
        with Session(engine) as session:
            return session.execute(select(Contact.full_name, Contact.email, Contact.phone).order_by(Contact.id)).all()

    assert people(other) == people(engine)
    other.dispose()


def test_a_database_that_holds_data_is_refused(demo):
    engine, _ = demo
    with Session(engine) as session, pytest.raises(DomainError) as refused:
        build_demo(session, visitors=10, exhibitors=2)
    assert refused.value.code == "not_empty"
    assert "DATABASE_URL" in refused.value.message


@pytest.fixture
def cli_database(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    commands.settings.cache_clear()
    yield url
    commands.settings.cache_clear()


def test_cli_builds_prints_ids_and_logins_as_json_and_refuses_a_second_run(cli_database, capsys):
    assert main(["demo", "--no-serve", "--json", "--visitors", "200", "--exhibitors", "10", "--port", "8123"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["url"] == "http://127.0.0.1:8123/"
    assert [edition["year"] for edition in report["editions"]] == [2025, 2026]
    engine = make_engine(cli_database)
    with Session(engine) as session:
        assert session.get(Series, report["series_id"]) is not None
        for edition in report["editions"]:
            assert session.get(Edition, edition["id"]).year == edition["year"]
            assert {zone["name"] for zone in edition["zones"]} == {
                "Hall N1", "Hall N2", "Hall E1", "Conference Room", "VIP Lounge"}
            for zone in edition["zones"]:
                assert session.get(Zone, zone["id"]).edition_id == edition["id"]
            for gate in edition["gates"]:
                assert session.get(Gate, gate["id"]).zone_id == gate["zone_id"]
            ids = set(session.scalars(select(Exhibitor.id).where(Exhibitor.edition_id == edition["id"])))
            assert set(edition["exhibitor_ids"]) == ids and ids
        login = report["logins"]["staff"][0]
        assert auth.login(session, kind="staff", account=login["username"], password=login["password"]) is not None
        user = report["logins"]["exhibitor_users"][0]
        assert set(user) >= {"email", "password", "exhibitor_id", "company"}
        session.rollback()
    engine.dispose()

    assert main(["demo", "--no-serve", "--json", "--visitors", "200"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"] == "not_empty"
    assert "DATABASE_URL" in captured.err and "empty database" in captured.err


def test_cli_serves_the_demo_after_printing_the_logins(cli_database, capsys, monkeypatch):
    served = []
    monkeypatch.setattr("exhibit_crm.commands.demo.serve", served.append)
    assert main(["demo", "--visitors", "100", "--exhibitors", "5", "--port", "8124"]) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8124/login" in out and "demo-admin-2026" in out and "/exhibitor/login" in out
    assert re.search(r"http://127\.0\.0\.1:8124/register/\d+", out)
    assert len(re.findall(r"http://127\.0\.0\.1:8124/gate#token=ecd_\S+", out)) == 5  # a scanner in each zone
    assert [(args.host, args.port, args.no_upgrade) for args in served] == [("127.0.0.1", 8124, True)]


def test_the_demo_scanners_tokens_open_gates_of_the_current_edition(demo):
    engine, result = demo
    current = max(result.editions, key=lambda edition: edition.year)
    assert len(result.gate_devices) == len(current.zones)
    with Session(engine) as session:
        for device in result.gate_devices:
            who = auth.principal_for_token(session, device["token"])
            assert who.kind == "device" and who.gate_id in {gate["id"] for gate in current.gates}
    assert result.as_dict()["gate_devices"] == result.gate_devices


def test_each_badge_type_is_for_its_audience_and_a_vip_buyer_is_a_trade_visitor(demo):
    engine, _result = demo
    with Session(engine) as session:
        for edition in _editions(session):
            audiences = dict(session.execute(select(BadgeType.code, BadgeType.audience)
                                             .where(BadgeType.edition_id == edition.id)).all())
            assert audiences == {
                "trade_visitor": "trade_visitor", "public_visitor": "public_visitor", "vip_buyer": "trade_visitor",
                "exhibitor_staff": "exhibitor_staff", "press": "press", "organiser": "organiser",
                "contractor": "organiser"}


def test_staff_badges_interests_and_badge_changes_are_linked(demo):
    engine, _result = demo
    with Session(engine) as session:
        staff = session.execute(
            select(Registration, Exhibitor).join(BadgeType, BadgeType.id == Registration.badge_type_id)
            .outerjoin(Exhibitor, Exhibitor.id == Registration.exhibitor_id)
            .where(BadgeType.code == "exhibitor_staff")).all()
        assert staff and all(ex is not None and ex.edition_id == reg.edition_id for reg, ex in staff)
        assert all(reg.exhibitor_id is None for reg, _code in _visitor_registrations(session, _editions(session)[1]))
        interested = session.execute(select(RegistrationInterest.registration_id, RegistrationInterest.category)).all()
        by_registration: dict[int, set[str]] = {}
        for registration_id, category in interested:
            by_registration.setdefault(registration_id, set()).add(category)
        for registration_id, categories in by_registration.items():
            assert set(session.get(Registration, registration_id).answers["interests"]) == categories
        assert by_registration
        changed = session.scalars(select(Registration).where(Registration.badge_version > 1)).all()
        assert changed
        for reg in changed:
            versions = session.execute(select(BadgeChange.badge_version, BadgeChange.status)
                                       .where(BadgeChange.registration_id == reg.id)
                                       .order_by(BadgeChange.id)).all()
            assert [version for version, _status in versions] == list(range(2, reg.badge_version + 1))
            assert versions[-1][1] == reg.status
