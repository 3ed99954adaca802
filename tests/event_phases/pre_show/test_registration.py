"""Visitor registration services: the form's checks, the badge type rule, consents, the same person again, a race
of two identical registrations, the confirmation mail with the e-badge, and cancelling."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from badge_scanner import issued_badges as badges
from badge_scanner.codes import Signer
from event_phases.pre_show import registration as reg
from exhibit_crm import outbox
from exhibit_crm.db import run_in_session
from exhibit_crm.errors import Conflict, DomainError
from exhibit_crm.models import (
    AuditLog,
    BadgeChange,
    BadgeType,
    Company,
    Contact,
    Edition,
    Exhibitor,
    OutboxAttachment,
    OutboxMessage,
    ProductCategory,
    Registration,
    RegistrationInterest,
    RegistrationQuestion,
)
from exporters.badges import QR_ATTACHMENT, qr_png
from tests import factories

NOW = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)
SIGNER = Signer.generate()
LINKS = reg.Links("http://testserver", "a secret for the e-badge links")


def add_questions(session: Session, edition: Edition) -> Edition:
    """A single choice giving badge types, a multiple choice naming product categories, a required text."""
    session.add_all([
        RegistrationQuestion(edition_id=edition.id, key="visitor", label="You are", label_zh="您是", kind="single",
                             required=True, position=1, options=[
                                 {"value": "buyer", "label": "Trade buyer", "label_zh": "专业买家",
                                  "badge_type": "trade_visitor"},
                                 {"value": "public", "label": "Member of the public", "label_zh": "普通观众",
                                  "badge_type": "public_visitor"},
                                 {"value": "student", "label": "Student", "label_zh": "学生"}]),
        RegistrationQuestion(edition_id=edition.id, key="interests", label="Interests", label_zh="感兴趣的产品",
                             kind="multiple", position=2, options=[
                                 {"value": "sofa", "label": "Sofas", "label_zh": "沙发", "category": "sofas"},
                                 {"value": "office", "label": "Office furniture", "label_zh": "办公家具",
                                  "category": "office", "badge_type": "vip_buyer"}]),
        RegistrationQuestion(edition_id=edition.id, key="purpose", label="Purpose of visit", label_zh="参观目的",
                             kind="text", required=True, position=3),
        ProductCategory(edition_id=edition.id, code="sofas", name="Sofas", name_zh="沙发"),
        ProductCategory(edition_id=edition.id, code="office", name="Office furniture", name_zh="办公家具"),
    ])
    company = Company(name="宁波家居", name_key="宁波家居")
    session.add(company)
    session.flush()
    session.add(Exhibitor(edition_id=edition.id, company_id=company.id, status="paid", booth_hall="N1",
                          booth_number="A01", product_categories=["sofas"]))
    session.commit()
    return edition


@pytest.fixture
def show(session) -> Edition:
    return add_questions(session, factories.edition(session))


def form(**changes) -> reg.RegistrationIn:
    values = {"full_name": "王伟", "company": "上海华美家具", "title": "采购经理", "phone": "138 0013 8000",
              "email": "Wang.Wei@HuaMei.cn", "country": "CN", "province": "上海", "city": "上海", "language": "zh-CN",
              "answers": {"visitor": "buyer", "interests": ["sofa"], "purpose": "采购沙发"}}
    return reg.RegistrationIn(**{**values, **changes})


def register(session: Session, show: Edition, data: reg.RegistrationIn, *, now: datetime = NOW) -> reg.Registered:
    done = reg.register_visitor(session, edition_id=show.id, form=data, signer=SIGNER, links=LINKS, now=now)
    session.commit()
    return done


def count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def refusals(session: Session, show: Edition, data: reg.RegistrationIn) -> dict[str, str]:
    with pytest.raises(reg.RegistrationRefused) as caught:
        register(session, show, data)
    session.rollback()
    return {name: error.code for name, error in caught.value.errors.items()}


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


# The badge type rule.

def badge_code(session: Session, done: reg.Registered) -> str:
    registration = session.get(Registration, done.registration_id)
    return session.get(BadgeType, registration.badge_type_id).code


def test_the_first_answered_option_naming_a_badge_type_decides(session, show):
    session.add(BadgeType(edition_id=show.id, code="vip_buyer", name="VIP buyer"))
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


# The confirmation mail.

def _together(session: Session, show: Edition, data: reg.RegistrationIn) -> reg.Registered:
    [done] = reg.register_visitors(session, items=[(show.id, data)], signer=SIGNER, links=LINKS, now=NOW)
    session.commit()
    return done


@pytest.mark.parametrize("how", [register, _together], ids=["alone", "together"])
def test_the_confirmation_mail_is_queued_in_the_registrants_language_with_the_badge(session, show, how):
    done = how(session, show, form())
    message = session.scalars(select(OutboxMessage)).one()
    assert message.kind == reg.CONFIRMED and message.to_addr == "wang.wei@huamei.cn" and message.to_name == "王伟"
    assert message.subject == "Furniture Fair 2026 电子证件"
    url = LINKS.ebadge_url(done.registration_id)
    assert url in message.text_body and url in message.html_body
    assert "宁波家居" in message.text_body and "N1-A01" in message.text_body and "沙发" in message.text_body
    # queued as the badge code, drawn as the badge's QR when the mail is built for sending
    stored = session.scalars(select(OutboxAttachment)).one()
    assert (stored.content_type, stored.data) == (QR_ATTACHMENT, SIGNER.sign(done.registration_id, 1).encode())
    [attachment] = outbox.build_email(message, [stored], mail_from="show <noreply@show.example.cn>").iter_attachments()
    assert (attachment.get_filename(), attachment.get_content_type()) == ("e-badge.png", "image/png")
    assert attachment.get_content() == qr_png(SIGNER.sign(done.registration_id, 1))


def test_mails_of_a_group_are_each_the_mail_rendered_for_that_person_alone(session, show):
    people = [form(full_name='王<b>&"伟\'', company="A&B <家具>", email="a@huamei.cn", phone="13800138001"),
              form(full_name="李娜", company="宁波家居", email="b@huamei.cn", phone="13800138002"),
              form(full_name="Anna Schmidt", email="c@huamei.cn", phone="13800138003", language="en",
                   answers={"visitor": "public", "interests": ["office"], "purpose": "look"})]
    done = reg.register_visitors(session, items=[(show.id, data) for data in people], signer=SIGNER, links=LINKS,
                                 now=NOW)
    session.commit()
    assert all(isinstance(item, reg.Registered) and item.created for item in done)
    messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [message.to_addr for message in messages] == ["a@huamei.cn", "b@huamei.cn", "c@huamei.cn"]
    for message, item, data in zip(messages, done, people, strict=True):
        view = reg.ebadge(session, registration_id=item.registration_id, signer=SIGNER, links=LINKS)
        [attachment] = session.scalars(select(OutboxAttachment).where(OutboxAttachment.message_id == message.id))
        assert attachment.data == view.badge.code.encode()
        alone = reg._mail(kind=reg.CONFIRMED, view=view, language=data.language)
        assert (message.to_name, message.subject, message.text_body, message.html_body) == (
            alone.to_name, alone.subject, alone.text_body, alone.html_body)
    assert "王&lt;b&gt;&amp;&#34;伟&#39;" in messages[0].html_body and '王<b>&"伟\'' in messages[0].text_body


def test_a_sender_process_that_never_loaded_the_renderer_still_draws_the_qr():
    code = SIGNER.sign(4242, 3)
    script = ("import sys; from exhibit_crm import outbox; "
              "assert 'exporters.badges' not in sys.modules; "
              f"a = outbox.mailed_attachment(outbox.Attachment('e-badge.png', {QR_ATTACHMENT!r}, "
              f"{code!r}.encode())); "
              "sys.stdout.buffer.write(a.content_type.encode() + b' ' + a.data)")
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True).stdout
    assert out == b"image/png " + qr_png(code)


def test_an_english_registrant_gets_the_mail_in_english(session, show):
    register(session, show, form(language="en"))
    message = session.scalars(select(OutboxMessage)).one()
    assert message.subject == "Your e-badge for Furniture Fair 2026"
    assert "Exhibitors you may want to visit" in message.text_body and "Sofas" in message.text_body


def test_the_qr_png_reads_back_as_the_badge_code(session, show):
    import io

    import zxingcpp
    from PIL import Image

    code = SIGNER.sign(4242, 3)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(code))), text_mode=zxingcpp.TextMode.Plain)
    assert [barcode.text for barcode in found] == [code]


# The e-badge link.

def test_the_ebadge_link_names_its_registration_and_nothing_else_opens_it():
    token = LINKS.token(17)
    assert LINKS.registration_id(token) == 17 and "17" != token
    for forged in ("17", token[:-1] + ("A" if token[-1] != "A" else "B"), reg.Links("x", "other").token(17)):
        with pytest.raises(DomainError) as caught:
            LINKS.registration_id(forged)
        assert caught.value.code == "not_found"


# Cancelling.

def test_cancelling_revokes_the_badge_and_mails_the_person_once(session, show):
    done = register(session, show, form())
    old_code = SIGNER.sign(done.registration_id, 1)
    reg.cancel_registration(session, registration_id=done.registration_id, signer=SIGNER, links=LINKS)
    session.commit()
    registration = session.get(Registration, done.registration_id)
    assert registration.status == "cancelled" and registration.badge_version == 2
    assert session.scalars(select(BadgeChange.status).where(BadgeChange.registration_id == registration.id)).all() \
        == ["cancelled"]
    with pytest.raises(DomainError) as caught:
        badges.resolve(session, code=old_code, verifier=SIGNER.verifier)
    assert caught.value.code == "revoked"
    mail = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == reg.CANCELLED)).one()
    assert "取消" in mail.subject and mail.to_addr == "wang.wei@huamei.cn"
    reg.cancel_registration(session, registration_id=done.registration_id, signer=SIGNER, links=LINKS)
    session.commit()
    assert session.get(Registration, done.registration_id).badge_version == 2
    assert count(session, OutboxMessage) == 2


def test_registering_again_after_cancelling_is_refused_and_changes_nothing(session, show):
    done = register(session, show, form())
    reg.cancel_registration(session, registration_id=done.registration_id, signer=SIGNER, links=LINKS)
    session.commit()
    with pytest.raises(Conflict) as caught:
        register(session, show, form(title="总经理"))
    assert caught.value.code == "registration_cancelled"
    session.rollback()
    contact = session.get(Contact, session.get(Registration, done.registration_id).contact_id)
    assert contact.title == "采购经理" and count(session, OutboxMessage) == 2


# The organiser's settings.

def test_settings_open_and_close_the_form_and_check_the_badge_type(session, show):
    from exhibit_crm import audit

    actor = audit.Actor("staff", None, "admin")
    reg.update_settings(session, edition_id=show.id, registration_open=False, visitor_badge_type="public_visitor",
                        actor=actor)
    session.commit()
    session.refresh(show)
    assert not show.registration_open and show.visitor_badge_type == "public_visitor"
    with pytest.raises(DomainError) as caught:
        reg.update_settings(session, edition_id=show.id, registration_open=True, visitor_badge_type="pirate",
                            actor=actor)
    assert caught.value.code == "invalid_choice" and caught.value.field == "visitor_badge_type"
