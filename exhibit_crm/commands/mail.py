"""`exhibit-crm send-mail`: deliver the outbox over SMTP, once or as a long-running sender."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable

from .. import outbox_sender
from ..console import emit, json_flag
from . import engine, settings


def serve(send: Callable[[], outbox_sender.SendReport], *, interval: float, stop: threading.Event,
          report: Callable[[outbox_sender.SendReport], None]) -> None:
    """Call `send` until `stop` is set, reporting runs that did something and waiting `interval` between runs."""
    # send_due itself goes on while full batches come back, so after it returns nothing is due or SMTP is down
    while not stop.is_set():
        result = send()
        if result.sent or result.retried or result.failed:
            report(result)
        stop.wait(interval)


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(signum, _frame):
        # finish the batch in hand, so no claim is left for the lease to expire; a second signal stops at once
        stop.set()
        signal.signal(signum, signal.SIG_DFL)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handle)


def send_mail(args) -> int:
    config = settings()
    db = engine()
    try:
        def send() -> outbox_sender.SendReport:
            return outbox_sender.send_due(db, smtp_url=config.smtp_url, mail_from=config.mail_from, batch=args.batch)

        if args.once:
            result = send()
            emit(args, result.as_dict(), result.summary())
            return 0

        def report(result: outbox_sender.SendReport) -> None:
            # a long-running sender prints one JSON document per line, so a reader can follow it as it goes
            line = json.dumps(result.as_dict(), ensure_ascii=False) if args.json else result.summary()
            print(line, flush=True)

        stop = threading.Event()
        _stop_on_signals(stop)
        print(f"sending mail through {_safe(config.smtp_url)} every {args.interval:g} s; Ctrl-C stops",
              file=sys.stderr)
        serve(send, interval=args.interval, stop=stop, report=report)
        return 0
    finally:
        db.dispose()


def _safe(smtp_url: str) -> str:
    """The SMTP URL without its password, for messages."""
    head, at, tail = smtp_url.rpartition("@")
    if not at:
        return smtp_url
    scheme, _, credentials = head.partition("://")
    return f"{scheme}://{credentials.partition(':')[0]}@{tail}"


def seconds(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(value)
    return number


def count(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def register(subparsers) -> None:
    send = subparsers.add_parser("send-mail", help="deliver queued e-mail from the outbox over SMTP_URL",
                                 description="Deliver queued e-mail over SMTP with retries and back-off. Several "
                                 "senders may run against one database; each message is sent once.")
    send.add_argument("--once", action="store_true", help="send what is due now and exit, printing a report")
    send.add_argument("--interval", type=seconds, default=10.0, metavar="SECONDS",
                      help="how long to wait when nothing is due (default 10)")
    send.add_argument("--batch", type=count, default=100, help="messages claimed and sent per SMTP connection")
    json_flag(send)
    send.set_defaults(handler=send_mail)
