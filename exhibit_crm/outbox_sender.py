"""The outbox's sender: claims due messages, delivers them over SMTP exactly once, marks them sent, retried or
failed (see exhibit_crm.outbox for the whole story)."""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine, and_, or_, select, update
from sqlmodel import Session

from . import audit
from .db import session_scope
from .models import OutboxAttachment, OutboxMessage, utcnow
from .outbox import NoRenderer, build_email

MAX_ATTEMPTS = 10
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
SMTP_TIMEOUT_SECONDS = 30


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
