"""Migration 0008: every badge type gets the audience its code names, and nothing that refers to a badge type is
lost while SQLite copies the table."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from exhibit_crm import migrate
from exhibit_crm.db import make_engine
from exhibit_crm.models import BadgeType, Contact, Edition, Registration, Series, Zone, ZoneAccess
from tests.factories import insert_as_of

# the codes of badge types at revision 0007 and the audience each gets
AUDIENCE_OF = {
    "trade_visitor": "trade_visitor", "public_visitor": "public_visitor", "exhibitor_staff": "exhibitor_staff",
    "press": "press", "organiser": "organiser",
    "vip_buyer": "trade_visitor", "buyer_delegation": "trade_visitor", "trade_day": "trade_visitor",
    "exhibitor": "exhibitor_staff", "exhibitor_contractor": "exhibitor_staff",
    "media": "press", "trade_press": "press",
    "staff": "organiser", "contractor": "organiser", "service_crew": "organiser", "organizer": "organiser",
    "public_weekend": "public_visitor",
    "visitor": "trade_visitor", "student": "trade_visitor",
}


@pytest.fixture
def at_0007(empty_database_url):
    """A database at 0007 with an edition of the badge types above; a registration and a zone's access rule refer
    to the VIP buyer's badge type."""
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine, "0007")
    with engine.begin() as connection:
        series_id = insert_as_of(connection, Series(name="Furniture Fair"))
        edition_id = insert_as_of(connection, Edition(series_id=series_id, name="Furniture Fair 2026", year=2026))
        ids = {code: insert_as_of(connection, BadgeType(edition_id=edition_id, code=code, name=code.title()))
               for code in AUDIENCE_OF}
        zone_id = insert_as_of(connection, Zone(edition_id=edition_id, name="VIP Lounge"))
        insert_as_of(connection, ZoneAccess(zone_id=zone_id, badge_type_id=ids["vip_buyer"]))
        contact_id = insert_as_of(connection, Contact(full_name="王伟", email="wang.wei@example.cn"))
        insert_as_of(connection, Registration(contact_id=contact_id, edition_id=edition_id,
                                              badge_type_id=ids["vip_buyer"]))
    yield engine, ids
    engine.dispose()


def test_badge_types_get_the_audience_their_code_names(at_0007):
    engine, ids = at_0007
    assert migrate.upgrade(engine) == ("0007", migrate.head_revision())
    with engine.connect() as connection:
        assert dict(connection.execute(text("SELECT code, audience FROM badge_type")).all()) == AUDIENCE_OF
        # the rows that refer to the badge type are still there (SQLite copied the table)
        assert connection.execute(text("SELECT badge_type_id FROM zone_access")).scalar_one() == ids["vip_buyer"]
        assert connection.execute(text("SELECT badge_type_id FROM registration")).scalar_one() == ids["vip_buyer"]


@pytest.mark.parametrize("audience", [None, "visitor", "exhibitor"])
def test_after_the_upgrade_an_audience_is_required_and_one_of_the_five(at_0007, audience):
    engine, ids = at_0007
    migrate.upgrade(engine)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("UPDATE badge_type SET audience = :audience WHERE id = :id"),
                           {"audience": audience, "id": ids["press"]})
