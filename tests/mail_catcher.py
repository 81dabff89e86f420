"""A real SMTP server in the test process that keeps what it receives.

`mail_catcher` is a fresh aiosmtpd server per test on 127.0.0.1 and a free port, for
tests that send mail through `SmtpNotifier` (or the whole app) and read it back.
`MailCatcher(**smtp_options)` builds variants, e.g. one that requires AUTH. The server
runs in its own thread with its own loop, so it answers while the test's loop awaits.
"""

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Self

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it; tiny reuse race accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MailCatcher:
    """`messages` holds each received mail parsed with `email.policy.default` (so
    `get_content()` decodes the body), `envelopes` the matching (MAIL FROM, RCPT TO)."""

    host = "127.0.0.1"

    def __init__(self, **smtp_options: Any) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._controller = Controller(self, hostname=self.host, port=self.port, **smtp_options)
        self._running = False

    def start(self) -> None:
        self._controller.start()
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._controller.stop()
            self._running = False

    def clear(self) -> None:
        self.messages.clear()
        self.envelopes.clear()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # aiosmtpd handler hook: called on the server's thread once DATA is complete.
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        # CRLF is the wire form (RFC 5321 §2.3.8); readers compare with "\n" text.
        raw = raw.replace(b"\r\n", b"\n")
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        self.messages.append(parsed)  # last: a reader that sees it also sees its envelope
        return "250 Message accepted for delivery"


@pytest.fixture
def mail_catcher() -> Iterator[MailCatcher]:
    with MailCatcher() as catcher:
        yield catcher
