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


def test_0005_keeps_the_lead_downloads_of_the_audit_log(empty_database_url):
    from sqlalchemy import text
    from sqlmodel import Session, select

    from exhibit_crm import audit
    from exhibit_crm.models import Company, Exhibitor, LeadDownload
    from tests import factories

    engine = make_engine(empty_database_url)
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    with Session(engine) as session:
        edition = factories.edition(session, badge_types=False)
        company = Company(name="广州华美家居有限公司", name_key="广州华美家居有限公司")
        session.add(company)
        session.flush()
        exhibitor = Exhibitor(edition_id=edition.id, company_id=company.id, status="paid")
        session.add(exhibitor)
        session.flush()
        # the user row as the schema of 0004 holds it (the model has columns of later revisions)
        user_id = session.execute(text(
            "INSERT INTO exhibitor_user (exhibitor_id, email, name, password_hash, language, is_active, created_at) "
            "VALUES (:exhibitor_id, 'sales@huamei.example.cn', '陈静', 'x', '', true, CURRENT_TIMESTAMP) RETURNING id"),
            {"exhibitor_id": exhibitor.id}).scalar_one()
        actor = audit.Actor("exhibitor_user", user_id, "sales@huamei.example.cn")
        audit.log(session, "exporters.leads.downloaded", actor=actor, obj=exhibitor,
                  data={"format": "xlsx", "rows": 3, "filters": {"rating": "hot"}})
        audit.log(session, "exporters.leads.downloaded", actor=audit.CLI, obj=exhibitor, data={"format": "csv"})
        audit.log(session, "something.else", actor=actor, obj=exhibitor)
        session.commit()
        exhibitor_id = exhibitor.id
    migrate.upgrade(engine)
    with Session(engine) as session:
        kept = session.exec(select(LeadDownload)).all()
        assert [(d.exhibitor_id, d.exhibitor_user_id, d.format, d.rows, d.filters) for d in kept] == [
            (exhibitor_id, user_id, "xlsx", 3, {"rating": "hot"})]
    engine.dispose()
