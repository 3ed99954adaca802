"""The public form: what it shows, each question type and each mistake, named by its field."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from event_phases.pre_show import registration as reg
from exhibit_crm.errors import Conflict, DomainError
from exhibit_crm.models import (
    Company,
    Contact,
    OutboxMessage,
    Registration,
    RegistrationInterest,
)

from .support import count, form, refusals, register

# The form.

def test_the_form_lists_the_questions_in_position_order_with_both_languages(session, show):
    view = reg.registration_form(session, edition_id=show.id)
    assert [q.key for q in view.questions] == ["visitor", "interests", "purpose"]
    assert [q.kind for q in view.questions] == ["single", "multiple", "text"]
    assert view.questions[0].text("zh-CN") == "您是" and view.questions[0].text("en") == "You are"
    assert view.questions[1].options[0].text("zh-CN") == "沙发"
    assert view.is_open and view.title("zh-CN") == "上海国际家具展 2026"


def test_an_unknown_edition_has_no_form(session):
    with pytest.raises(DomainError) as caught:
        reg.registration_form(session, edition_id=999)
    assert caught.value.code == "not_found"


# Each question type and each validation error.

def test_a_registration_stores_the_normalised_person_and_each_kind_of_answer(session, show):
    done = register(session, show, form())
    assert done.created and done.mailed
    registration = session.get(Registration, done.registration_id)
    assert registration.answers == {"visitor": "buyer", "interests": ["sofa"], "purpose": "采购沙发"}
    assert registration.source == "online" and registration.status == "registered"
    contact = session.get(Contact, registration.contact_id)
    assert (contact.email, contact.phone, contact.full_name) == ("wang.wei@huamei.cn", "+8613800138000", "王伟")
    assert (contact.title, contact.country, contact.province, contact.city) == ("采购经理", "CN", "上海", "上海")
    assert session.get(Company, contact.company_id).name == "上海华美家具"
    interests = session.scalars(select(RegistrationInterest.category)
                                .where(RegistrationInterest.registration_id == registration.id)).all()
    assert interests == ["sofas"]


def test_a_multiple_choice_keeps_every_pick_once(session, show):
    done = register(session, show, form(answers={"visitor": "buyer", "interests": ["sofa", "office", "sofa"],
                                                 "purpose": "看看"}))
    assert session.get(Registration, done.registration_id).answers["interests"] == ["sofa", "office"]


def test_full_width_digits_and_dashes_in_a_mobile_number_are_understood(session, show):
    done = register(session, show, form(phone="＋８６ １３９-１２３４-５６７８"))
    contact = session.get(Contact, session.get(Registration, done.registration_id).contact_id)
    assert contact.phone == "+8613912345678"


@pytest.mark.parametrize(("changes", "expected"), [
    ({"full_name": "  "}, {"full_name": "required"}),
    ({"email": ""}, {"email": "required"}),
    ({"phone": ""}, {"phone": "required"}),
    ({"email": "wang.wei@"}, {"email": "invalid_email"}),
    ({"phone": "12345"}, {"phone": "invalid_phone"}),
    ({"full_name": "王" * 201}, {"full_name": "too_long"}),
    ({"company": "公" * 301}, {"company": "too_long"}),
    ({"country": "XX"}, {"country": "invalid_choice"}),
    ({"answers": {"interests": ["sofa"], "purpose": "看看"}}, {"answers.visitor": "required"}),
    ({"answers": {"visitor": "buyer", "purpose": "  "}}, {"answers.purpose": "required"}),
    ({"answers": {"visitor": "pirate", "purpose": "看看"}}, {"answers.visitor": "invalid_choice"}),
    ({"answers": {"visitor": ["buyer", "public"], "purpose": "看看"}}, {"answers.visitor": "invalid_choice"}),
    ({"answers": {"visitor": "buyer", "interests": ["sofa", "boats"], "purpose": "看看"}},
     {"answers.interests": "invalid_choice"}),
    ({"answers": {"visitor": "buyer", "purpose": "字" * 501}}, {"answers.purpose": "too_long"}),
    ({"answers": {"visitor": "buyer", "purpose": "看看", "shoe_size": "42"}},
     {"answers.shoe_size": "unknown_question"}),
])
def test_each_mistake_is_named_by_its_field_and_nothing_is_stored(session, show, changes, expected):
    assert refusals(session, show, form(**changes)) == expected
    assert (count(session, Contact), count(session, Registration), count(session, OutboxMessage)) == (0, 0, 0)


def test_every_mistake_is_reported_at_once_in_the_order_of_the_form(session, show):
    found = refusals(session, show, form(full_name="", email="nope", phone="", answers={}))
    assert list(found) == ["full_name", "phone", "email", "answers.visitor", "answers.purpose"]


def test_a_closed_form_takes_no_registration(session, show):
    show.registration_open = False
    session.add(show)
    session.commit()
    with pytest.raises(Conflict) as caught:
        register(session, show, form())
    assert caught.value.code == "registration_closed"
