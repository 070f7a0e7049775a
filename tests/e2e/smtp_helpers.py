"""A real SMTP server for the survey e-mail stories (aiosmtpd in a thread), and what it received."""
from __future__ import annotations

import email
import socket
from email import policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

USER, PASSWORD = "intermission", "s3cret-smtp-password"


class Inbox:
    """Collects every message accepted; refuses the addresses in `refuse` (550) or `busy` (451, `busy_times`)."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()
        self.busy_times = 0
        self.attempts = 0
        self.logins: list[tuple[str, str]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.attempts += 1
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        if self.busy_times > 0:
            self.busy_times -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=(auth_data.login.decode(), auth_data.password.decode()) == (USER, PASSWORD))

    def to(self, address: str) -> list:
        """The messages addressed to one person, oldest first."""
        return [m for m in self.messages if address in m["To"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_smtp() -> tuple[Controller, Inbox]:
    """An SMTP server on loopback that asks for a login (over plain text: loopback only)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=inbox.authenticate,
                            auth_require_tls=False)
    controller.start()
    return controller, inbox
