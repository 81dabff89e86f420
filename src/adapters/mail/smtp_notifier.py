from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib
import structlog

from adapters.emails.normaliser import with_ascii_domain
from application.errors import NotifierUnavailableError
from application.ports.notifier import Notifier
from domain.mail.messages import MailMessage

log = structlog.get_logger()

# aiosmtplib raises its own SMTPException family for protocol replies and most socket
# trouble (its timeout and disconnect errors also subclass TimeoutError and
# ConnectionError), but a refused TLS handshake or a DNS failure can surface raw.
_UNAVAILABLE = (aiosmtplib.SMTPException, OSError, TimeoutError)


class SmtpNotifier(Notifier):
    """Sends each mail over its own SMTP connection with aiosmtplib.

    TLS is explicit, never guessed: `use_tls` is implicit TLS from the first byte (port
    465, RFC 8314 §3.3); `starttls` upgrades a plain connection and *fails* when the
    server does not offer STARTTLS rather than carrying on in clear (RFC 3207 §4 leaves
    that choice to the client; a silent downgrade would expose the password). With both
    off, the connection stays plain: only for a relay on a trusted network (localhost,
    a dev mail catcher).

    Any failure to hand the mail over (refused connection, timeout, TLS, authentication,
    a rejected recipient) raises `NotifierUnavailableError`, so the outbox keeps the
    mail and retries it. The warning logged then names the error class only: server
    replies can echo addresses or credentials, and the body holds one-time links.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        starttls: bool,
        use_tls: bool = False,
        mail_from: str,
        timeout: float = 10,
    ) -> None:
        if starttls and use_tls:
            raise ValueError("starttls and use_tls are exclusive: pick STARTTLS or implicit TLS")
        if (username is None) != (password is None):
            raise ValueError("username and password are given together or not at all")
        envelope_from = parseaddr(mail_from)[1]
        if "@" not in envelope_from:
            raise ValueError("mail_from needs an address, e.g. 'HexaHub <no-reply@example.com>'")
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._starttls = starttls
        self._use_tls = use_tls
        self._mail_from = mail_from
        self._envelope_from = envelope_from
        # make_msgid() would otherwise call socket.getfqdn(), a blocking DNS lookup.
        self._msgid_domain = envelope_from.rpartition("@")[2]
        self._timeout = timeout

    async def send(self, message: MailMessage) -> None:
        email = self._build(message)
        try:
            await aiosmtplib.send(
                email,
                sender=self._envelope_from,
                recipients=[with_ascii_domain(message.to)],
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._use_tls,
                # False, not None: None would let aiosmtplib upgrade opportunistically,
                # and then fail on a self-signed dev certificate the operator opted out of.
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except _UNAVAILABLE as error:
            log.warning("smtp_send_failed", error=type(error).__name__)
            raise NotifierUnavailableError() from error

    def _build(self, message: MailMessage) -> EmailMessage:
        email = EmailMessage()  # policy.default: refuses CR/LF in headers (no injection)
        email["From"] = self._mail_from
        # Stored addresses keep an internationalised domain in Unicode; on the wire it
        # is IDNA, which every server accepts (RFC 5890 §2.3.2.1).
        email["To"] = with_ascii_domain(message.to)
        email["Subject"] = message.subject
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = make_msgid(domain=self._msgid_domain)
        # Quoted-printable keeps the body 7-bit clean through any relay (no reliance on
        # 8BITMIME) and soft-wraps long links without changing them (RFC 2045 §6.7).
        email.set_content(message.text, charset="utf-8", cte="quoted-printable")
        return email
