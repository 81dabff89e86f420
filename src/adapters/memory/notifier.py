import asyncio

from application.errors import NotifierUnavailableError
from application.ports.notifier import Notifier
from domain.mail.messages import MailMessage


class InMemoryNotifier(Notifier):
    """Keeps every mail it "sends" in `sent`, in order, for tests and local runs.

    `fail_next(n)` simulates an outage: the next `n` sends raise
    `NotifierUnavailableError` and record nothing, as a mail server that is down would.
    """

    def __init__(self) -> None:
        self.sent: list[MailMessage] = []
        self.attempts = 0
        self._failures_left = 0

    def fail_next(self, n: int = 1) -> None:
        if n < 0:
            raise ValueError("n must not be negative")
        self._failures_left = n

    async def send(self, message: MailMessage) -> None:
        self.attempts += 1
        # A real send is I/O: yield to the loop, so concurrency tests interleave as in
        # production instead of running each send atomically.
        await asyncio.sleep(0)
        if self._failures_left:
            self._failures_left -= 1
            raise NotifierUnavailableError()
        self.sent.append(message)
