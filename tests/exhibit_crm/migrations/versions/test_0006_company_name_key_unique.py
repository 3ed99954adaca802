"""Migration 0006: companies that share a name key are merged into the oldest before the key becomes unique, or
the upgrade stops naming them."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session

from exhibit_crm import migrate
from exhibit_crm.db import make_engine
from exhibit_crm.models import Company, Contact, Exhibitor
from tests import factories


def _upgrade(engine, revision: str) -> None:
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _database_at_0004(url: str, *, exhibiting: bool = False):
    """A database at 0004 with two spellings of one company (ids 1 and 2) and another company; a contact of the
    younger spelling, and with `exhibiting` both spellings exhibiting at one edition."""
    engine = make_engine(url)
    _upgrade(engine, "0005")
    with Session(engine) as session:
        session.add_all([Company(id=1, name="华美家居", name_key="华美家居"),
                         Company(id=2, name="华美 家居", name_key="华美家居"),
                         Company(id=3, name="其他", name_key="其他")])
        session.flush()
        session.add(Contact(full_name="王伟", email="a@x.cn", company_id=2))
        if exhibiting:
            edition = factories.edition(session, badge_types=False)
            session.add_all([Exhibitor(edition_id=edition.id, company_id=1), Exhibitor(edition_id=edition.id,
                                                                                         company_id=2)])
        session.commit()
    return engine


def test_duplicates_are_merged_into_the_oldest(empty_database_url):
    engine = _database_at_0004(empty_database_url)
    _upgrade(engine, "0006")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id, name FROM company ORDER BY id")).all() == [(1, "华美家居"),
                                                                                            (3, "其他")]
        assert connection.execute(text("SELECT company_id FROM contact")).scalar_one() == 1
    engine.dispose()


def test_duplicates_that_cannot_be_merged_stop_the_upgrade_naming_them(empty_database_url):
    engine = _database_at_0004(empty_database_url, exhibiting=True)
    with pytest.raises(RuntimeError, match="companies \\[1, 2\\] share the name key '华美家居'"):
        _upgrade(engine, "0006")
    assert migrate.current_revision(engine) == "0005"
    engine.dispose()
