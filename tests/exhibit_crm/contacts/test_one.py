"""One person at a time: the same person by e-mail or phone, consents, racing requests, one registration per edition."""

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from exhibit_crm import audit, contacts
from exhibit_crm.models import BadgeType, Contact, ContactSource, Registration
from tests import factories

ACTOR = audit.Actor("staff", 1, "desk")
NOW = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)


def _person(**values):
    return contacts.ContactIn.model_validate({"full_name": "王伟", "company": "广州华美家居有限公司", **values})


def test_the_same_person_by_email_or_phone_is_one_contact(session):
    first, created = contacts.upsert_contact(session, data=_person(email="wang.wei@huamei.cn"), source="import:a",
                                             actor=ACTOR)
    assert created
    again, created = contacts.upsert_contact(session, data=_person(email="WANG.WEI@huamei.cn", phone="13800138000",
                                                                   title="采购经理"), source="walk_in", actor=ACTOR)
    assert (again.id, created, again.phone, again.title) == (first.id, False, "+8613800138000", "采购经理")
    by_phone, created = contacts.upsert_contact(session, data=_person(phone="138 0013 8000", full_name="王 伟"),
                                                source="online", actor=ACTOR)
    assert (by_phone.id, created, by_phone.email) == (first.id, False, "wang.wei@huamei.cn")
    session.commit()
    assert session.scalar(select(func.count()).select_from(Contact)) == 1
    sources = session.scalars(select(ContactSource.source).where(ContactSource.contact_id == first.id)).all()
    assert first.full_name == "王伟"  # a match fills blanks of who the person is, it never renames them
    assert sorted(sources) == ["import:a", "online", "walk_in"]


def test_a_phone_of_another_contact_does_not_move(session):
    owner, _ = contacts.upsert_contact(session, data=_person(phone="13800138000"), source="a", actor=ACTOR)
    other, _ = contacts.upsert_contact(session, data=_person(full_name="李娜", email="li.na@x.cn"), source="a",
                                       actor=ACTOR)
    same, created = contacts.upsert_contact(session, data=_person(full_name="李娜", email="li.na@x.cn",
                                                                  phone="13800138000"), source="b", actor=ACTOR)
    assert (same.id, created, same.phone, owner.phone) == (other.id, False, None, "+8613800138000")


def test_consents_keep_time_and_source_and_blanks_erase_nothing(session):
    contact, _ = contacts.upsert_contact(session, data=_person(email="a@x.cn", consent_share=True,
                                                               consent_text_version="2026-1"), source="online",
                                         actor=ACTOR)
    assert contact.consent_share and contact.consent_share_source == "online" and contact.consent_share_at
    contact, _ = contacts.upsert_contact(session, data=_person(email="a@x.cn", company=""), source="import:b",
                                         actor=ACTOR)
    assert contact.consent_share and contact.consent_share_source == "online" and contact.company_id


def test_racing_requests_make_one_contact_and_one_registration(engine):
    with Session(engine) as session:
        ed = factories.edition(session)
        badge_type = session.scalars(select(BadgeType).where(BadgeType.edition_id == ed.id)).first()
        edition_id, badge_type_id = ed.id, badge_type.id
    barrier = threading.Barrier(4)
    errors = []

    def register():
        try:
            with Session(engine) as session:
                barrier.wait()
                contact, _ = contacts.upsert_contact(session, data=_person(email="race@x.cn", phone="13900139000"),
                                                     source="online", actor=ACTOR)
                contacts.register(session, contact_id=contact.id, edition_id=edition_id,
                                  badge_type_id=badge_type_id, source="online", actor=ACTOR)
                session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
        assert session.scalar(select(func.count()).select_from(Registration)) == 1


def test_register_returns_the_existing_registration(session):
    ed = factories.edition(session)
    badge_type = session.scalars(select(BadgeType).where(BadgeType.edition_id == ed.id)).first()
    contact, _ = contacts.upsert_contact(session, data=_person(email="b@x.cn"), source="online", actor=ACTOR)
    first, created = contacts.register(session, contact_id=contact.id, edition_id=ed.id,
                                       badge_type_id=badge_type.id, source="online", actor=ACTOR)
    again, created_again = contacts.register(session, contact_id=contact.id, edition_id=ed.id,
                                             badge_type_id=badge_type.id, source="walk_in", actor=ACTOR)
    assert (created, created_again, again.id, again.source) == (True, False, first.id, "online")


def test_a_known_email_with_another_name_or_phone_does_not_take_the_contact_over(session):
    owner, _ = contacts.upsert_contact(session, data=_person(email="owner@x.cn", phone="13800138000"), source="a",
                                       actor=ACTOR)
    contacts.upsert_contact(session, data=_person(full_name="Mallory", phone="13800138000", email="mallory@x.cn"),
                            source="online", actor=ACTOR)
    assert (owner.full_name, owner.email, owner.phone) == ("王伟", "owner@x.cn", "+8613800138000")
