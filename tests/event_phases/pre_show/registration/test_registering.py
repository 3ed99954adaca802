"""Registering: the badge type rule, consents, the same person again, racing registrations, groups."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from event_phases.pre_show import registration as reg
from exhibit_crm.db import run_in_session
from exhibit_crm.errors import Conflict, DomainError
from exhibit_crm.models import (
    AuditLog,
    BadgeType,
    Contact,
    OutboxMessage,
    Registration,
    RegistrationInterest,
)
from tests import factories

from .support import LINKS, NOW, SIGNER, count, form, register

# The badge type rule.

def badge_code(session: Session, done: reg.Registered) -> str:
    registration = session.get(Registration, done.registration_id)
    return session.get(BadgeType, registration.badge_type_id).code


def test_the_first_answered_option_naming_a_badge_type_decides(session, show):
    session.add(BadgeType(edition_id=show.id, code="vip_buyer", name="VIP buyer", audience="trade_visitor"))
    session.commit()
    public = register(session, show, form(answers={"visitor": "public", "interests": ["office"], "purpose": "看"}))
    assert badge_code(session, public) == "public_visitor"  # the earlier question wins over "office"
    vip = register(session, show, form(email="li.na@nbjj.cn", phone="13900000001",
                                       answers={"visitor": "student", "interests": ["office"], "purpose": "看"}))
    assert badge_code(session, vip) == "vip_buyer"


def test_without_such_an_answer_the_edition_setting_then_trade_visitor_decides(session, show):
    student = {"visitor": "student", "purpose": "看看"}
    assert badge_code(session, register(session, show, form(answers=student))) == "trade_visitor"
    show.visitor_badge_type = "public_visitor"
    session.add(show)
    session.commit()
    other = register(session, show, form(email="li.na@nbjj.cn", phone="13900000001", answers=student))
    assert badge_code(session, other) == "public_visitor"


def test_an_option_naming_a_badge_type_the_edition_lacks_is_passed_over(session, show):
    # "office" names vip_buyer, which this edition does not have
    done = register(session, show, form(answers={"visitor": "student", "interests": ["office"], "purpose": "看"}))
    assert badge_code(session, done) == "trade_visitor"


def test_an_edition_without_a_visitor_badge_type_refuses_rather_than_guess(session, show):
    for badge_type in session.scalars(select(BadgeType).where(BadgeType.edition_id == show.id,
                                                              BadgeType.code == "trade_visitor")):
        session.delete(badge_type)
    session.commit()
    with pytest.raises(Conflict) as caught:
        register(session, show, form(answers={"visitor": "student", "purpose": "看看"}))
    assert caught.value.code == "no_visitor_badge_type"
    session.rollback()
    assert count(session, Contact) == 0


# Consents.

def test_ticked_consents_are_stored_with_time_text_version_and_source(session, show):
    done = register(session, show, form(consent_marketing=True, consent_share=True))
    contact = session.get(Contact, session.get(Registration, done.registration_id).contact_id)
    assert contact.consent_marketing and contact.consent_share
    assert contact.consent_marketing_at == NOW and contact.consent_share_at == NOW
    assert contact.consent_marketing_source == "online" and contact.consent_share_source == "online"
    assert contact.consent_text_version == reg.CONSENT_TEXT_VERSION


def test_unticked_consents_are_false(session, show):
    done = register(session, show, form())
    contact = session.get(Contact, session.get(Registration, done.registration_id).contact_id)
    assert not contact.consent_marketing and not contact.consent_share
    assert contact.consent_marketing_at is None and contact.consent_share_at is None


def test_one_consent_alone_is_recorded_alone(session, show):
    done = register(session, show, form(consent_share=True))
    contact = session.get(Contact, session.get(Registration, done.registration_id).contact_id)
    assert contact.consent_share and not contact.consent_marketing and contact.consent_marketing_at is None


# The same person again.

def test_the_same_email_again_updates_the_contact_and_keeps_the_registration(session, show):
    first = register(session, show, form())
    again = register(session, show, form(email="wang.wei@huamei.cn", phone="13900000009", title="总经理",
                                         consent_marketing=True), now=NOW.replace(hour=12))
    assert again.registration_id == first.registration_id and not again.created
    assert (count(session, Contact), count(session, Registration)) == (1, 1)
    contact = session.get(Contact, session.get(Registration, first.registration_id).contact_id)
    assert contact.title == "总经理" and contact.consent_marketing


def test_the_same_phone_with_another_email_finds_the_same_contact(session, show):
    first = register(session, show, form())
    again = register(session, show, form(email="wei.wang@example.cn", phone="+86 138-0013-8000"))
    assert again.registration_id == first.registration_id
    assert count(session, Contact) == 1
    # the address on file stays: typing someone's phone must not redirect their mail
    assert session.get(Contact, session.get(Registration, first.registration_id).contact_id).email \
        == "wang.wei@huamei.cn"


def test_a_known_contact_from_an_earlier_edition_registers_for_this_one(session, show):
    earlier = factories.registration(session, factories.edition(session, name="Furniture Fair 2025", year=2025),
                                     email="wang.wei@huamei.cn")
    done = register(session, show, form())
    assert done.created
    assert session.get(Registration, done.registration_id).contact_id == earlier.contact_id


def test_a_repeat_within_minutes_sends_no_second_mail_later_it_sends_the_badge_again(session, show):
    register(session, show, form())
    soon = register(session, show, form(), now=NOW.replace(minute=35))
    assert not soon.created and not soon.mailed
    assert count(session, OutboxMessage) == 1
    session.execute(OutboxMessage.__table__.update().values(created_at=NOW))  # the first mail, queued at NOW
    session.commit()
    later = register(session, show, form(), now=NOW.replace(hour=11))
    assert later.mailed and count(session, OutboxMessage) == 2
    assert {m.to_addr for m in session.scalars(select(OutboxMessage))} == {"wang.wei@huamei.cn"}


def _race(engine, show_id: int, data: reg.RegistrationIn) -> list:
    barrier = threading.Barrier(2)
    results: list = []

    def one():
        barrier.wait()
        try:
            results.append(run_in_session(engine, reg.register_visitor, edition_id=show_id, form=data,
                                          signer=SIGNER, links=LINKS, now=NOW))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_identical_registrations_racing_make_one_contact_and_one_registration(engine, session, show):
    results = _race(engine, show.id, form())
    assert all(isinstance(result, reg.Registered) for result in results), results
    assert len({result.registration_id for result in results}) == 1
    assert sorted(result.created for result in results) == [False, True]
    assert (count(session, Contact), count(session, Registration)) == (1, 1)


def test_registrations_committed_together_each_get_their_own_outcome_and_a_refused_one_leaves_nothing(session,
                                                                                                      show):
    items = [(show.id, form()), (show.id, form(email="not an address", phone="13900139000")),
             (show.id, form(email="li.na@huamei.cn", phone="13700137000", full_name="李娜", consent_marketing=True,
                            company="")), (show.id, form()),
             (show.id + 1000, form(email="zhao@huamei.cn", phone="13600136000"))]
    first, refused, other, again, unknown = reg.register_visitors(session, items=items, signer=SIGNER, links=LINKS,
                                                                  now=NOW)
    assert first.created and other.created and not again.created
    assert again.registration_id == first.registration_id != other.registration_id
    assert isinstance(refused, reg.RegistrationRefused) and refused.field == "email"
    assert isinstance(unknown, DomainError) and unknown.code == "not_found"
    assert (count(session, Contact), count(session, Registration), count(session, OutboxMessage)) == (2, 2, 2)
    assert session.scalar(select(func.count()).select_from(Contact).where(Contact.phone == "+8613900139000")) == 0
    li_na = session.scalars(select(Contact).where(Contact.email == "li.na@huamei.cn")).one()
    assert (li_na.consent_marketing, li_na.consent_marketing_at, li_na.consent_share, li_na.company_id) == (
        True, NOW, False, None)
    interests = session.scalars(select(RegistrationInterest.category)
                                .where(RegistrationInterest.registration_id == other.registration_id)).all()
    assert interests == ["sofas"]
    logged = session.execute(select(AuditLog.action, AuditLog.object_id).where(AuditLog.action.in_(
        ["exhibit_crm.contact.created", "exhibit_crm.registration.created",
         "event_phases.pre_show.registration.online"]))).all()
    assert sorted(logged) == sorted([("exhibit_crm.contact.created", li_na.id),
                                     ("exhibit_crm.contact.created", first_contact_id(session, first)),
                                     ("exhibit_crm.registration.created", first.registration_id),
                                     ("exhibit_crm.registration.created", other.registration_id),
                                     ("event_phases.pre_show.registration.online", first.registration_id),
                                     ("event_phases.pre_show.registration.online", first.registration_id),
                                     ("event_phases.pre_show.registration.online", other.registration_id)])


def first_contact_id(session: Session, done: reg.Registered) -> int:
    return session.get(Registration, done.registration_id).contact_id
