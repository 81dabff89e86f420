import sys
from typing import TextIO

from application.ports.notifier import Notifier
from domain.mail.messages import MailMessage

_RULE = "-" * 72


class ConsoleNotifier(Notifier):
    """Development notifier: prints each mail as a readable block on `stream`.

    Deliberately not the structured log: bodies carry one-time links (verification,
    password reset), and log lines are shipped, indexed and kept far longer than a
    terminal's scrollback. `show_body=False` prints only the envelope, for when even the
    terminal is shared. Never unavailable.
    """

    def __init__(self, *, show_body: bool, stream: TextIO | None = None) -> None:
        self._show_body = show_body
        # Resolved per instance, not bound at import: pytest's capsys swaps sys.stdout.
        self._stream = stream if stream is not None else sys.stdout

    async def send(self, message: MailMessage) -> None:
        lines = [_RULE, f"To: {message.to}", f"Subject: {message.subject}", ""]
        if self._show_body:
            lines.append(message.text.rstrip("\n"))
        else:
            lines.append("(body hidden: set show_body to print it)")
        lines.append(_RULE)
        self._stream.write("\n".join(lines) + "\n")
        self._stream.flush()
