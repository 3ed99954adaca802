"""Constraints live in the database: these inserts bypass every service and must still be refused."""

from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from exhibit_crm.models import (
    BadgeType,
    Company,
    Contact,
    Exhibitor,
    Gate,
    GateDevice,
    Registration,
    Scan,
    Zone,
)
from tests import factories


def _violates(session, model, *rows) -> bool:
    """Whether the database refuses these rows (the transaction is rolled back either way on refusal)."""
    try:
        session.execute(insert(model), list(rows))
        session.flush()
    except IntegrityError:
        session.rollback()
        return True
    return False


def _contact(**values):
    return {"full_name": "王伟", **values}


def test_emails_are_unique_and_must_be_stored_normalised(session):
    session.execute(insert(Contact), [_contact(email="wang.wei@example.cn")])
    session.commit()
    assert _violates(session, Contact, _contact(email="wang.wei@example.cn"))
    assert _violates(session, Contact, _contact(email="Wang.Wei@Example.cn"))
    assert _violates(session, Contact, _contact(email=" other@example.cn"))


def test_a_contact_needs_an_email_or_a_phone(session):
    assert _violates(session, Contact, _contact())
    session.execute(insert(Contact), [_contact(phone="+8613800138000")])
    session.commit()


def _edition_with_contact(session):
    ed = factories.edition(session)
    contact = Contact(full_name="李娜", email="li.na@example.cn")
    session.add(contact)
    session.flush()
    badge = session.exec(select(BadgeType).where(BadgeType.edition_id == ed.id)).first()
    return ed, contact, badge


def test_one_registration_per_contact_and_edition(session):
    ed, contact, badge = _edition_with_contact(session)
    row = {"contact_id": contact.id, "edition_id": ed.id, "badge_type_id": badge.id, "answers": {}}
    session.execute(insert(Registration), [row])
    session.commit()
    assert _violates(session, Registration, row)


def test_registration_status_and_source_are_checked(session):
    ed, contact, badge = _edition_with_contact(session)
    row = {"contact_id": contact.id, "edition_id": ed.id, "badge_type_id": badge.id, "answers": {}}
    assert _violates(session, Registration, {**row, "status": "maybe"})


def test_one_exhibitor_per_company_and_edition_and_no_booth_twice(session):
    ed = factories.edition(session)
    companies = [Company(name=name, name_key=name) for name in ("华美家居", "Nordic Living", "Casa Bella")]
    session.add_all(companies)
    session.flush()
    first = {"edition_id": ed.id, "company_id": companies[0].id, "booth_hall": "N1", "booth_number": "A01",
             "product_categories": []}
    session.execute(insert(Exhibitor), [first])
    session.commit()
    assert _violates(session, Exhibitor, {**first, "booth_number": "A02"})
    assert _violates(session, Exhibitor, {**first, "company_id": companies[1].id})
    # exhibitors without a booth yet do not clash with each other
    session.execute(insert(Exhibitor), [
        {"edition_id": ed.id, "company_id": companies[1].id, "product_categories": []},
        {"edition_id": ed.id, "company_id": companies[2].id, "product_categories": []},
    ])
    session.commit()


def test_client_scan_ids_are_unique_per_device(session):
    ed = factories.edition(session)
    gate = session.exec(select(Gate).join(Zone).where(Zone.edition_id == ed.id)).first()
    devices = [GateDevice(gate_id=gate.id, name=f"d{i}", token_hash=f"{i:064d}") for i in range(2)]
    session.add_all(devices)
    session.flush()
    scan = {"scan_id": "abc-1", "device_id": devices[0].id, "gate_id": gate.id, "zone_id": gate.zone_id,
            "direction": "in", "scanned_at": datetime(2026, 3, 10, 2, tzinfo=UTC), "verdict": "accepted"}
    session.execute(insert(Scan), [scan])
    session.commit()
    assert _violates(session, Scan, scan)
    session.execute(insert(Scan), [{**scan, "device_id": devices[1].id}])
    session.commit()


def test_times_come_back_as_utc(session):
    ed = factories.edition(session)
    session.expire_all()
    assert session.get(type(ed), ed.id).created_at.tzinfo is UTC


def test_readers_do_not_wait_for_a_writer(engine):
    """A long report must not hold up a gate scan, nor a scan a report (SQLite: WAL + deferred reads)."""
    from sqlalchemy import text

    from exhibit_crm.db import reader

    with engine.connect() as writer:
        writer.execute(insert(Contact), [_contact(email="writer@example.cn")])  # holds the write lock, uncommitted
        with reader(engine).connect() as report:
            assert report.execute(text("SELECT count(*) FROM contact")).scalar_one() == 0
        writer.commit()
    with reader(engine).connect() as report:
        assert report.execute(text("SELECT count(*) FROM contact")).scalar_one() == 1
