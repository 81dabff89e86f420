"""Telling an account's old address that what it signs in or recovers with changed."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from application.mail.templates import MailComposer
from application.ports.id_generator import IdGenerator
from application.ports.transaction import Transaction
from domain.identity.user import User
from domain.identity.value_objects import Email, Username
from domain.mail.messages import OutboxMail


@dataclass(frozen=True, slots=True)
class LoginNames:
    """The email and username an account had before a change."""

    email: Email
    username: Username

    @classmethod
    def of(cls, user: User) -> "LoginNames":
        return cls(user.email, user.username)

    def changed_by(self, email: Email | None, username: Username | None) -> bool:
        """Whether setting these would change what sign-in or recovery rests on."""
        return (email is not None and email != self.email) or (
            username is not None and username != self.username
        )


class ChangeNotices:
    """Queues the notice (OWASP ASVS 5.0 V6.3.7) in the caller's transaction, so it goes
    out if and only if the change commits; `wake` starts the dispatcher after commit."""

    def __init__(self, composer: MailComposer, ids: IdGenerator, wake: Callable[[], None]) -> None:
        self._composer = composer
        self._ids = ids
        self.wake = wake

    async def queue(self, uow: Transaction, before: LoginNames, user: User, now: datetime) -> bool:
        """Queue a notice to `before.email` if the email or username changed; whether
        one was queued."""
        lines = []
        if user.email != before.email:
            lines.append(f"email address changed from {before.email.value} to {user.email.value}")
        if user.username != before.username:
            lines.append(f"username changed from {before.username.value} to {user.username.value}")
        if not lines:
            return False
        message = self._composer.account_changed(
            before.email.value, username=before.username.value, changes=lines, when=now
        )
        await uow.outbox.add(OutboxMail(id=self._ids.new_id(), message=message, created_at=now))
        return True
