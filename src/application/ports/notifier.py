from abc import abstractmethod
from typing import Protocol

from domain.mail.messages import MailMessage


class Notifier(Protocol):
    """Delivers one mail. Raises `NotifierUnavailableError` when it could not, so the
    outbox keeps the mail and tries again later."""

    @abstractmethod
    async def send(self, message: MailMessage) -> None: ...
