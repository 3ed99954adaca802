"""The confirmation mail with the e-badge, the e-badge link, and cancelling."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import select
from sqlmodel import Session

from badge_scanner import issued_badges as badges
from event_phases.pre_show import registration as reg
from event_phases.pre_show.registration import confirmation
from exhibit_crm import outbox
from exhibit_crm.errors import DomainError
from exhibit_crm.models import (
    BadgeChange,
    Contact,
    Edition,
    OutboxAttachment,
    OutboxMessage,
    Registration,
)
from exporters.badges import QR_ATTACHMENT, qr_png

from .support import LINKS, NOW, SIGNER, count, form, register

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
        alone = confirmation._mail(kind=reg.CONFIRMED, view=view, language=data.language)
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


def test_registering_again_after_cancelling_reinstates_with_a_new_badge_and_mails_it(session, show):
    done = register(session, show, form())
    first_code = badges.badge_data(session, registration_id=done.registration_id, signer=SIGNER).code
    reg.cancel_registration(session, registration_id=done.registration_id, signer=SIGNER, links=LINKS)
    session.commit()
    again = register(session, show, form(title="总经理"))
    session.commit()
    assert (again.registration_id, again.created, again.mailed) == (done.registration_id, False, True)
    registration = session.get(Registration, done.registration_id)
    assert (registration.status, registration.badge_version, registration.cancelled_at) == ("registered", 3, None)
    assert session.scalars(select(BadgeChange.status).where(BadgeChange.registration_id == registration.id)
                           .order_by(BadgeChange.id)).all() == ["cancelled", "registered"]
    with pytest.raises(DomainError) as caught:
        badges.resolve(session, code=first_code, verifier=SIGNER.verifier)
    assert caught.value.code == "outdated_badge"
    new_code = badges.badge_data(session, registration_id=registration.id, signer=SIGNER).code
    assert badges.resolve(session, code=new_code, verifier=SIGNER.verifier).id == registration.id
    mails = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == reg.CONFIRMED)
                            .order_by(OutboxMessage.id)).all()
    assert len(mails) == 2 and mails[-1].to_addr == "wang.wei@huamei.cn"
    assert session.get(Contact, registration.contact_id).title == "总经理"
