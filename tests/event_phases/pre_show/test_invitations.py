"""Exhibitor users' invitations: the account without a password, the mail, the link that sets the password once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from event_phases.pre_show import exhibitors, invitations, portal
from exhibit_crm import security
from exhibit_crm.models import ExhibitorUser, OutboxMessage
from exhibit_crm.security import PasswordHash, verify_password
from tests import factories

from .test_exhibitors import ACTOR, SECRET, T0, book, refused, with_categories


@pytest.fixture
def ed(session):
    edition = factories.edition(session)
    with_categories(session, edition.id)
    return edition


def invite(session, exhibitor, email="Li.Na@Acme.example.cn", language="en", now=T0):
    user = invitations.invite_user(session, edition_id=exhibitor.edition_id, exhibitor_id=exhibitor.id, email=email,
                                   name="李娜", language=language, secret=SECRET, base_url="https://crm.example.cn/",
                                   actor=ACTOR, now=now)
    session.commit()
    return user


def test_an_invitation_makes_an_account_without_password_and_queues_a_mail(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs")
    user = invite(session, exhibitor, language="zh-CN")
    assert user.email == "li.na@acme.example.cn" and user.password_hash == "" and user.invited_at == T0
    mail = session.scalars(select(OutboxMessage)).one()
    assert mail.to_addr == "li.na@acme.example.cn" and mail.kind == "exhibitor_invitation"
    assert "https://crm.example.cn/exhibitor/invitation/" in mail.text_body
    assert "Acme Chairs" in mail.text_body and "设置密码" in mail.text_body
    assert "Furniture Fair 2026" in mail.subject and "展商账户" in mail.subject


def test_the_invitation_link_sets_the_password_once(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs")
    user = invite(session, exhibitor)
    token = invitations.invitation_token(user, secret=SECRET, now=T0)
    assert invitations.invited_user(session, token=token, secret=SECRET, now=T0 + timedelta(days=13)).id == user.id
    portal.accept_invitation(session, token=token, secret=SECRET, password="a good password",
                             confirm="a good password", now=T0 + timedelta(days=1))
    session.commit()
    assert session.get(ExhibitorUser, user.id).password_hash
    refused("invalid_invitation", portal.accept_invitation, session=session, token=token, secret=SECRET,
            password="another password", confirm="another password", now=T0 + timedelta(days=1))


def test_an_invitation_link_expires_and_cannot_be_forged(session, ed):
    user = invite(session, book(session, ed.id, "Acme Chairs"))
    token = invitations.invitation_token(user, secret=SECRET, now=T0)
    refused("invitation_expired", invitations.invited_user, session=session, token=token, secret=SECRET,
            now=T0 + timedelta(days=15))
    refused("invalid_invitation", invitations.invited_user, session=session, token=token, secret="another secret",
            now=T0)
    refused("invalid_invitation", invitations.invited_user, session=session, token=token[:-2] + "xx", secret=SECRET,
            now=T0)


def test_passwords_are_checked_before_the_link_is_used(session, ed):
    user = invite(session, book(session, ed.id, "Acme Chairs"))
    token = invitations.invitation_token(user, secret=SECRET, now=T0)
    refused("password_too_short", portal.accept_invitation, session=session, token=token, secret=SECRET,
            password="short", confirm="short", now=T0)
    refused("password_mismatch", portal.accept_invitation, session=session, token=token, secret=SECRET,
            password="a good password", confirm="a good passw0rd", now=T0)
    assert invitations.invited_user(session, token=token, secret=SECRET, now=T0).id == user.id


def test_an_email_with_an_account_elsewhere_gets_a_clear_refusal(session, ed):
    invite(session, book(session, ed.id, "Acme Chairs"))
    other = book(session, ed.id, "宁波家居")
    error = refused("email_taken", invitations.invite_user, session=session, edition_id=ed.id, exhibitor_id=other.id,
                    email="li.na@acme.example.cn", secret=SECRET, base_url="http://x", actor=ACTOR)
    assert error.field == "email" and "one exhibitor account" in error.message
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_resending_goes_to_pending_users_only(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs")
    user = invite(session, exhibitor)
    invitations.resend_invitation(session, edition_id=ed.id, exhibitor_id=exhibitor.id, user_id=user.id,
                                  secret=SECRET, base_url="http://x", actor=ACTOR, now=T0 + timedelta(days=2))
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    assert user.invited_at == T0 + timedelta(days=2)
    other = book(session, ed.id, "宁波家居")
    refused("not_found", invitations.resend_invitation, session=session, edition_id=ed.id, exhibitor_id=other.id,
            user_id=user.id, secret=SECRET, base_url="http://x", actor=ACTOR)
    portal.accept_invitation(session, token=invitations.invitation_token(user, secret=SECRET), secret=SECRET,
                             password="a good password", confirm="a good password")
    refused("already_active", invitations.resend_invitation, session=session, edition_id=ed.id,
            exhibitor_id=exhibitor.id, user_id=user.id, secret=SECRET, base_url="http://x", actor=ACTOR)


def test_a_cancelled_exhibitor_gets_no_invitations(session, ed):
    exhibitor = book(session, ed.id, "Acme Chairs")
    exhibitors.change_status(session, edition_id=ed.id, exhibitor_id=exhibitor.id, status="cancelled", actor=ACTOR)
    refused("exhibitor_cancelled", invitations.invite_user, session=session, edition_id=ed.id,
            exhibitor_id=exhibitor.id, email="x@y.cn", secret=SECRET, base_url="http://x", actor=ACTOR)


def test_a_password_hashed_beforehand_is_stored_without_hashing_in_the_transaction(session, ed, monkeypatch):
    user = invite(session, book(session, ed.id, "Acme Chairs"))
    generation = user.session_generation
    hashed = portal.invitation_password("a good password", "a good password")
    assert isinstance(hashed, PasswordHash) and verify_password(hashed, "a good password")

    def no_hashing(*_args):
        raise AssertionError("hashed inside the write transaction")

    monkeypatch.setattr(security, "hash_password", no_hashing)
    portal.accept_invitation(session, token=invitations.invitation_token(user, secret=SECRET), secret=SECRET,
                             password=hashed)
    session.commit()
    stored = session.get(ExhibitorUser, user.id)
    assert stored.password_hash == hashed
    assert stored.session_generation == generation + 1  # any session the user had ends


def test_an_invitees_password_is_checked_before_it_is_hashed(session, ed):
    refused("password_too_short", portal.invitation_password, password="short", confirm="short")
    refused("password_mismatch", portal.invitation_password, password="a good password", confirm="a good passw0rd")
