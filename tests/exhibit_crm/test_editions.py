import pytest
from sqlmodel import select

from exhibit_crm import editions
from exhibit_crm.errors import Conflict, InvalidInput, NotFound
from exhibit_crm.models import AuditLog
from tests import factories


@pytest.fixture
def edition(session):
    series = editions.create(session, "series", data={"name": "Shanghai Furniture Fair", "name_zh": "上海家具展"})
    return editions.create(session, "edition", parent_id=series.id,
                           data={"name": "SFF 2026", "year": 2026, "timezone": "Asia/Shanghai"})


def test_an_edition_is_set_up_with_days_zones_gates_badges_and_questions(session, edition):
    editions.create(session, "day", parent_id=edition.id,
                    data={"day": "2026-12-08", "opens_at": "09:00", "closes_at": "17:00"})
    hall = editions.create(session, "zone", parent_id=edition.id, data={"name": "Hall N1", "name_zh": "N1馆"})
    vip = editions.create(session, "zone", parent_id=edition.id, data={"name": "VIP Lounge", "reentry": "strict"})
    editions.create(session, "gate", parent_id=hall.id, data={"name": "North entrance"})
    editions.create(session, "badge_type", parent_id=edition.id,
                    data={"code": "trade_visitor", "name": "Trade visitor", "color": "#0a7d32",
                          "audience": "trade_visitor"})
    editions.create(session, "question", parent_id=edition.id, data={
        "key": "interests", "label": "Interests", "kind": "multiple", "required": True,
        "options": [{"value": "sofas", "label": "Sofas", "label_zh": "沙发"}]})
    session.commit()
    overview = editions.edition_overview(session, edition_id=edition.id)
    assert [z["zone"].name for z in overview["zones"]] == ["Hall N1", "VIP Lounge"]
    assert [g.name for g in overview["zones"][0]["gates"]] == ["North entrance"]
    assert overview["zones"][1]["zone"].reentry == "strict" and vip.id
    assert overview["days"][0].opens_at.hour == 9
    assert overview["questions"][0].options[0]["label_zh"] == "沙发"


@pytest.mark.parametrize(("kind", "data", "field"), [
    ("day", {"day": "2026-12-08", "opens_at": "17:00", "closes_at": "09:00"}, "closes_at"),
    ("zone", {"name": ""}, "name"),
    ("zone", {"name": "Hall", "reentry": "sometimes"}, "reentry"),
    ("badge_type", {"code": "Trade Visitor", "name": "x"}, "code"),
    ("badge_type", {"code": "trade", "name": "x", "color": "green"}, "color"),
    ("badge_type", {"code": "trade", "name": "x", "audience": "visitor"}, "audience"),
    ("question", {"key": "size", "label": "Size", "kind": "single"}, "options"),
])
def test_bad_input_names_the_field_and_stores_nothing(session, edition, kind, data, field):
    with pytest.raises(InvalidInput) as error:
        editions.create(session, kind, parent_id=edition.id, data=data)
    assert error.value.field == field
    assert editions.list_of(session, kind, parent_id=edition.id) == []


def test_edition_time_zone_must_exist(session, edition):
    with pytest.raises(InvalidInput) as error:
        editions.update(session, "edition", id=edition.id, data={"timezone": "Asia/Atlantis"})
    assert error.value.field == "timezone"


def test_duplicates_are_refused_naming_the_field(session, edition):
    editions.create(session, "zone", parent_id=edition.id, data={"name": "Hall N1"})
    with pytest.raises(Conflict) as error:
        editions.create(session, "zone", parent_id=edition.id, data={"name": "Hall N1"})
    assert (error.value.code, error.value.field) == ("duplicate", "name")
    other = editions.create(session, "zone", parent_id=edition.id, data={"name": "Hall N2"})
    with pytest.raises(Conflict) as error:
        editions.update(session, "zone", id=other.id, data={"name": "Hall N1"})
    assert error.value.field == "name"


def test_update_changes_only_what_was_given_and_is_audited(session, edition):
    zone = editions.create(session, "zone", parent_id=edition.id, data={"name": "Hall", "margin_minutes": 15})
    editions.update(session, "zone", id=zone.id, data={"reentry": "strict"})
    session.commit()
    assert (zone.reentry, zone.margin_minutes) == ("strict", 15)
    actions = session.scalars(select(AuditLog.action).where(AuditLog.object_type == "zone")).all()
    assert actions == ["exhibit_crm.zone.created", "exhibit_crm.zone.updated"]
    with pytest.raises(InvalidInput) as error:
        editions.update(session, "zone", id=zone.id, data={"colour": "red"})
    assert error.value.code == "unknown_field"


def test_unknown_parents_and_records_are_not_found(session, edition):
    with pytest.raises(NotFound):
        editions.create(session, "zone", parent_id=edition.id + 100, data={"name": "Hall"})
    with pytest.raises(NotFound):
        editions.get(session, "gate", id=999)


def test_deleting_a_zone_removes_its_gates(session, edition):
    zone = editions.create(session, "zone", parent_id=edition.id, data={"name": "Hall"})
    editions.create(session, "gate", parent_id=zone.id, data={"name": "A"})
    session.commit()
    editions.delete(session, "zone", id=zone.id)
    session.commit()
    assert editions.list_of(session, "zone", parent_id=edition.id) == []


def test_editions_to_choose_from_come_newest_first_with_their_series(session):
    older = factories.edition(session, name="Fair 2025", year=2025)
    newer = factories.edition(session, name="Fair 2026", year=2026)
    assert [e.id for e in editions.choices(session)] == [newer.id, older.id]
    chosen = editions.choice(session, edition_id=newer.id)
    assert (chosen.name, chosen.year, chosen.series_name_zh) == ("Fair 2026", 2026, "上海国际家具展")
    assert chosen.series_label("zh-CN") == "上海国际家具展"
    assert chosen.series_label("en") == chosen.series_name != chosen.series_name_zh
    with pytest.raises(NotFound):
        editions.choice(session, edition_id=newer.id + 10)
