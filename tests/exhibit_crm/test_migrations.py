from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from exhibit_crm import migrate
from exhibit_crm.db import make_engine


def test_an_empty_database_migrates_to_head_matching_the_models(empty_database_url):
    engine = make_engine(empty_database_url)
    assert migrate.current_revision(engine) is None
    before, after = migrate.upgrade(engine)
    assert (before, after) == (None, migrate.head_revision())
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                SQLModel.metadata)
    assert diff == []
    assert "registration" in inspect(engine).get_table_names()
    engine.dispose()


def test_upgrade_is_repeatable_and_downgrade_empties(empty_database_url):
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine)
    assert migrate.upgrade(engine) == (migrate.head_revision(), migrate.head_revision())
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()
