"""The confirmation mail with the e-badge, the e-badge page, and cancelling from it: a signed address per registration
(Links), what the page and the mails show (EBadge), the mails in the registrant's language."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import escape
from sqlmodel import Session

from badge_scanner import issued_badges as badges
from badge_scanner.codes import Signer
from exhibit_crm import audit, outbox
from exhibit_crm.db import found
from exhibit_crm.errors import NotFound
from exhibit_crm.models import (
    Contact,
    OutboxMessage,
    Registration,
)
from exhibit_crm.settings import LANGUAGES
from exhibit_crm.web.templating import render_in
from exporters.badges import QR_ATTACHMENT

from .. import matchmaking
from .form import VISITOR

EBADGE_PATH = "/e-badge/{token}"
# outbox kinds of the two mails
CONFIRMED, CANCELLED = "registration_confirmed", "registration_cancelled"


@dataclass(frozen=True)
class Links:
    """Addresses of e-badge pages: a signed token names the registration, so nobody can guess another's page."""

    base_url: str
    secret: str

    @cached_property
    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt="exhibit-crm.e-badge")

    def token(self, registration_id: int) -> str:
        # the writer makes it for the mail, the request again for its redirect
        return _token(self, registration_id)

    def registration_id(self, token: str) -> int:
        """The registration a token names; NotFound for anything not made by token()."""
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            raise NotFound("e-badge") from None
        if not isinstance(value, int):
            raise NotFound("e-badge")
        return value

    def ebadge_url(self, registration_id: int) -> str:
        return self.base_url.rstrip("/") + EBADGE_PATH.format(token=self.token(registration_id))


@lru_cache(maxsize=4096)
def _token(links: Links, registration_id: int) -> str:
    return links._serializer.dumps(registration_id)


def send_confirmation(session: Session, *, registration: Registration, signer: Signer, links: Links,
                      language: str, interests: set[str] | None = None,
                      known: matchmaking.Catalogue | None = None) -> OutboxMessage:
    """Queue the confirmation mail: the e-badge's QR as an attached PNG, its page's link, recommended exhibitors
    (`interests`, `known`: the registration's interests and the edition's catalogue, when the caller has them)."""
    view = ebadge(session, registration_id=registration.id, signer=signer, links=links, interests=interests,
                  known=known)
    return _queue_mail(session, kind=CONFIRMED, view=view, language=language,
                       attachments=(_badge_attachment(view.badge.code),))


def _contact_of(session: Session, registration: Registration) -> Contact:
    return session.get(Contact, registration.contact_id)


def _mail(*, kind: str, view: EBadge, language: str,
          attachments: tuple[tuple[str, str, bytes], ...] = ()) -> outbox.Outgoing | None:
    """One of the two mails in the registrant's language; None when the person gave no e-mail address."""
    if not view.email:
        return None
    language = language if language in LANGUAGES else "zh-CN"
    context = {"view": view, "badge": view.badge}
    return outbox.Outgoing(to_addr=view.email, to_name=view.badge.full_name,
                           subject=render_in(f"mail/{kind}_subject.txt", language, context).strip(),
                           text_body=render_in(f"mail/{kind}.txt", language, context),
                           html_body=render_in(f"mail/{kind}.html", language, context),
                           attachments=attachments, kind=kind, contact_id=view.contact_id)


# the markers of ConfirmationMails: no form can send one (nobody knows it) and escaping leaves it as it is
_MARK = f"\ue000{uuid.uuid4().hex}"
_MARKS = re.compile(re.escape(_MARK) + r"(name|company|url|code|email)\ue000")


def _marker(field: str) -> str:
    return f"{_MARK}{field}\ue000"


class ConfirmationMails:
    """The confirmation mails of a group. Mails that differ only in who gets them (same language, badge type,
    edition and recommendations) are rendered once, with markers in place of the person's name, company, link,
    code and address, and each mail replaces the markers (HTML-escaped in the HTML body): what _mail renders, at a
    fraction of the cost. So the confirmation templates show those values as they are, through no filter, and
    show no id."""

    def __init__(self) -> None:
        self.outgoing: list[outbox.Outgoing] = []
        self._rendered: dict[tuple[str, EBadge], tuple[str, str, str]] = {}

    def add(self, view: EBadge) -> None:
        if not view.email:
            return
        language = view.language if view.language in LANGUAGES else "zh-CN"
        shape = replace(view, badge=replace(view.badge, registration_id=0, code=_marker("code"),
                                            full_name=_marker("name"), company=_marker("company")),
                        contact_id=0, email=_marker("email"), url=_marker("url"))
        key = (language, shape)
        if key not in self._rendered:
            mail = _mail(kind=CONFIRMED, view=shape, language=language)
            self._rendered[key] = (mail.subject, mail.text_body, mail.html_body)
        subject, text, html = self._rendered[key]
        plain = {"name": view.badge.full_name, "company": view.badge.company, "url": view.url,
                 "code": view.badge.code, "email": view.email}
        escaped = {field: str(escape(value)) for field, value in plain.items()}
        self.outgoing.append(outbox.Outgoing(
            to_addr=view.email, to_name=view.badge.full_name, subject=self._fill(subject, plain).strip(),
            text_body=self._fill(text, plain), html_body=self._fill(html, escaped),
            attachments=(_badge_attachment(view.badge.code),), kind=CONFIRMED, contact_id=view.contact_id))

    @staticmethod
    def _fill(text: str, values: dict[str, str]) -> str:
        return _MARKS.sub(lambda found: values[found.group(1)], text)


def _queue_mail(session: Session, *, kind: str, view: EBadge, language: str,
                attachments: tuple[tuple[str, str, bytes], ...] = ()) -> OutboxMessage | None:
    mail = _mail(kind=kind, view=view, language=language, attachments=attachments)
    return None if mail is None else outbox.queue_one(session, mail)


def _badge_attachment(code: str) -> tuple[str, str, bytes]:
    return ("e-badge.png", QR_ATTACHMENT, code.encode("ascii"))


# The e-badge page and cancelling.

@dataclass(frozen=True)
class EBadge:
    badge: badges.BadgeData
    contact_id: int
    email: str | None
    edition_id: int
    url: str
    recommendations: tuple[matchmaking.Recommendation, ...]
    language: str  # the registrant's

    @property
    def cancelled(self) -> bool:
        return self.badge.status == "cancelled"

    def badge_type(self, language: str) -> str:
        zh = self.badge.badge_type_name_zh
        return zh if language == "zh-CN" and zh else self.badge.badge_type_name


def ebadge(session: Session, *, registration_id: int, signer: Signer, links: Links, interests: set[str] | None = None,
           known: matchmaking.Catalogue | None = None) -> EBadge:
    """What the e-badge page and the mails show of a registration, with its current badge code."""
    registration = found(session, Registration, registration_id, what="e-badge", hide_id=True, exhibitor_id=None)
    badge = badges.badge_data(session, registration_id=registration_id, signer=signer)
    contact = _contact_of(session, registration)
    recommended = () if registration.status == "cancelled" else tuple(matchmaking.exhibitors_for(
        session, registration_id=registration_id, interests=interests, known=known))
    return EBadge(badge, contact.id, contact.email, registration.edition_id, links.ebadge_url(registration_id),
                  recommended, contact.language)


def cancel_registration(session: Session, *, registration_id: int, signer: Signer, links: Links,
                        actor: audit.Actor = VISITOR) -> Registration:
    """Cancel a registration from its e-badge page: the badge stops working and the person gets a mail saying so;
    cancelling again changes nothing and sends nothing."""
    registration = found(session, Registration, registration_id, what="e-badge", hide_id=True, exhibitor_id=None)
    if registration.status == "cancelled":
        return registration
    badges.cancel(session, registration_id=registration_id, actor=actor, reason="cancelled by the visitor")
    view = ebadge(session, registration_id=registration_id, signer=signer, links=links)
    language = _contact_of(session, registration).language
    _queue_mail(session, kind=CANCELLED, view=view, language=language)
    session.flush()
    return registration


