"""Exhibitor users' invitations.

Exhibitor users are invited by e-mail: the account exists without a password until the invitee follows the link,
a signed token over the user id and a fingerprint of the current password hash, so the link stops working once a
password is set.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from datetime import datetime, timedelta

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from exhibit_crm import audit, contacts, i18n, outbox
from exhibit_crm.errors import Conflict, InvalidInput, NotFound
from exhibit_crm.models import Company, Edition, Exhibitor, ExhibitorUser, utcnow
from exhibit_crm.settings import LANGUAGES
from exhibit_crm.web.templating import templates

from .exhibitors import exhibitor_in

INVITATION_MAX_AGE = timedelta(days=14)
INVITATION_SALT = "exhibitor-invitation"
INVITATION_PATH = "/exhibitor/invitation/"


def _fingerprint(user: ExhibitorUser) -> str:
    # changes when a password is set, so a used invitation link no longer matches
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


class _Signer(TimestampSigner):
    """Signs with the time given rather than the clock's, so that expiry can be tested without waiting."""

    def __init__(self, *args, now: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now

    def get_timestamp(self) -> int:
        return int((self.now or utcnow()).timestamp())


def _serializer(secret: str, now: datetime | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=INVITATION_SALT, signer=_Signer, signer_kwargs={"now": now})


def invitation_token(user: ExhibitorUser, *, secret: str, now: datetime | None = None) -> str:
    """The signed token of an invitation link: the user and a fingerprint of its password hash."""
    return _serializer(secret, now).dumps({"u": user.id, "f": _fingerprint(user)})


def invited_user(session: Session, *, token: str, secret: str, now: datetime | None = None,
                 lock: bool = False) -> ExhibitorUser:
    """The user an invitation link is for, while the link is valid (unused and not older than 14 days)."""
    invalid = Conflict("invalid_invitation", "this invitation link is not valid; ask the organiser for a new one",
                       status=404)
    now = now or utcnow()
    try:
        data, signed_at = _serializer(secret).loads(token, return_timestamp=True)
    except BadSignature:
        raise invalid from None
    if now - signed_at > INVITATION_MAX_AGE:
        raise Conflict("invitation_expired", "this invitation link has expired; ask the organiser for a new one",
                       status=410)
    user_id = data.get("u") if isinstance(data, dict) else None
    user = session.get(ExhibitorUser, user_id, with_for_update=lock, populate_existing=lock) \
        if isinstance(user_id, int) else None
    if user is None or not user.is_active or data.get("f") != _fingerprint(user):
        raise invalid
    return user


@contextmanager
def _language(language: str):
    token = i18n.current_language.set(language if language in LANGUAGES else "zh-CN")
    try:
        yield
    finally:
        i18n.current_language.reset(token)


def _queue_invitation(session: Session, *, user: ExhibitorUser, exhibitor: Exhibitor, secret: str,
                      base_url: str, now: datetime) -> None:
    company = session.get(Company, exhibitor.company_id)
    edition = session.get(Edition, exhibitor.edition_id)
    link = base_url.rstrip("/") + INVITATION_PATH + invitation_token(user, secret=secret, now=now)
    context = {"user": user, "company": company, "edition": edition, "link": link,
               "days": INVITATION_MAX_AGE.days}
    with _language(user.language):
        subject = i18n.gettext("Your exhibitor account for %(edition)s") % {"edition": edition.name}
        text = templates.env.get_template("mail/exhibitor_invitation.txt").render(context)
        html = templates.env.get_template("mail/exhibitor_invitation.html").render(context)
    outbox.queue_message(session, to_addr=user.email, to_name=user.name, subject=subject, text_body=text,
                         html_body=html, kind="exhibitor_invitation")


def invite_user(session: Session, *, edition_id: int | None, exhibitor_id: int, email: str, name: str = "",
                language: str = "zh-CN", secret: str, base_url: str, actor: audit.Actor,
                now: datetime | None = None) -> ExhibitorUser:
    """An account for the exhibitor without a password, and a mail with the link to set one."""
    now = now or utcnow()
    address = contacts.normalise_email(email)
    if not address:
        raise InvalidInput("required", "email: enter the e-mail address to invite", field="email")
    name = " ".join((name or "").split())
    if len(name) > 120:
        raise InvalidInput("too_long", "name: at most 120 characters", field="name")
    exhibitor = exhibitor_in(session, edition_id=edition_id, exhibitor_id=exhibitor_id)
    if exhibitor.status == "cancelled":
        raise Conflict("exhibitor_cancelled", "email: a cancelled exhibitor gets no accounts", field="email")
    user = ExhibitorUser(exhibitor_id=exhibitor.id, email=address, name=name,
                         language=language if language in LANGUAGES else "zh-CN", created_at=now, invited_at=now)
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        # an e-mail is one account across all editions (the login is by e-mail alone)
        raise Conflict("email_taken", "email: this address has an exhibitor account already, of this or another "
                       "exhibitor; one address can hold one exhibitor account", field="email") from None
    _queue_invitation(session, user=user, exhibitor=exhibitor, secret=secret, base_url=base_url, now=now)
    audit.log(session, "event_phases.pre_show.exhibitor_user.invited", actor=actor, obj=user,
              data={"exhibitor_id": exhibitor.id, "email": address})
    session.flush()
    return user


def resend_invitation(session: Session, *, edition_id: int | None, exhibitor_id: int, user_id: int, secret: str,
                      base_url: str, actor: audit.Actor, now: datetime | None = None) -> ExhibitorUser:
    """Mail the invitation again to a user of the exhibitor who has not set a password yet."""
    exhibitor = exhibitor_in(session, edition_id=edition_id, exhibitor_id=exhibitor_id)
    user = session.get(ExhibitorUser, user_id, with_for_update=True, populate_existing=True)
    if user is None or user.exhibitor_id != exhibitor.id:
        raise NotFound("exhibitor user", user_id)
    if user.password_hash:
        raise Conflict("already_active", "this user has set a password already", field="user_id")
    now = now or utcnow()
    user.invited_at = now
    session.add(user)
    _queue_invitation(session, user=user, exhibitor=exhibitor, secret=secret, base_url=base_url, now=now)
    audit.log(session, "event_phases.pre_show.exhibitor_user.invitation_resent", actor=actor, obj=user,
              data={"exhibitor_id": exhibitor.id})
    session.flush()
    return user
