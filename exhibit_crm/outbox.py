"""The transactional mail outbox: queue in the caller's transaction, deliver over SMTP exactly once.

A message is a row written in the same transaction as the change that causes it, so it exists only if that
change commits. `send_due` delivers due rows: it first claims them (status 'sending', a claim token and a lease)
in a committed conditional UPDATE, so two sender processes never take the same row; then it talks to SMTP over
one connection and marks each accepted message 'sent' in its own commit right away. A refused connection or a
4xx reply puts the message back in the queue with exponential back-off; a 5xx reply or too many attempts fails it.

The one window no outbox can close: a sender that dies after the SMTP server accepted a message but before its
'sent' mark committed leaves the row 'sending'. Once the lease expires another sender takes it over and delivers
it again, with the same Message-ID header, so receiving systems and people can recognise the duplicate.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlmodel import Session

from . import audit
from .db import session_scope
from .errors import InvalidInput
from .models import OutboxAttachment, OutboxMessage, utcnow

MAX_ATTEMPTS = 10
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
SMTP_TIMEOUT_SECONDS = 30
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


@dataclass
class SendReport:
    """What one run of the sender did, by outbox message id."""

    sent_ids: list[int] = field(default_factory=list)
    retried_ids: list[int] = field(default_factory=list)
    failed_ids: list[int] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return len(self.sent_ids)

    @property
    def retried(self) -> int:
        return len(self.retried_ids)

    @property
    def failed(self) -> int:
        return len(self.failed_ids)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "retried": self.retried, "failed": self.failed, **asdict(self)}

    def summary(self) -> str:
        return f"{self.sent} sent, {self.retried} to retry, {self.failed} failed"


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


# --- claiming -------------------------------------------------------------------------------------------------------

def _due(now: datetime):
    """Rows a sender may take: queued and due, or held by a sender whose lease ran out (it crashed or hung)."""
    return or_(
        and_(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
    )


def claim_rows(session: Session, *, ids: list[int], token: str, now: datetime, lease: timedelta) -> int:
    """Take the given rows for one sender if they are still due; returns how many it got."""
    if not ids:
        return 0
    # the due condition is repeated in the UPDATE, so a row another sender claimed meanwhile is left alone
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), _due(now))
        .values(status="sending", claim_token=token, claimed_until=now + lease, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount


def claim_due(engine: Engine, *, now: datetime, batch: int = 100,
              lease: timedelta = timedelta(minutes=5)) -> tuple[str, list[OutboxMessage]]:
    """Claim up to `batch` due messages in a committed transaction; returns the claim token and the rows."""
    token = uuid.uuid4().hex
    with session_scope(engine) as session:
        # on PostgreSQL concurrent senders skip each other's rows instead of queueing behind them;
        # SQLite has no row locks, its BEGIN IMMEDIATE already serialises the claims
        ids = list(session.scalars(
            select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(batch).with_for_update(skip_locked=True)))
        claim_rows(session, ids=ids, token=token, now=now, lease=lease)
    with Session(engine, expire_on_commit=False) as session:
        rows = list(session.scalars(
            select(OutboxMessage).where(OutboxMessage.claim_token == token).order_by(OutboxMessage.id)))
        session.expunge_all()
    return token, rows


def abandon_exhausted(engine: Engine, *, now: datetime, max_attempts: int = MAX_ATTEMPTS) -> list[int]:
    """Fail stale claims that already used every attempt; returns their ids."""
    # a message whose every attempt ended in a lost claim (a sender dying on it) would otherwise be retried forever
    with session_scope(engine) as session:
        stale = list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.status == "sending", OutboxMessage.claimed_until < now,
            OutboxMessage.attempts >= max_attempts).with_for_update(skip_locked=True)))
        for message in stale:
            message.status, message.claim_token, message.claimed_until = "failed", None, None
            message.last_error = f"gave up: the sender of attempt {message.attempts} stopped before it finished"
            audit.log(session, "exhibit_crm.outbox.failed", actor=audit.SYSTEM, obj=message,
                      data={"error": message.last_error})
    return [message.id for message in stale]


# --- marking --------------------------------------------------------------------------------------------------------

def backoff(attempts: int) -> timedelta:
    """How long to wait after the given number of failed attempts: 1 min, 2, 4 … at most an hour."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def _mark_sent(engine: Engine, message: OutboxMessage, *, now: datetime) -> None:
    with session_scope(engine) as session:
        # by id, not claim token: once the server accepted the message it is sent, whoever holds the claim now
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message.id, OutboxMessage.status == "sending")
            .values(status="sent", sent_at=now, claim_token=None, claimed_until=None, last_error="")
            .execution_options(synchronize_session=False))
        audit.log(session, "exhibit_crm.outbox.sent", actor=audit.SYSTEM, obj=message)


def _mark_unsent(engine: Engine, messages: list[OutboxMessage], *, token: str, error: str, permanent: bool,
                 now: datetime, max_attempts: int, report: SendReport) -> None:
    error = error[:1000]
    with session_scope(engine) as session:
        for message in messages:
            failed = permanent or message.attempts >= max_attempts
            result = session.execute(
                update(OutboxMessage).where(OutboxMessage.id == message.id, OutboxMessage.claim_token == token)
                .values(status="failed" if failed else "queued", last_error=error, claim_token=None,
                        claimed_until=None, next_attempt_at=now + backoff(message.attempts))
                .execution_options(synchronize_session=False))
            if not result.rowcount:
                continue  # our lease ran out and another sender owns the row now
            if failed:
                audit.log(session, "exhibit_crm.outbox.failed", actor=audit.SYSTEM, obj=message, data={"error": error})
                report.failed_ids.append(message.id)
            else:
                report.retried_ids.append(message.id)


# --- SMTP -----------------------------------------------------------------------------------------------------------

def connect(smtp_url: str) -> smtplib.SMTP:
    """An SMTP connection for smtp://, smtps:// or smtp+starttls://, logged in when the URL has user:password."""
    url = urlsplit(smtp_url)
    context = ssl.create_default_context()
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(url.hostname, url.port or 465, timeout=SMTP_TIMEOUT_SECONDS,
                                                context=context)
    else:
        client = smtplib.SMTP(url.hostname, url.port or (587 if url.scheme == "smtp+starttls" else 25),
                              timeout=SMTP_TIMEOUT_SECONDS)
    try:
        if url.scheme == "smtp+starttls":
            client.starttls(context=context)
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
    except BaseException:
        client.close()
        raise
    return client


def _describe(exc: BaseException) -> tuple[bool, str]:
    """Whether an SMTP failure is permanent (a 5xx reply), and a line for last_error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, reply = next(iter(exc.recipients.values()))
    elif isinstance(exc, smtplib.SMTPResponseException):
        code, reply = exc.smtp_code, exc.smtp_error
    else:
        return False, f"{type(exc).__name__}: {exc}"
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return 500 <= code < 600, f"{code} {text}"


def _attachments(engine: Engine, messages: list[OutboxMessage]) -> dict[int, list[OutboxAttachment]]:
    by_message: dict[int, list[OutboxAttachment]] = {message.id: [] for message in messages}
    with Session(engine) as session:
        for attachment in session.scalars(select(OutboxAttachment).where(
                OutboxAttachment.message_id.in_(list(by_message))).order_by(OutboxAttachment.id)):
            by_message[attachment.message_id].append(attachment)
    return by_message


def _renew(engine: Engine, message: OutboxMessage, *, token: str, until: datetime) -> bool:
    """Extend this sender's claim on a message; False if the claim was lost (its lease ran out and another sender
    took the message), in which case this sender must not send it."""
    with session_scope(engine) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.status == "sending",
                   OutboxMessage.claim_token == token)
            .values(claimed_until=until).execution_options(synchronize_session=False))
        return result.rowcount == 1


def _deliver(engine: Engine, client: smtplib.SMTP, messages: list[OutboxMessage], *, token: str, mail_from: str,
             clock: Callable[[], datetime], lease: timedelta, max_attempts: int, report: SendReport) -> bool:
    """Send the claimed messages over one connection; False when the connection broke off."""
    envelope_from = _envelope_address(mail_from)
    attachments = _attachments(engine, messages)
    for index, message in enumerate(messages):
        # a slow server can make a batch outlast its lease: renew it message by message, and skip any message
        # another sender has taken over meanwhile, so that no message goes out twice
        if not _renew(engine, message, token=token, until=clock() + lease):
            continue
        try:
            email = build_email(message, attachments[message.id], mail_from=mail_from)
        except NoRenderer as exc:
            # the set-up of this sender, not the message: another sender (or this one, fixed) can still send it
            _mark_unsent(engine, [message], token=token, error=str(exc), permanent=False, now=clock(),
                         max_attempts=max_attempts, report=report)
            continue
        except ValueError as exc:
            # a message the email package cannot build never will be: fail it at once, like a 5xx
            _mark_unsent(engine, [message], token=token, error=f"{type(exc).__name__}: {exc}", permanent=True,
                         now=clock(), max_attempts=max_attempts, report=report)
            continue
        try:
            client.send_message(email, from_addr=envelope_from, to_addrs=[message.to_addr])
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPSenderRefused) as exc:
            # a refused sender (wrong MAIL_FROM, missing login) refuses every message alike: it is the set-up,
            # not this message, so the rest wait for the next run instead of failing one by one
            lost = exc
        except smtplib.SMTPException as exc:
            permanent, error = _describe(exc)
            _mark_unsent(engine, [message], token=token, error=error, permanent=permanent, now=clock(),
                         max_attempts=max_attempts, report=report)
            continue
        except OSError as exc:
            lost = exc
        else:
            _mark_sent(engine, message, now=clock())
            report.sent_ids.append(message.id)
            continue
        # the connection is gone: this message and the rest wait for the next run
        _mark_unsent(engine, messages[index:], token=token, error=_describe(lost)[1], permanent=False,
                     now=clock(), max_attempts=max_attempts, report=report)
        return False
    return True


def _envelope_address(mail_from: str) -> str:
    email = EmailMessage()
    email["From"] = mail_from
    return email["From"].addresses[0].addr_spec


def send_due(engine: Engine, *, smtp_url: str, mail_from: str, now: datetime | None = None, batch: int = 100,
             lease: timedelta = timedelta(minutes=5), max_attempts: int = MAX_ATTEMPTS) -> SendReport:
    """Deliver every message that is due, batch by batch over one SMTP connection each; returns what happened."""
    clock = (lambda: now) if now is not None else utcnow
    report = SendReport(failed_ids=abandon_exhausted(engine, now=clock(), max_attempts=max_attempts))
    while True:
        token, messages = claim_due(engine, now=clock(), batch=batch, lease=lease)
        if not messages:
            return report
        try:
            client = connect(smtp_url)
        except (smtplib.SMTPException, OSError) as exc:
            # SMTPException is an OSError too; either way the server is unreachable or refuses us for now
            _mark_unsent(engine, messages, token=token, error=_describe(exc)[1], permanent=False, now=clock(),
                         max_attempts=max_attempts, report=report)
            return report
        try:
            connected = _deliver(engine, client, messages, token=token, mail_from=mail_from, clock=clock, lease=lease,
                                 max_attempts=max_attempts, report=report)
        finally:
            _quit(client)
        if not connected or len(messages) < batch:
            return report


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
