"""Migration 0009: the edition_target table, added to a database at 0008 with its editions kept, its checks in the
database, and removed again by the downgrade."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from exhibit_crm import migrate
from exhibit_crm.db import make_engine
from exhibit_crm.models import Edition, Series
from tests.factories import insert_as_of


@pytest.fixture
def at_0008(empty_database_url):
    """A database at 0008 with one edition."""
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine, "0008")
    with engine.begin() as connection:
        series_id = insert_as_of(connection, Series(name="Furniture Fair"))
        edition_id = insert_as_of(connection, Edition(series_id=series_id, name="Furniture Fair 2026", year=2026))
    yield engine, edition_id
    engine.dispose()


def _downgrade(engine, revision: str) -> None:
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _insert(connection, edition_id: int, **values) -> None:
    columns = ", ".join(["edition_id", "updated_at", *values])
    marks = ", ".join([":edition_id", "CURRENT_TIMESTAMP", *(f":{name}" for name in values)])
    connection.execute(text(f"INSERT INTO edition_target ({columns}) VALUES ({marks})"),
                       {"edition_id": edition_id, **values})


def test_the_upgrade_adds_the_table_with_targets_unset_allowed(at_0008):
    engine, edition_id = at_0008
    assert migrate.upgrade(engine) == ("0008", migrate.head_revision())
    with engine.begin() as connection:
        _insert(connection, edition_id)
        row = connection.execute(text("SELECT visitors, trade_visitors, exhibitors, net_sqm, rebooking_rate "
                                      "FROM edition_target")).one()
    assert tuple(row) == (None,) * 5


@pytest.mark.parametrize("values", [{"visitors": -1}, {"exhibitors": -3}, {"net_sqm": -0.5},
                                    {"rebooking_rate": 1.01}, {"rebooking_rate": -0.01}])
def test_after_the_upgrade_the_checks_refuse_out_of_range_targets(at_0008, values):
    engine, edition_id = at_0008
    migrate.upgrade(engine)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        _insert(connection, edition_id, **values)


def test_the_downgrade_drops_the_table_and_keeps_the_editions(at_0008):
    engine, edition_id = at_0008
    migrate.upgrade(engine)
    with engine.begin() as connection:
        _insert(connection, edition_id, visitors=80000, rebooking_rate=0.65)
    _downgrade(engine, "0008")
    assert migrate.current_revision(engine) == "0008"
    assert "edition_target" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM edition")).scalar_one() == edition_id
    migrate.upgrade(engine)
    assert "edition_target" in inspect(engine).get_table_names()
