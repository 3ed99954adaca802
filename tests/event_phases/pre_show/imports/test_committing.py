"""A big import commits in chunks: other writers get in between, and a failure takes the committed chunks back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, delete, event, func, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, select

from event_phases.pre_show.imports import committing, importing, jobs
from event_phases.pre_show.imports.files import read_table
from exhibit_crm import audit
from exhibit_crm.db import make_engine, read_in_session, session_scope
from exhibit_crm.models import (
    AuditLog,
    BadgeType,
    Company,
    Contact,
    ContactSource,
    ImportJob,
    Registration,
    RegistrationInterest,
    RegistrationQuestion,
)
from exhibit_crm.models.search import DeskSearchCompanyTerm, DeskSearchTerm
from tests import factories

NOW = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
HEADER = ("Full name", "E-mail", "Mobile", "Title", "City", "Company", "Badge type", "Products of interest")
COUNTED = (Contact, Company, Registration, RegistrationInterest, ContactSource, DeskSearchTerm, DeskSearchCompanyTerm)


@pytest.fixture
def edition(session):
    ed = factories.edition(session)
    session.add(BadgeType(edition_id=ed.id, code="late_vip", name="Late VIP", audience="trade_visitor"))
    session.add(RegistrationQuestion(
        edition_id=ed.id, key="interests", label="Products of interest", label_zh="感兴趣的产品", kind="multiple",
        options=[{"value": "sofa", "label": "Sofas", "label_zh": "沙发", "category": "sofas"}]))
    session.commit()
    return ed


@pytest.fixture
def impatient(engine):
    """An engine whose writers give up at once where they would wait for a lock (another writer's)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        other = make_engine(url)
        event.listen(other, "connect", lambda connection, _record: connection.execute("PRAGMA busy_timeout = 0"))
    else:
        other = create_engine(url, poolclass=NullPool, connect_args={"options": "-c lock_timeout=200"})
    yield other
    other.dispose()


def _csv(rows: list[dict]) -> bytes:
    lines = [",".join(HEADER)] + [",".join(row.get(name, "") for name in HEADER) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _guests(count: int, start: int = 0, **fields) -> list[dict]:
    return [{"Full name": f"访客{i}", "E-mail": f"guest{i}@example.cn", **fields} for i in range(start, start + count)]


def _commit(engine, edition, data: bytes, *, chunk_rows: int | None, progress=None):
    table = read_table(data)
    mapping = read_in_session(engine, importing.suggested_mapping, edition_id=edition.id, kind="visitors",
                              header=table.header)
    return committing.commit(engine, edition_id=edition.id, kind="visitors", table=table, mapping=mapping,
                             source="buyers 2026", now=NOW, chunk_rows=chunk_rows, progress=progress)


def _state(engine, contact_ids: list[int]) -> tuple[dict, dict]:
    """Rows in every table an import writes, and the given contacts as they are."""
    def read(session: Session):
        counts = {model.__name__: session.scalar(select(func.count()).select_from(model)) for model in COUNTED}
        return counts, {cid: session.get(Contact, cid).model_dump() for cid in contact_ids}
    return read_in_session(engine, read)


def _sourced(engine) -> int:
    return read_in_session(engine, lambda s: s.scalar(select(func.count()).select_from(ContactSource)
                                                      .where(ContactSource.source == "buyers 2026")))


def _desk_edit(engine, contact_id: int, **values) -> bool:
    """Another writer's short transaction; False if it would have had to wait for a lock."""
    try:
        with session_scope(engine) as session:
            session.execute(update(Contact).where(Contact.id == contact_id).values(**values))
        return True
    except OperationalError:
        return False


def test_other_writers_commit_between_the_chunks_of_a_big_import(engine, session, edition, impatient, tmp_path,
                                                                    monkeypatch):
    """While an import job commits a big list, another writer (the desk, a gate) commits at once, even on a contact
    the import has merged, and readers see the import's first chunks before it ends."""
    known = factories.registration(session, edition, full_name="王伟", email="wang@qq.com")
    rows = [{"Full name": "王伟", "E-mail": "wang@qq.com", "Title": "采购经理"}, *_guests(3 * committing.FIRST_CHUNK)]
    job = jobs.create_job(session, data_dir=tmp_path, edition_id=edition.id, kind="visitors", source="buyers 2026",
                          filename="list.csv", data=_csv(rows), actor=audit.SYSTEM)
    jobs.check_job(session, data_dir=tmp_path, job_id=job.id, mapping=job.mapping)
    jobs.start_commit(session, job_id=job.id, valid_only=False, actor=audit.SYSTEM)
    session.commit()
    seen = []
    record = jobs._record_progress

    def progress_and_other_writers(engine_, job_id, rows_done):
        record(engine_, job_id, rows_done)
        seen.append((_sourced(engine), _desk_edit(impatient, known.contact_id, city="杭州")))

    monkeypatch.setattr(jobs, "_record_progress", progress_and_other_writers)
    jobs.run_job(engine, data_dir=tmp_path, job_id=job.id, actor=audit.SYSTEM)
    outcome = read_in_session(engine, lambda s: s.get(ImportJob, job.id))
    assert (outcome.status, outcome.report["registered"]) == ("done", len(rows) - 1), outcome.error[:300]
    assert any(0 < imported < len(rows) and edited for imported, edited in seen), seen
    contact = read_in_session(engine, lambda s: s.get(Contact, known.contact_id))
    assert (contact.title, contact.city) == ("采购经理", "杭州")  # the import's merge and the desk's edit


def test_a_chunk_that_fails_late_leaves_the_database_as_it_was(engine, session, edition, db):
    """The last chunk fails at write time (its badge type was deleted meanwhile): the chunks committed before it
    are taken back — new contacts, companies, registrations, interests, sources, the desk index, and the columns
    of known contacts."""
    wang = factories.registration(session, edition, full_name="王伟", email="wang@qq.com")
    li = factories.registration(session, edition, full_name="李娜", email="li.na@163.com")
    rows = [{"Full name": "王伟", "E-mail": "wang@qq.com", "Title": "采购经理", "City": "杭州", "Company": "新木业"},
            *_guests(1, **{"Company": "欧阳家居", "Products of interest": "Sofas"}),
            {"Full name": "李娜娜", "E-mail": "li.na@163.com", "Mobile": "13900139000", "Company": "新木业"},
            *_guests(1, start=1),
            *_guests(2, start=2, **{"Badge type": "Late VIP"})]
    before = _state(engine, [wang.contact_id, li.contact_id])
    calls = []

    def progress(rows_done: int) -> None:
        calls.append(rows_done)
        if len(calls) == 2:  # two chunks committed: the desk's admin deletes the badge type the last chunk uses
            db(lambda s: s.execute(delete(BadgeType).where(BadgeType.code == "late_vip")))

    with pytest.raises(IntegrityError):
        _commit(engine, edition, _csv(rows), chunk_rows=2, progress=progress)
    assert len(calls) == 2
    assert _state(engine, [wang.contact_id, li.contact_id]) == before


def test_taking_an_import_back_keeps_what_others_did_meanwhile(engine, session, edition, db):
    """Between two chunks the desk edits a contact the import merged and registers a person it created, for another
    edition; then the commit stops. The import's own writes go; the desk's edit, its person and registration stay."""
    other_edition = factories.edition(session, name="Furniture Fair 2027", year=2027)
    wang = factories.registration(session, edition, full_name="王伟", email="wang@qq.com")
    rows = [{"Full name": "王伟", "E-mail": "wang@qq.com", "Title": "采购经理", "City": "杭州"}, *_guests(4)]
    counts, _ = _state(engine, [])
    calls = []

    def progress(rows_done: int) -> None:
        calls.append(rows_done)
        if len(calls) == 1:
            db(lambda s: s.execute(update(Contact).where(Contact.id == wang.contact_id).values(title="总经理")))
            with Session(engine) as desk:
                factories.registration(desk, other_edition, full_name="访客0", email="guest0@example.cn")
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user stops the import

    with pytest.raises(KeyboardInterrupt):
        _commit(engine, edition, _csv(rows), chunk_rows=2, progress=progress)
    contact = db(lambda s: s.get(Contact, wang.contact_id))
    assert (contact.title, contact.city) == ("总经理", "")  # the desk's title stays, the import's city goes
    guest = db(lambda s: s.scalars(select(Contact).where(Contact.email == "guest0@example.cn")).one())
    assert db(lambda s: list(s.scalars(select(Registration.edition_id).where(Registration.contact_id == guest.id)))) \
        == [other_edition.id]
    assert db(lambda s: list(s.scalars(select(ContactSource.source).where(ContactSource.contact_id == guest.id)))) \
        == ["online"]
    after, _ = _state(engine, [])
    assert after == {**counts, "Contact": counts["Contact"] + 1, "Registration": counts["Registration"] + 1,
                     "ContactSource": counts["ContactSource"] + 1, "DeskSearchTerm": after["DeskSearchTerm"]}
    assert after["DeskSearchTerm"] > counts["DeskSearchTerm"]  # the desk's person is found at the desk


def test_a_list_of_one_chunk_is_one_transaction_with_its_audit_entry(engine, session, edition, db):
    report = _commit(engine, edition, _csv(_guests(3)), chunk_rows=None)
    assert (report.committed, report.new, report.registered) == (True, 3, 3)
    entries = db(lambda s: list(s.scalars(select(AuditLog.data).where(
        AuditLog.action == "event_phases.pre_show.import.committed"))))
    assert [(e["new"], e["registered"], e["committed"]) for e in entries] == [(3, 3, True)]


def test_a_contact_another_writer_changes_before_its_chunk_is_matched_again(engine, session, edition, db):
    """The desk edits a known contact after the check, before the import's chunk with that person: the chunk sees
    the change (matched again under the lock) and writes onto it rather than over it."""
    li = factories.registration(session, edition, full_name="李娜", email="li.na@163.com")
    rows = [*_guests(2), {"Full name": "李娜", "E-mail": "li.na@163.com", "City": "杭州"}]

    def progress(_rows_done: int) -> None:  # after the first chunk
        db(lambda s: s.execute(update(Contact).where(Contact.id == li.contact_id).values(title="设计总监")))

    report = _commit(engine, edition, _csv(rows), chunk_rows=2, progress=progress)
    assert (report.committed, report.merged) == (True, 1)
    contact = db(lambda s: s.get(Contact, li.contact_id))
    assert (contact.title, contact.city) == ("设计总监", "杭州")


def test_a_key_another_writer_takes_before_its_chunk_merges_the_row_into_that_contact(engine, session, edition, db):
    """A person new at the check registers at the desk before the import's chunk with them: the chunk's insert
    fails on the unique e-mail, is done again matched under the lock, and merges the row into the desk's contact."""
    rows = _guests(4, **{"Title": "采购经理"})
    before, _ = _state(engine, [])

    def progress(_rows_done: int) -> None:  # after the first chunk
        with Session(engine) as desk:
            factories.registration(desk, edition, full_name="访客3", email="guest3@example.cn")

    report = _commit(engine, edition, _csv(rows), chunk_rows=2, progress=progress)
    assert (report.committed, report.new, report.registered) == (True, 4, 3)  # the desk registered the fourth
    after, _ = _state(engine, [])
    assert (after["Contact"], after["Registration"]) == (before["Contact"] + 4, before["Registration"] + 4)
    guest = db(lambda s: s.scalars(select(Contact).where(Contact.email == "guest3@example.cn")).one())
    assert guest.title == "采购经理"
    sources = db(lambda s: list(s.scalars(select(ContactSource.source).where(ContactSource.contact_id == guest.id))))
    assert set(sources) == {"online", "buyers 2026"}
    entries = db(lambda s: list(s.scalars(select(AuditLog.data).where(
        AuditLog.action == "event_phases.pre_show.import.committed"))))
    assert [(e["new"], e["registered"], e["committed"]) for e in entries] == [(4, 3, True)]
