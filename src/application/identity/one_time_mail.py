"""Single-use tokens sent by mail (email verification, password reset): issuing them with
their mail in one transaction, and redeeming them."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from application.errors import InvalidOneTimeTokenError
from application.identity.throttle import Throttle
from application.mail.templates import MailComposer
from application.ports.clock import Clock
from application.ports.email_normaliser import EmailNormaliser
from application.ports.id_generator import IdGenerator
from application.ports.token_service import RefreshTokenGenerator
from application.ports.transaction import Transaction
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.common.errors import InvalidValueError
from domain.identity.one_time_tokens import OneTimeToken, TokenPurpose
from domain.identity.user import User
from domain.mail.messages import MailMessage, OutboxMail


@dataclass(frozen=True, slots=True, kw_only=True)
class OneTimeTokenPolicy:
    verification_ttl: timedelta = timedelta(hours=24)
    reset_ttl: timedelta = timedelta(hours=1)


def binding_of(value: str) -> str:
    """A digest of the account state a token is bound to."""
    return hashlib.sha256(value.encode()).hexdigest()


def reset_binding(user: User) -> str:
    """A reset link is for this password *and* this mailbox: changing either kills it
    (a link sent to an address the owner just moved away from must not still work)."""
    return binding_of(f"{user.email.value}\n{user.password_hash or ''}")


class OneTimeMail:
    """Issues a token and queues its mail in the same transaction, then wakes the mail
    dispatcher. Mails to one address share a rate limit, so nobody floods someone
    else's inbox by setting it as their email."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tokens: RefreshTokenGenerator,
        composer: MailComposer,
        ids: IdGenerator,
        clock: Clock,
        policy: OneTimeTokenPolicy,
        throttle: Throttle,
        wake_mailer: Callable[[], None],
        emails: EmailNormaliser,
    ) -> None:
        self._emails = emails
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._composer = composer
        self._ids = ids
        self._clock = clock
        self._policy = policy
        self._throttle = throttle
        self._wake_mailer = wake_mailer

    def mailbox(self, email: str) -> str:
        """The one spelling of `email`'s mailbox (case, Unicode form, IDNA form of the
        domain), so every spelling shares one mail budget; text that is no address is
        kept as typed (nothing will be sent to it, but the client still pays)."""
        try:
            return self._emails.normalise(email).value
        except InvalidValueError:
            return email

    def digest(self, token: str) -> str:
        return self._tokens.digest(token)

    async def send_verification(self, user_id: UUID, *, limited: bool = True) -> None:
        """A link proving the account's address, bound to it; nothing when the account
        is gone or already verified. `limited=False` for the mail a registration sends
        (the registration itself is rate limited, and the address is new)."""
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id)
            if user is None or user.is_verified:
                return
            if limited:
                await self._throttle.mail_to(user.email.value)
            await self._issue(
                uow,
                user,
                TokenPurpose.VERIFY_EMAIL,
                binding_of(user.email.value),
                self._policy.verification_ttl,
                self._composer.verification,
            )
            await uow.commit()
        self._wake_mailer()

    async def send_reset(self, email: str) -> None:
        """A reset link bound to the current password and address; nothing for an
        unknown, inactive or password-less account."""
        try:
            address = self._emails.normalise(email)
        except InvalidValueError:
            return
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_email(address)
            if user is None or not user.is_active or user.password_hash is None:
                return
            await self._issue(
                uow,
                user,
                TokenPurpose.RESET_PASSWORD,
                reset_binding(user),
                self._policy.reset_ttl,
                self._composer.password_reset,
            )
            await uow.commit()
        self._wake_mailer()

    async def _issue(
        self,
        uow: Transaction,
        user: User,
        purpose: TokenPurpose,
        binding: str,
        ttl: timedelta,
        compose: Callable[[str, str, timedelta], MailMessage],
    ) -> None:
        now = self._clock.now()
        token = self._tokens.new_token()
        await uow.one_time_tokens.add(
            OneTimeToken(
                token_hash=self._tokens.digest(token),
                purpose=purpose,
                user_id=user.id,
                binding=binding,
                created_at=now,
                expires_at=now + ttl,
            )
        )
        await uow.outbox.add(
            OutboxMail(
                id=self._ids.new_id(), message=compose(user.email.value, token, ttl), created_at=now
            )
        )


async def redeem(
    uow: Transaction, digest: str, purpose: TokenPurpose, now: datetime
) -> tuple[OneTimeToken, User]:
    """Claim a token for this transaction: it exists, fits the purpose, is usable, and
    no concurrent request claimed it first. Any failure looks the same."""
    record = await uow.one_time_tokens.get(digest)
    if record is None or record.purpose is not purpose or not record.is_usable(now):
        raise InvalidOneTimeTokenError()
    user = await uow.users.get(record.user_id, for_update=True)
    if user is None or not await uow.one_time_tokens.mark_used(digest, now=now):
        raise InvalidOneTimeTokenError()
    return record, user
