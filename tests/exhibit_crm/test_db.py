"""Finding one row by id: the row, or NotFound naming what was asked for."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from exhibit_crm.db import found
from exhibit_crm.errors import NotFound
from exhibit_crm.models import Edition, Zone
from exhibit_crm.models.types import MAX_ID
from tests import factories


def test_found_returns_the_row(session):
    edition = factories.edition(session)
    assert found(session, Edition, edition.id, what="edition") is edition


@pytest.mark.parametrize("ident", [0, 10_000, MAX_ID, MAX_ID + 1, 2**63, 2**80])
def test_a_missing_id_is_not_found_even_beyond_what_the_database_stores(session, ident):
    factories.edition(session)
    with pytest.raises(NotFound) as raised:
        found(session, Edition, ident, what="edition")
    assert (raised.value.code, raised.value.status, raised.value.message) == (
        "not_found", 404, f"edition {ident} not found")


def test_a_row_of_another_owner_is_not_found(session):
    edition = factories.edition(session)
    zone = session.scalars(select(Zone).where(Zone.edition_id == edition.id)).first()
    assert found(session, Zone, zone.id, what="zone", edition_id=edition.id) is zone
    with pytest.raises(NotFound, match=f"zone {zone.id} not found"):
        found(session, Zone, zone.id, what="zone", edition_id=edition.id + 1)


def test_a_locked_read_sees_the_stored_row_and_the_message_may_hide_the_id(session):
    edition = factories.edition(session)
    assert found(session, Edition, edition.id, what="edition", lock=True).id == edition.id
    with pytest.raises(NotFound) as raised:
        found(session, Edition, edition.id + 1, what="e-badge", hide_id=True)
    assert raised.value.message == "e-badge not found"
