"""The `Notifier` contract, run against the in-memory notifier and SMTP (to a real
aiosmtpd server in the test process); then what only SMTP or the console does."""

import asyncio
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from structlog.testing import capture_logs

from adapters.mail.console_notifier import ConsoleNotifier
from adapters.mail.smtp_notifier import SmtpNotifier
from adapters.memory.notifier import InMemoryNotifier
from application.errors import NotifierUnavailableError
from application.ports.notifier import Notifier
from domain.mail.messages import MailMessage
from tests.mail_catcher import MailCatcher, free_port

# aiosmtpd warns when AUTH runs without TLS; the auth tests do so on purpose (localhost).
auth_without_tls = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning"
)
MAIL_FROM = "HexaHub <no-reply@hexahub.test>"
LINK = "https://hexahub.test/verify-email?token=" + "x" * 120  # longer than a mail line
SECRET_PASSWORD = "smtp-password-never-logged"


def message(**changes: str) -> MailMessage:
    fields = {
        "to": "alice@example.com",
        "subject": "Verify your email address",
        "text": f"Hello Alice,\n\nOpen this link to verify your address:\n{LINK}\n",
    } | changes
    return MailMessage(**fields)


def smtp_notifier(port: int, **options: object) -> SmtpNotifier:
    settings: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "username": None,
        "password": None,
        "starttls": False,
        "mail_from": MAIL_FROM,
        "timeout": 5,
    } | options
    return SmtpNotifier(**settings)  # type: ignore[arg-type]


@dataclass
class Subject:
    notifier: Notifier
    received: Callable[[], list[MailMessage]]  # what reached the far side, in order
    take_down: Callable[[], None]  # the transport is down from now on


@pytest.fixture(params=["memory", "smtp"])
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    if request.param == "memory":
        memory = InMemoryNotifier()
        yield Subject(memory, lambda: list(memory.sent), lambda: memory.fail_next(10**6))
        return

    with MailCatcher() as catcher:

        def received() -> list[MailMessage]:
            return [
                MailMessage(to=m["To"], subject=m["Subject"], text=m.get_content())
                for m in catcher.messages
            ]

        yield Subject(smtp_notifier(catcher.port), received, catcher.stop)


async def test_a_sent_mail_arrives_with_recipient_subject_and_body(subject: Subject) -> None:
    mail = message()
    await subject.notifier.send(mail)
    assert subject.received() == [mail]


async def test_mails_arrive_in_the_order_sent(subject: Subject) -> None:
    mails = [message(to=f"user{i}@example.com", subject=f"Mail {i}") for i in range(3)]
    for mail in mails:
        await subject.notifier.send(mail)
    assert subject.received() == mails


async def test_non_ascii_subject_and_body_arrive_unchanged(subject: Subject) -> None:
    mail = message(subject="Grüße — bitte bestätigen ✓", text="Héllo Zoë,\nçà et là 你好\n")
    await subject.notifier.send(mail)
    assert subject.received() == [mail]


async def test_lines_that_smtp_treats_specially_arrive_unchanged(subject: Subject) -> None:
    # A lone "." ends DATA unless dot-stuffed (RFC 5321 §4.5.2); "From " is mangled by
    # mbox-style relays; trailing spaces and "=" are quoted-printable's own syntax.
    text = ".\n..leading dots\nFrom the team\ntrailing space \nkey=value\n"
    mail = message(text=text)
    await subject.notifier.send(mail)
    assert subject.received() == [mail]


async def test_a_down_transport_raises_notifier_unavailable(subject: Subject) -> None:
    subject.take_down()
    with pytest.raises(NotifierUnavailableError):
        await subject.notifier.send(message())
    assert subject.received() == []


# --- SMTP only -----------------------------------------------------------------------


async def test_smtp_builds_a_complete_plain_text_utf8_message(catcher: MailCatcher) -> None:
    await smtp_notifier(catcher.port).send(message())

    [received] = catcher.messages
    assert received["From"] == MAIL_FROM
    assert received["To"] == "alice@example.com"
    assert received["Subject"] == "Verify your email address"
    assert received["Date"].datetime.tzinfo is not None
    assert received["Message-ID"].endswith("@hexahub.test>")
    assert received.get_content_type() == "text/plain"
    assert received.get_content_charset() == "utf-8"
    assert not received.is_multipart()
    assert LINK in received.get_content()
    assert catcher.envelopes == [("no-reply@hexahub.test", ["alice@example.com"])]


async def test_each_smtp_message_gets_its_own_message_id(catcher: MailCatcher) -> None:
    notifier = smtp_notifier(catcher.port)
    await notifier.send(message())
    await notifier.send(message())
    first, second = catcher.messages
    assert first["Message-ID"] != second["Message-ID"]


async def test_smtp_server_down_raises_and_logs_only_the_error_class() -> None:
    notifier = smtp_notifier(free_port(), username="hexahub", password=SECRET_PASSWORD)
    with capture_logs() as logs, pytest.raises(NotifierUnavailableError) as raised:
        await notifier.send(message())

    assert isinstance(raised.value.__cause__, OSError)
    assert logs == [
        {
            "event": "smtp_send_failed",
            "error": type(raised.value.__cause__).__name__,
            "log_level": "warning",
        }
    ]
    assert SECRET_PASSWORD not in str(logs)
    assert LINK not in str(logs)


async def test_a_server_that_never_answers_times_out_as_unavailable() -> None:
    connections: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)  # keep it open and say nothing, not even a greeting

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(NotifierUnavailableError) as raised:
            await smtp_notifier(port, timeout=0.2).send(message())
        assert isinstance(raised.value.__cause__, TimeoutError)
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


def _authenticator(
    server: object, session: object, envelope: object, mechanism: str, auth_data: object
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"hexahub"
        and auth_data.password == SECRET_PASSWORD.encode()
    )
    # handled=False: aiosmtpd then replies 535 itself (its default assumes we did).
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    # `mail_catcher` once conftest registers tests.mail_catcher as a plugin.
    with MailCatcher() as server:
        yield server


@pytest.fixture
def auth_catcher() -> Iterator[MailCatcher]:
    # auth_require_tls=False: the test server has no certificate; production relays
    # should be reached with starttls or use_tls.
    with MailCatcher(
        authenticator=_authenticator, auth_required=True, auth_require_tls=False
    ) as catcher:
        yield catcher


@auth_without_tls
async def test_smtp_authenticates_with_username_and_password(auth_catcher: MailCatcher) -> None:
    notifier = smtp_notifier(auth_catcher.port, username="hexahub", password=SECRET_PASSWORD)
    await notifier.send(message())
    assert [m["To"] for m in auth_catcher.messages] == ["alice@example.com"]


@auth_without_tls
async def test_smtp_wrong_password_is_unavailable_and_not_logged(
    auth_catcher: MailCatcher,
) -> None:
    notifier = smtp_notifier(auth_catcher.port, username="hexahub", password="wrong-password")
    with capture_logs() as logs, pytest.raises(NotifierUnavailableError):
        await notifier.send(message())
    assert auth_catcher.messages == []
    assert [entry["error"] for entry in logs] == ["SMTPAuthenticationError"]
    assert "wrong-password" not in str(logs)


@auth_without_tls
async def test_smtp_without_credentials_is_refused_by_a_server_requiring_auth(
    auth_catcher: MailCatcher,
) -> None:
    with pytest.raises(NotifierUnavailableError):
        await smtp_notifier(auth_catcher.port).send(message())
    assert auth_catcher.messages == []


async def test_starttls_never_falls_back_to_plain_text(catcher: MailCatcher) -> None:
    # The catcher offers no STARTTLS: the mail must not go out in clear instead.
    with pytest.raises(NotifierUnavailableError):
        await smtp_notifier(catcher.port, starttls=True).send(message())
    assert catcher.messages == []


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"starttls": True, "use_tls": True}, "exclusive"),
        ({"username": "hexahub"}, "together"),
        ({"password": "secret"}, "together"),
        ({"mail_from": "HexaHub"}, "address"),
    ],
)
def test_contradictory_smtp_settings_are_refused(
    options: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        smtp_notifier(25, **options)


def test_the_smtp_password_is_not_in_the_notifier_repr() -> None:
    notifier = smtp_notifier(25, username="hexahub", password=SECRET_PASSWORD)
    assert SECRET_PASSWORD not in repr(notifier)


async def test_a_header_injection_attempt_is_refused_before_connecting() -> None:
    # Nothing listens on the port: a ValueError (not Unavailable) proves the refusal
    # happened while building the message, before any SMTP traffic.
    with pytest.raises(ValueError, match="linefeed"):
        await smtp_notifier(free_port()).send(message(subject="Hi\r\nBcc: eve@example.com"))


# --- Console -------------------------------------------------------------------------


async def test_console_prints_recipient_subject_and_body_when_asked() -> None:
    stream = io.StringIO()
    with capture_logs() as logs:
        await ConsoleNotifier(show_body=True, stream=stream).send(message())

    printed = stream.getvalue()
    assert "To: alice@example.com" in printed
    assert "Subject: Verify your email address" in printed
    assert LINK in printed
    assert logs == []  # never through the structured log


async def test_console_hides_the_body_unless_asked() -> None:
    stream = io.StringIO()
    with capture_logs() as logs:
        await ConsoleNotifier(show_body=False, stream=stream).send(message())

    printed = stream.getvalue()
    assert "To: alice@example.com" in printed
    assert "Subject: Verify your email address" in printed
    assert "x" * 120 not in printed
    assert "body hidden" in printed
    assert logs == []


async def test_console_writes_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    await ConsoleNotifier(show_body=True).send(message())
    assert LINK in capsys.readouterr().out


async def test_smtp_sends_an_internationalised_domain_in_its_ascii_form(
    catcher: MailCatcher,
) -> None:
    await smtp_notifier(catcher.port).send(message(to="ada@bücher.example"))

    [received] = catcher.messages
    assert received["To"] == "ada@xn--bcher-kva.example"
    assert catcher.envelopes == [("no-reply@hexahub.test", ["ada@xn--bcher-kva.example"])]
