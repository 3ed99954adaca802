"""Targets per edition: set through the model's validation with an audit entry, read back with every key, refused
naming the field, kept to their ranges by the database too, gone with their edition, and measured against actual
figures."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from event_phases.post_show.targets import gaps, set_targets, target_view, targets
from exhibit_crm import audit, editions
from exhibit_crm.errors import InvalidInput, NotFound
from exhibit_crm.models import TARGET_KEYS, AuditLog, EditionTarget
from tests import factories

ACTOR = audit.Actor("staff", 1, "alice")
NONE_SET = dict.fromkeys(TARGET_KEYS)
GOALS = {"visitors": 80000, "trade_visitors": 60000, "exhibitors": 1200, "net_sqm": 150000.5, "rebooking_rate": 0.65}


@pytest.fixture
def edition(session):
    return factories.edition(session)


def _audit(db) -> list[AuditLog]:
    return db(lambda s: s.scalars(select(AuditLog).where(AuditLog.action.like("event_phases.post_show.%"))
                                  .order_by(AuditLog.id)).all())


def test_an_edition_without_targets_has_every_key_unset(session, edition):
    assert targets(session, edition_id=edition.id) == NONE_SET
    assert target_view(session, edition_id=edition.id)["updated_at"] is None


def test_set_targets_are_read_back_and_audited(session, db, edition):
    assert set_targets(session, edition_id=edition.id, data=GOALS, actor=ACTOR) == GOALS
    session.commit()
    assert db(lambda s: targets(s, edition_id=edition.id)) == GOALS
    (entry,) = _audit(db)
    assert (entry.action, entry.actor_name, entry.object_type) == ("event_phases.post_show.targets.set", "alice",
                                                                   "edition_target")
    assert entry.data["edition_id"] == edition.id
    assert entry.data["changes"]["rebooking_rate"] == {"from": None, "to": 0.65}


def test_setting_some_targets_keeps_the_others_and_none_clears_one(session, db, edition):
    set_targets(session, edition_id=edition.id, data=GOALS, actor=ACTOR)
    after = set_targets(session, edition_id=edition.id, data={"visitors": "90000", "net_sqm": None}, actor=ACTOR)
    session.commit()
    assert after == {**GOALS, "visitors": 90000, "net_sqm": None}
    assert _audit(db)[-1].data["changes"] == {"visitors": {"from": 80000, "to": 90000},
                                              "net_sqm": {"from": 150000.5, "to": None}}
    assert db(lambda s: s.scalar(select(func.count()).select_from(EditionTarget))) == 1


def test_setting_the_same_targets_again_changes_nothing_and_logs_nothing(session, db, edition):
    set_targets(session, edition_id=edition.id, data=GOALS, actor=ACTOR)
    set_targets(session, edition_id=edition.id, data=dict(GOALS), actor=ACTOR)
    session.commit()
    assert len(_audit(db)) == 1


@pytest.mark.parametrize(("field", "value"), [
    ("visitors", -1), ("trade_visitors", 12.5), ("exhibitors", "many"), ("net_sqm", -0.5), ("net_sqm", "nan"),
    ("rebooking_rate", 1.2), ("rebooking_rate", -0.1), ("visitors", 2**31),
])
def test_a_bad_target_is_refused_naming_its_field_and_changes_nothing(session, db, edition, field, value):
    edition_id = edition.id  # the rollback below expires the row
    set_targets(session, edition_id=edition_id, data=GOALS, actor=ACTOR)
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        set_targets(session, edition_id=edition_id, data={"visitors": 1, field: value}, actor=ACTOR)
    session.rollback()
    assert (refused.value.status, refused.value.field) == (422, field)
    assert refused.value.message.startswith(f"{field}:")
    assert db(lambda s: targets(s, edition_id=edition_id)) == GOALS


def test_a_key_that_is_no_target_is_refused(session, edition):
    with pytest.raises(InvalidInput) as refused:
        set_targets(session, edition_id=edition.id, data={"visitor": 10}, actor=ACTOR)
    assert refused.value.field == "visitor"


def test_an_unknown_edition_is_not_found(session):
    with pytest.raises(NotFound, match="edition 999 not found"):
        targets(session, edition_id=999)
    with pytest.raises(NotFound):
        set_targets(session, edition_id=999, data=GOALS, actor=ACTOR)


@pytest.mark.parametrize(("column", "value"), [("visitors", -1), ("net_sqm", -1), ("rebooking_rate", 1.5)])
def test_the_database_keeps_targets_in_range_too(engine, session, edition, column, value):
    set_targets(session, edition_id=edition.id, data=GOALS, actor=ACTOR)
    session.commit()
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(f"UPDATE edition_target SET {column} = :value"), {"value": value})


def test_an_edition_has_one_row_of_targets(engine, session, edition):
    set_targets(session, edition_id=edition.id, data=GOALS, actor=ACTOR)
    session.commit()
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("INSERT INTO edition_target (edition_id, updated_at) VALUES (:id, CURRENT_TIMESTAMP)"),
                           {"id": edition.id})


def test_targets_go_with_their_edition(session, db, edition):
    set_targets(session, edition_id=edition.id, data=GOALS, actor=ACTOR)
    session.commit()
    db(lambda s: editions.delete_edition(s, id=edition.id, actor=ACTOR))
    assert db(lambda s: s.scalar(select(func.count()).select_from(EditionTarget))) == 0


def test_gaps_give_target_actual_gap_and_whether_reached():
    actual = {"visitors": 82000, "trade_visitors": 55000, "exhibitors": 1200, "net_sqm": 149000.0,
              "rebooking_rate": 0.62}
    assert gaps(GOALS, actual) == {
        "visitors": {"target": 80000, "actual": 82000, "gap": 2000, "reached": True},
        "trade_visitors": {"target": 60000, "actual": 55000, "gap": -5000, "reached": False},
        "exhibitors": {"target": 1200, "actual": 1200, "gap": 0, "reached": True},
        "net_sqm": {"target": 150000.5, "actual": 149000.0, "gap": -1000.5, "reached": False},
        "rebooking_rate": {"target": 0.65, "actual": 0.62, "gap": -0.03, "reached": False},
    }


def test_a_gap_needs_both_target_and_actual():
    found = gaps({**NONE_SET, "visitors": 100, "exhibitors": 10}, {"visitors": None, "trade_visitors": 5})
    assert found["visitors"] == {"target": 100, "actual": None, "gap": None, "reached": None}
    assert found["trade_visitors"] == {"target": None, "actual": 5, "gap": None, "reached": None}
    assert found["exhibitors"] == {"target": 10, "actual": None, "gap": None, "reached": None}
    assert list(found) == list(TARGET_KEYS)
