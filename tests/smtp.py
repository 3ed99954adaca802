"""A real SMTP server for tests (aiosmtpd on loopback) that records what it receives and can go down and up."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.pg import free_port


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self.server.refuse.get(address)
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.server.refuse.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # the client gets its 250 only after this returns, so the message is recorded before send_message returns
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.server.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1 at a fixed free port; `messages` holds every accepted mail, parsed.

    `refuse` maps a sender or recipient address to the reply given at MAIL FROM or RCPT TO, e.g.
    "550 5.1.1 no such user" or "450 4.2.1 mailbox busy". stop() and start() again keep the port, so a
    client's SMTP URL stays valid across an outage.
    """

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: dict[str, str] = {}
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def message_ids(self) -> list[str]:
        return [message["Message-ID"] for message in self.messages]

    def start(self) -> SmtpServer:
        if self._controller is None:
            controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                    server_hostname="smtp.test")
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
