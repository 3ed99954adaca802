"""Exhibitor services: booking a company, status with dates, booths (also racing), categories, allowance,
and staff registration within the allowance (also racing)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from event_phases.pre_show import exhibitors, portal
from exhibit_crm import audit
from exhibit_crm.db import run_in_session
from exhibit_crm.errors import Conflict, DomainError, InvalidInput, NotFound
from exhibit_crm.models import (
    AuditLog,
    Company,
    Exhibitor,
    ExhibitorStatusChange,
    ProductCategory,
    Registration,
)
from tests import factories

ACTOR = audit.Actor("staff", None, "organiser")
SECRET = "a test secret that is long enough"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def with_categories(session: Session, edition_id: int) -> None:
    for code, name, name_zh in (("sofas", "Sofas", "沙发"), ("beds", "Beds", "床"), ("lamps", "Lamps", "灯具")):
        session.add(ProductCategory(edition_id=edition_id, code=code, name=name, name_zh=name_zh))
    session.commit()


@pytest.fixture
def ed(session):
    edition = factories.edition(session)
    with_categories(session, edition.id)
    return edition


def book(session: Session, edition_id: int, name: str, **kwargs) -> Exhibitor:
    exhibitor = exhibitors.create_exhibitor(session, edition_id=edition_id, company_name=name, actor=ACTOR, **kwargs)
    session.commit()
    return exhibitor


def refused(code: str, fn, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        fn(**kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


# Creating.

def test_an_exhibitor_from_a_new_company_starts_as_a_prospect(session, ed):
    exhibitor = book(session, ed.id, "  宁波 家居  有限公司 ", now=T0)
    company = session.get(Company, exhibitor.company_id)
    assert company.name == "宁波 家居 有限公司" and exhibitor.status == "prospect"
    history = session.scalars(select(ExhibitorStatusChange)).all()
    assert [(h.status, h.changed_at) for h in history] == [("prospect", T0)]
    assert session.scalars(select(AuditLog.action).where(AuditLog.object_type == "exhibitor")).all() == [
        "event_phases.pre_show.exhibitor.created"]


def test_a_known_company_is_reused_by_name_or_id(session, ed):
    company = Company(name="Acme Chairs", name_key="acmechairs")
    session.add(company)
    session.commit()
    by_name = book(session, ed.id, "ACME  chairs")
    assert by_name.company_id == company.id
    other = factories.edition(session, name="Furniture Fair 2027", year=2027)
    by_id = exhibitors.create_exhibitor(session, edition_id=other.id, company_id=company.id, actor=ACTOR)
    assert by_id.company_id == company.id
    assert session.scalar(select(func.count()).select_from(Company)) == 1


def test_one_exhibitor_per_company_and_edition(session, ed):
    book(session, ed.id, "Acme Chairs")
    error = refused("exhibitor_exists", exhibitors.create_exhibitor, session=session, edition_id=ed.id,
                    company_name="acme chairs", actor=ACTOR)
    assert "Acme Chairs" in error.message and error.field == "company_name"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Exhibitor)) == 1


def test_a_company_name_is_needed(session, ed):
    refused("required", exhibitors.create_exhibitor, session=session, edition_id=ed.id, company_name="  ", actor=ACTOR)
    refused("not_found", exhibitors.create_exhibitor, session=session, edition_id=ed.id, company_id=999, actor=ACTOR)


# Status.

def test_status_changes_are_kept_with_their_dates(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs", now=T0)
    for days, status in ((3, "contracted"), (10, "paid"), (40, "cancelled")):
        exhibitors.change_status(session, edition_id=ed.id, exhibitor_id=exhibitor.id, status=status, actor=ACTOR,
                                 now=T0 + timedelta(days=days))
    session.commit()
    history = session.scalars(select(ExhibitorStatusChange).order_by(ExhibitorStatusChange.changed_at)).all()
    assert [(h.status, h.changed_at) for h in history] == [
        ("prospect", T0), ("contracted", T0 + timedelta(days=3)), ("paid", T0 + timedelta(days=10)),
        ("cancelled", T0 + timedelta(days=40))]
    view = exhibitors.exhibitor_view(session, edition_id=ed.id, exhibitor_id=exhibitor.id)
    assert [h.status for h in view.history][-1] == "cancelled" and view.next_statuses == ("prospect",)


def test_steps_may_be_skipped_but_not_taken_back(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs")
    exhibitors.change_status(session, edition_id=ed.id, exhibitor_id=exhibitor.id, status="paid", actor=ACTOR)
    refused("invalid_transition", exhibitors.change_status, session=session, edition_id=ed.id,
            exhibitor_id=exhibitor.id, status="contracted", actor=ACTOR)
    refused("invalid_status", exhibitors.change_status, session=session, edition_id=ed.id,
            exhibitor_id=exhibitor.id, status="sold", actor=ACTOR)
    exhibitors.change_status(session, edition_id=ed.id, exhibitor_id=exhibitor.id, status="paid", actor=ACTOR)
    assert session.scalar(select(func.count()).select_from(ExhibitorStatusChange)) == 2


def test_cancelling_releases_the_booth_and_a_cancelled_exhibitor_may_be_reopened(session, ed):
    first = book(session, ed.id, "Acme Chairs")
    second = book(session, ed.id, "宁波家居")
    exhibitors.assign_booth(session, edition_id=ed.id, exhibitor_id=first.id, hall="N1", number="A01", sqm=36,
                            actor=ACTOR)
    exhibitors.change_status(session, edition_id=ed.id, exhibitor_id=first.id, status="cancelled", actor=ACTOR)
    assert first.booth_hall is None and first.booth_number is None
    exhibitors.assign_booth(session, edition_id=ed.id, exhibitor_id=second.id, hall="N1", number="A01", sqm=36,
                            actor=ACTOR)
    refused("exhibitor_cancelled", exhibitors.assign_booth, session=session, edition_id=ed.id,
            exhibitor_id=first.id, hall="N2", number="B01", sqm=None, actor=ACTOR)
    exhibitors.change_status(session, edition_id=ed.id, exhibitor_id=first.id, status="prospect", actor=ACTOR)
    assert first.status == "prospect"


# Booths.

def test_a_booth_taken_in_the_edition_is_refused_naming_who_has_it(session, ed):
    first = book(session, ed.id, "Acme Chairs")
    second = book(session, ed.id, "宁波家居")
    exhibitors.assign_booth(session, edition_id=ed.id, exhibitor_id=first.id, hall="N1", number="A01", sqm=36.5,
                            actor=ACTOR)
    session.commit()
    error = refused("booth_taken", exhibitors.assign_booth, session=session, edition_id=ed.id,
                    exhibitor_id=second.id, hall=" N1 ", number="A01", sqm=18, actor=ACTOR)
    assert "N1 A01" in error.message and "Acme Chairs" in error.message and error.field == "booth_number"
    session.rollback()
    assert session.get(Exhibitor, second.id).booth_number is None
    # the same number in another hall, and the holder keeping its own booth, are fine
    exhibitors.assign_booth(session, edition_id=ed.id, exhibitor_id=second.id, hall="N2", number="A01", sqm=18,
                            actor=ACTOR)
    exhibitors.assign_booth(session, edition_id=ed.id, exhibitor_id=first.id, hall="N1", number="A01", sqm=40,
                            actor=ACTOR)
    assert first.booth_sqm == 40


def test_a_booth_in_another_edition_does_not_clash(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs")
    exhibitors.assign_booth(session, edition_id=ed.id, exhibitor_id=exhibitor.id, hall="N1", number="A01", sqm=None,
                            actor=ACTOR)
    other = factories.edition(session, name="Furniture Fair 2027", year=2027)
    later = exhibitors.create_exhibitor(session, edition_id=other.id, company_name="Acme Chairs", actor=ACTOR)
    exhibitors.assign_booth(session, edition_id=other.id, exhibitor_id=later.id, hall="N1", number="A01", sqm=None,
                            actor=ACTOR)
    session.commit()
    held = session.scalars(select(Exhibitor).where(Exhibitor.booth_number == "A01").order_by(Exhibitor.id)).all()
    assert [(ex.edition_id, ex.booth_hall) for ex in held] == [(ed.id, "N1"), (other.id, "N1")]


def test_a_booth_needs_hall_and_number(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs")
    refused("required", exhibitors.assign_booth, session=session, edition_id=ed.id, exhibitor_id=exhibitor.id,
            hall="N1", number="", sqm=None, actor=ACTOR)
    refused("invalid_sqm", exhibitors.assign_booth, session=session, edition_id=ed.id, exhibitor_id=exhibitor.id,
            hall="N1", number="A1", sqm=-3, actor=ACTOR)
    other = factories.edition(session, name="Furniture Fair 2027", year=2027)
    refused("not_found", exhibitors.assign_booth, session=session, edition_id=other.id, exhibitor_id=exhibitor.id,
            hall="N1", number="A1", sqm=None, actor=ACTOR)


def test_the_unique_constraint_decides_when_the_check_misses_a_concurrent_booking(session, ed, monkeypatch):
    first = book(session, ed.id, "Acme Chairs")
    second = book(session, ed.id, "宁波家居")
    exhibitors.assign_booth(session, edition_id=ed.id, exhibitor_id=first.id, hall="N1", number="A01", sqm=None,
                            actor=ACTOR)
    session.commit()
    real = exhibitors._booth_holder
    calls = []

    def blind_first_time(session, **kwargs):
        # the first look happens before the other booking is visible, as in a race
        calls.append(kwargs)
        return None if len(calls) == 1 else real(session, **kwargs)

    monkeypatch.setattr(exhibitors, "_booth_holder", blind_first_time)
    error = refused("booth_taken", exhibitors.assign_booth, session=session, edition_id=ed.id,
                    exhibitor_id=second.id, hall="N1", number="A01", sqm=None, actor=ACTOR)
    assert "Acme Chairs" in error.message and len(calls) == 2


def test_two_sessions_racing_for_one_booth_one_wins(engine):
    with Session(engine) as session:
        ed = factories.edition(session)
        ids = [book(session, ed.id, name).id for name in ("Acme Chairs", "宁波家居", "Oak & Co")]
        edition_id = ed.id
    barrier = threading.Barrier(len(ids))
    outcomes: dict[int, str] = {}

    def assign(exhibitor_id: int) -> None:
        barrier.wait()
        try:
            run_in_session(engine, exhibitors.assign_booth, edition_id=edition_id, exhibitor_id=exhibitor_id,
                           hall="N1", number="A01", sqm=None, actor=ACTOR)
            outcomes[exhibitor_id] = "won"
        except Conflict as exc:
            outcomes[exhibitor_id] = exc.code

    threads = [threading.Thread(target=assign, args=(exhibitor_id,)) for exhibitor_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["booth_taken", "booth_taken", "won"]
    with Session(engine) as session:
        holders = session.scalars(select(Exhibitor.id).where(Exhibitor.booth_number == "A01")).all()
    assert holders == [next(i for i, outcome in outcomes.items() if outcome == "won")]


# Categories and allowance.

def test_categories_come_from_the_edition_list(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs")
    exhibitors.set_categories(session, edition_id=ed.id, exhibitor_id=exhibitor.id, codes=["sofas", "lamps", "sofas"],
                              actor=ACTOR)
    assert exhibitor.product_categories == ["lamps", "sofas"]
    error = refused("unknown_category", exhibitors.set_categories, session=session, edition_id=ed.id,
                    exhibitor_id=exhibitor.id, codes=["sofas", "boats"], actor=ACTOR)
    assert "boats" in error.message and error.field == "product_categories"
    assert exhibitor.product_categories == ["lamps", "sofas"]


def test_a_category_of_another_edition_is_unknown(session, ed):
    other = factories.edition(session, name="Furniture Fair 2027", year=2027)
    session.add(ProductCategory(edition_id=other.id, code="rugs", name="Rugs"))
    session.commit()
    exhibitor = book(session, ed.id, "Acme Chairs")
    refused("unknown_category", exhibitors.set_categories, session=session, edition_id=ed.id,
            exhibitor_id=exhibitor.id, codes=["rugs"], actor=ACTOR)


def test_the_allowance_is_a_sane_number(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs")
    exhibitors.set_allowance(session, edition_id=ed.id, exhibitor_id=exhibitor.id, allowance=2, actor=ACTOR)
    assert exhibitor.staff_allowance == 2
    refused("invalid_allowance", exhibitors.set_allowance, session=session, edition_id=ed.id,
            exhibitor_id=exhibitor.id, allowance=-1, actor=ACTOR)


# Staff within the allowance.

def staff(n: int) -> portal.StaffIn:
    return portal.StaffIn(full_name=f"员工{n}", email=f"staff{n}@acme.example.cn", title="Sales")


def test_staff_get_exhibitor_staff_badges_up_to_the_allowance(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs")
    exhibitors.set_allowance(session, edition_id=ed.id, exhibitor_id=exhibitor.id, allowance=2, actor=ACTOR)
    first = portal.register_staff(session, exhibitor_id=exhibitor.id, staff=staff(1), actor=ACTOR)
    portal.register_staff(session, exhibitor_id=exhibitor.id, staff=staff(2), actor=ACTOR)
    session.commit()
    assert first.exhibitor_id == exhibitor.id and first.source == "third_party" and first.status == "registered"
    error = refused("allowance_reached", portal.register_staff, session=session, exhibitor_id=exhibitor.id,
                    staff=staff(3), actor=ACTOR)
    assert "2 staff badges" in error.message
    session.rollback()
    assert exhibitors.active_staff(session, exhibitor_id=exhibitor.id) == 2
    # a removed staff member frees the place; the allowance cannot drop below the active badges
    portal.remove_staff(session, exhibitor_id=exhibitor.id, registration_id=first.id, actor=ACTOR)
    portal.register_staff(session, exhibitor_id=exhibitor.id, staff=staff(3), actor=ACTOR)
    refused("allowance_below_staff", exhibitors.set_allowance, session=session, edition_id=ed.id,
            exhibitor_id=exhibitor.id, allowance=1, actor=ACTOR)


def test_a_person_registered_already_is_not_taken_over(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs")
    factories.registration(session, ed, full_name="王伟", email="wang.wei@example.cn")
    refused("already_registered", portal.register_staff, session=session, exhibitor_id=exhibitor.id,
            staff=portal.StaffIn(full_name="王伟", email="WANG.WEI@example.cn"), actor=ACTOR)
    session.rollback()
    portal.register_staff(session, exhibitor_id=exhibitor.id, staff=staff(1), actor=ACTOR)
    refused("already_staff", portal.register_staff, session=session, exhibitor_id=exhibitor.id, staff=staff(1),
            actor=ACTOR)


def test_staff_input_is_checked(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs")
    for given, code, field in ((portal.StaffIn(full_name="", email="a@b.cn"), "invalid", "full_name"),
                               (portal.StaffIn(full_name="张三"), "unreachable", "email"),
                               (portal.StaffIn(full_name="张三", phone="12345"), "invalid_phone", "phone")):
        error = refused(code, portal.register_staff, session=session, exhibitor_id=exhibitor.id, staff=given,
                        actor=ACTOR)
        assert error.field == field
        session.rollback()
    assert session.scalar(select(func.count()).select_from(Registration)) == 0


def test_two_staff_registrations_racing_for_the_last_place_one_gets_in(engine):
    with Session(engine) as session:
        ed = factories.edition(session)
        exhibitor = book(session, ed.id, "Acme Chairs")
        exhibitors.set_allowance(session, edition_id=ed.id, exhibitor_id=exhibitor.id, allowance=2, actor=ACTOR)
        portal.register_staff(session, exhibitor_id=exhibitor.id, staff=staff(0), actor=ACTOR)
        session.commit()
        exhibitor_id = exhibitor.id
    barrier = threading.Barrier(3)
    outcomes: list[str] = []

    def register(n: int) -> None:
        barrier.wait()
        try:
            run_in_session(engine, portal.register_staff, exhibitor_id=exhibitor_id, staff=staff(n), actor=ACTOR)
            outcomes.append("in")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=register, args=(n,)) for n in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["allowance_reached", "allowance_reached", "in"]
    with Session(engine) as session:
        assert exhibitors.active_staff(session, exhibitor_id=exhibitor_id) == 2


def test_staff_of_a_cancelled_exhibitor_are_refused(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs")
    exhibitors.change_status(session, edition_id=ed.id, exhibitor_id=exhibitor.id, status="cancelled", actor=ACTOR)
    refused("exhibitor_cancelled", portal.register_staff, session=session, exhibitor_id=exhibitor.id, staff=staff(1),
            actor=ACTOR)


def test_unknown_exhibitors_are_not_found(session, ed):
    with pytest.raises(NotFound):
        portal.portal_view(session, exhibitor_id=12345)
    with pytest.raises(InvalidInput):
        portal.update_profile(session, exhibitor_id=12345, profile=portal.ProfileIn(website="not a site"),
                              actor=ACTOR)
