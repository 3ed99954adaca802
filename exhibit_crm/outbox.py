"""The transactional mail outbox: messages queued in the caller's transaction, with their attachments (stored, or
made by a registered renderer when sent); `outbox_sender` delivers them over SMTP exactly once.

A message is a row written in the same transaction as the change that causes it, so it exists only if that
change commits. `outbox_sender.send_due` delivers due rows: it first claims them (status 'sending', a claim token
and a lease) in a committed conditional UPDATE, so two sender processes never take the same row; then it talks to
SMTP over one connection and marks each accepted message 'sent' in its own commit right away. A refused connection or a
4xx reply puts the message back in the queue with exponential back-off; a 5xx reply or too many attempts fails it.

The one window no outbox can close: a sender that dies after the SMTP server accepted a message but before its
'sent' mark committed leaves the row 'sending'. Once the lease expires another sender takes it over and delivers
it again, with the same Message-ID header, so receiving systems and people can recognise the duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from typing import NamedTuple

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import insert
from sqlmodel import Session

from .errors import InvalidInput
from .models import OutboxAttachment, OutboxMessage

DEFAULT_DOMAIN = "exhibit-crm.local"
# 7-bit transfer encodings (quoted-printable/base64) for non-ASCII bodies: not every relay on the way offers 8BITMIME
MIME_POLICY = policy.default.clone(cte_type="7bit")
# An attachment stored as f"{RENDERED}{name}" holds what the renderer registered under that name needs; the sender
# makes the file from it. Costly files (a QR code's PNG) are then made by the sender, not by the request that queued
# the mail, and the row stays small.
RENDERED = "application/x.exhibit-crm.render."


class Attachment(NamedTuple):
    filename: str
    content_type: str
    data: bytes


class Renderer(NamedTuple):
    content_type: str  # of the file it makes
    render: Callable[[bytes], bytes]


_renderers: dict[str, Renderer] = {}


class NoRenderer(LookupError):
    """An attachment names a renderer this process does not have; the message waits for a sender that has it."""


def register_renderer(name: str, *, content_type: str, render: Callable[[bytes], bytes]) -> str:
    """Make `render(stored data) -> file` the renderer called `name`; returns the content type to queue
    attachments under, so that the sender renders them."""
    if content_type.count("/") != 1 or not name or len(RENDERED + name) > 100:
        raise ValueError(f"bad renderer {name!r} for {content_type!r}")
    _renderers[name] = Renderer(content_type, render)
    return RENDERED + name


def _renderer(name: str) -> Renderer:
    if name not in _renderers:
        # a sender that has not imported the leaves registering renderers imports the CLI's list of them (the core
        # names leaf modules only in the app's and the CLI's lists)
        from .cli import load_renderers

        load_renderers()
    try:
        return _renderers[name]
    except KeyError:
        raise NoRenderer(f"no renderer {name!r} for an attachment in this sender") from None


def mailed_attachment(attachment: OutboxAttachment | Attachment) -> Attachment:
    """The file an attachment row stands for: its data, or what its renderer makes of it."""
    if not attachment.content_type.startswith(RENDERED):
        return Attachment(attachment.filename, attachment.content_type, attachment.data)
    renderer = _renderer(attachment.content_type.removeprefix(RENDERED))
    return Attachment(attachment.filename, renderer.content_type, renderer.render(attachment.data))


# --- queueing -------------------------------------------------------------------------------------------------------

@lru_cache(maxsize=4096)  # checking costs more than remembering; refusals raise and are not kept
def normalise_address(value: str, *, field_name: str = "to_addr") -> str:
    """The address with surrounding blanks removed and the domain in lower-case ASCII, or InvalidInput."""
    try:
        # an ASCII local part keeps delivery independent of SMTPUTF8 support at the receiving server
        checked = validate_email((value or "").strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidInput("invalid_email", f"{value!r} is not an e-mail address we can send to: {exc}",
                           field=field_name) from None
    return checked.ascii_email


def _check_header(value: str, field_name: str, max_length: int) -> str:
    # line breaks in a header value would let text inject headers; the email package refuses them late, at send time
    if "\r" in value or "\n" in value:
        raise InvalidInput("invalid_header", f"{field_name} must be a single line", field=field_name)
    if len(value) > max_length:
        raise InvalidInput("too_long", f"{field_name} is longer than {max_length} characters", field=field_name)
    return value


def queue_message(session: Session, *, to_addr: str, to_name: str = "", subject: str, text_body: str,
                  html_body: str = "", attachments: Iterable[Attachment | tuple[str, str, bytes]] = (),
                  kind: str = "", contact_id: int | None = None, campaign_id: int | None = None,
                  domain: str = DEFAULT_DOMAIN) -> OutboxMessage:
    """Queue an e-mail in the caller's transaction; it is sent only if that transaction commits."""
    return queue_one(session, Outgoing(
        to_addr=to_addr, to_name=to_name, subject=subject, text_body=text_body, html_body=html_body,
        attachments=tuple(attachments), kind=kind, contact_id=contact_id, campaign_id=campaign_id), domain=domain)


def queue_one(session: Session, mail: Outgoing, *, domain: str = DEFAULT_DOMAIN) -> OutboxMessage:
    """queue_message for an Outgoing."""
    message = OutboxMessage(**_message_row(mail, domain))
    session.add(message)
    session.flush()
    _add_attachments(session, [(message.id, mail)])
    return message


@dataclass(frozen=True)
class Outgoing:
    """One e-mail for queue_messages, with queue_message's arguments."""

    to_addr: str
    subject: str
    text_body: str
    to_name: str = ""
    html_body: str = ""
    attachments: tuple[Attachment | tuple[str, str, bytes], ...] = ()
    kind: str = ""
    contact_id: int | None = None
    campaign_id: int | None = None


def queue_messages(session: Session, mails: Iterable[Outgoing], *, domain: str = DEFAULT_DOMAIN) -> list[int]:
    """Queue several e-mails in the caller's transaction, one statement per table, after checking every one;
    returns their outbox ids in order."""
    mails = list(mails)
    rows = [_message_row(mail, domain) for mail in mails]
    if not rows:
        return []
    # Core on the session's connection (pending changes written first, as session.execute would): the ORM's bulk
    # path and execution layers cost more than the statement for a few rows
    session.flush()
    table = OutboxMessage.__table__
    ids = list(session.connection().execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                            rows).scalars())
    _add_attachments(session, list(zip(ids, mails, strict=True)))
    return ids


def _message_row(mail: Outgoing, domain: str) -> dict:
    for _filename, content_type, _data in mail.attachments:
        if content_type.count("/") != 1:
            raise InvalidInput("invalid_content_type", f"{content_type!r} is not a MIME type", field="attachments")
    return {"message_id": make_msgid(domain=domain), "kind": mail.kind, "to_addr": normalise_address(mail.to_addr),
            "to_name": _check_header(mail.to_name.strip(), "to_name", 200),
            "subject": _check_header(mail.subject, "subject", 500), "text_body": mail.text_body,
            "html_body": mail.html_body, "contact_id": mail.contact_id, "campaign_id": mail.campaign_id}


def _add_attachments(session: Session, messages: list[tuple[int, Outgoing]]) -> None:
    files = [{"message_id": message_id, "filename": filename, "content_type": content_type, "data": bytes(data)}
             for message_id, mail in messages for filename, content_type, data in mail.attachments]
    if files:
        session.connection().execute(insert(OutboxAttachment.__table__), files)


def build_email(message: OutboxMessage, attachments: Iterable[OutboxAttachment], *, mail_from: str) -> EmailMessage:
    """The MIME message for an outbox row: text with an HTML alternative, attachments, UTF-8 headers."""
    email = EmailMessage(policy=MIME_POLICY)
    email["From"] = mail_from
    email["To"] = Address(display_name=message.to_name, addr_spec=message.to_addr)
    email["Subject"] = message.subject
    # the origination date is when the message was complete, i.e. queued, so every retry carries the same one
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = message.message_id
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    for attachment in map(mailed_attachment, attachments):
        maintype, subtype = attachment.content_type.split("/", 1)
        email.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return email
