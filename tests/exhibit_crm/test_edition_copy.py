"""A new edition from a previous one: the set-up copied part by part, the days moved, nothing personal, and copies
that would clash refused without a change."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from exhibit_crm import audit, auth, edition_copy
from exhibit_crm.errors import Conflict, InvalidInput, NotFound
from exhibit_crm.models import (
    AuditLog,
    BadgeType,
    Edition,
    EditionDay,
    EditionTarget,
    Exhibitor,
    Gate,
    GateDevice,
    ProductCategory,
    Registration,
    RegistrationQuestion,
    Zone,
    ZoneAccess,
)
from tests import factories

ACTOR = audit.Actor("staff", 1, "alice")


@pytest.fixture
def source(session: Session) -> Edition:
    """factories.edition (10-12 March 2026, a Tuesday to a Thursday; two zones with a gate each; three badge types)
    with zone access on one day and on all days, a question with options, two categories, a registration, an
    exhibitor and a device."""
    ed = factories.edition(session)
    ed.badge_layout, ed.visitor_badge_type, ed.registration_open = "4x3in", "trade_visitor", False
    zones = {z.name: z for z in session.scalars(select(Zone).where(Zone.edition_id == ed.id))}
    types = {t.code: t for t in session.scalars(select(BadgeType).where(BadgeType.edition_id == ed.id))}
    first_day = session.scalars(select(EditionDay).where(EditionDay.edition_id == ed.id)
                                .order_by(EditionDay.day)).first()
    session.add_all([
        ZoneAccess(zone_id=zones["VIP Lounge"].id, badge_type_id=types["trade_visitor"].id, day_id=first_day.id),
        ZoneAccess(zone_id=zones["Hall 1"].id, badge_type_id=types["public_visitor"].id, day_id=None),
        RegistrationQuestion(edition_id=ed.id, key="interests", label="Interests", label_zh="感兴趣的产品",
                             kind="multiple", required=True, position=2,
                             options=[{"value": "sofas", "label": "Sofas", "label_zh": "沙发"}]),
        ProductCategory(edition_id=ed.id, code="sofas", name="Sofas", name_zh="沙发"),
        ProductCategory(edition_id=ed.id, code="beds", name="Beds", name_zh="床"),
    ])
    session.commit()
    factories.registration(session, ed, full_name="王伟", email="wang.wei@example.cn", company="上海宜家家居")
    factories.exhibitor_user(session, ed)
    auth.create_device(session, gate_id=session.scalars(select(Gate.id)).first(), name="Scanner 1")
    session.commit()
    return ed


def _values(row, *skip: str) -> dict:
    return {c.name: getattr(row, c.name) for c in row.__table__.columns if c.name not in {"id", "created_at", *skip}}


def _parts(session: Session, model, edition_id: int) -> list:
    return list(session.scalars(select(model).where(model.edition_id == edition_id).order_by(model.id)))


def _zone_access(session: Session, edition_id: int) -> list[tuple]:
    rows = session.execute(select(Zone.name, BadgeType.code, EditionDay.day).select_from(ZoneAccess)
                           .join(Zone, Zone.id == ZoneAccess.zone_id)
                           .join(BadgeType, BadgeType.id == ZoneAccess.badge_type_id)
                           .outerjoin(EditionDay, EditionDay.id == ZoneAccess.day_id)
                           .where(Zone.edition_id == edition_id).order_by(Zone.name))
    return [tuple(row) for row in rows]


def test_the_copy_has_the_sources_set_up_part_by_part(session, source):
    done = edition_copy.copy_edition(session, edition_id=source.id, year=2027, actor=ACTOR)
    session.commit()
    new = session.get(Edition, done.edition.id)
    assert (new.name, new.year, new.series_id) == ("Furniture Fair 2027", 2027, source.series_id)
    assert _values(new, "name", "year") == _values(source, "name", "year")  # venue, layout, registration settings
    # 10 March 2026 is a Tuesday; 10 March 2027 a Wednesday: the nearest Tuesday is the 9th
    assert done.days == [date(2027, 3, 9), date(2027, 3, 10), date(2027, 3, 11)]
    old_days = _parts(session, EditionDay, source.id)
    assert [(d.day, d.opens_at, d.closes_at) for d in _parts(session, EditionDay, new.id)] == \
        [(day, old.opens_at, old.closes_at) for day, old in zip(done.days, old_days, strict=True)]
    for model in (Zone, BadgeType, RegistrationQuestion, ProductCategory):
        assert [_values(r, "edition_id") for r in _parts(session, model, new.id)] == \
            [_values(r, "edition_id") for r in _parts(session, model, source.id)], model.__name__
    gates = session.execute(select(Zone.name, Gate.name).join(Zone, Zone.id == Gate.zone_id)
                            .where(Zone.edition_id == new.id).order_by(Gate.id)).all()
    assert gates == [("Hall 1", "Hall 1 Gate A"), ("VIP Lounge", "VIP Lounge Gate A")]
    assert _zone_access(session, new.id) == [("Hall 1", "public_visitor", None),
                                             ("VIP Lounge", "trade_visitor", date(2027, 3, 9))]
    assert done.copied == {"days": 3, "zones": 2, "gates": 2, "badge_types": 3, "zone_access": 2, "questions": 1,
                           "categories": 2}
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "exhibit_crm.edition.copied")).one()
    assert (entry.actor_name, entry.data["source_id"]) == ("alice", source.id)


def test_nothing_personal_and_no_devices_are_copied(session, source):
    new_id = edition_copy.copy_edition(session, edition_id=source.id, year=2027).edition.id
    session.commit()
    for model in (Registration, Exhibitor):
        assert session.scalar(select(func.count()).select_from(model).where(model.edition_id == new_id)) == 0
    new_gates = select(Gate.id).join(Zone, Zone.id == Gate.zone_id).where(Zone.edition_id == new_id)
    assert session.scalar(select(func.count()).select_from(GateDevice).where(GateDevice.gate_id.in_(new_gates))) == 0
    assert session.scalar(select(func.count()).select_from(GateDevice)) == 1


def test_targets_are_not_copied(session, source):
    """Each edition's targets are set for it: last year's would stand in the new statistics as nobody's targets."""
    session.add(EditionTarget(edition_id=source.id, visitors=80000, rebooking_rate=0.65))
    session.commit()
    new_id = edition_copy.copy_edition(session, edition_id=source.id, year=2027).edition.id
    session.commit()
    assert session.scalar(select(func.count()).select_from(EditionTarget)
                          .where(EditionTarget.edition_id == new_id)) == 0


def test_a_first_day_moves_every_day_keeping_the_gaps():
    days = [date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 13)]
    assert edition_copy.moved_days(days, year=2027, start=date(2027, 4, 1)) == {
        date(2026, 3, 10): date(2027, 4, 1), date(2026, 3, 11): date(2027, 4, 2), date(2026, 3, 13): date(2027, 4, 4)}
    # Sunday 28 February 2027 → 2028: the 28th is a Monday, the nearest Sunday the 27th; Tuesday 29 February 2028
    # → 2029 has no 29th: from Wednesday the 28th the nearest Tuesday is the 27th
    assert edition_copy.moved_days([date(2027, 2, 28)], year=2028) == {date(2027, 2, 28): date(2028, 2, 27)}
    assert edition_copy.moved_days([date(2028, 2, 29)], year=2029) == {date(2028, 2, 29): date(2029, 2, 27)}
    assert edition_copy.moved_days([], year=2027) == {}


@pytest.mark.parametrize(("kwargs", "error", "code"), [
    ({"year": 2026}, Conflict, "edition_exists"),
    ({"year": 2027, "start": date(2026, 3, 12)}, InvalidInput, "overlapping_days"),
    ({"year": 1999}, InvalidInput, "invalid"),
])
def test_a_copy_that_would_clash_is_refused_and_changes_nothing(session, source, kwargs, error, code):
    editions_before = session.scalar(select(func.count()).select_from(Edition))
    with pytest.raises(error) as refused:
        edition_copy.copy_edition(session, edition_id=source.id, **kwargs)
    session.rollback()
    assert refused.value.code == code
    assert session.scalar(select(func.count()).select_from(Edition)) == editions_before
    with pytest.raises(NotFound):
        edition_copy.copy_edition(session, edition_id=source.id + 100, year=2027)
