"""Proving an email address, and resetting a forgotten password, by mailed tokens."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from application.audit import Auditor
from application.errors import InvalidOneTimeTokenError
from application.mail_templates import MailComposer
from application.passwords import PasswordRules
from application.ports.clock import Clock
from application.ports.email_normaliser import EmailNormaliser
from application.ports.event_publisher import EventPublisher
from application.ports.id_generator import IdGenerator
from application.ports.password_hasher import PasswordHasher
from application.ports.token_service import RefreshTokenGenerator
from application.ports.unit_of_work import UnitOfWork
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.revocation import SessionRevoker, revoke_user_sessions
from application.security import Principal
from application.throttle import Throttle
from domain.errors import InvalidValueError
from domain.mail import MailMessage, OutboxMail
from domain.one_time_tokens import OneTimeToken, TokenPurpose
from domain.user import User


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


class _MailingUseCase:
    """Shared plumbing: issue a token, queue its mail in the same transaction."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tokens: RefreshTokenGenerator,
        composer: MailComposer,
        ids: IdGenerator,
        clock: Clock,
        policy: OneTimeTokenPolicy,
        wake_mailer: Callable[[], None],
        throttle: Throttle | None = None,
    ) -> None:
        self._throttle = throttle
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._composer = composer
        self._ids = ids
        self._clock = clock
        self._policy = policy
        self._wake_mailer = wake_mailer

    async def _issue(
        self,
        uow: UnitOfWork,
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


class RequestEmailVerification(_MailingUseCase):
    """Mail the caller a single-use link proving their address (valid 24 h by default).
    The token is bound to the address: changing the email kills it. Already verified:
    nothing is sent. Needs a login session, and mails to one address are rate limited
    (nobody floods someone else's inbox by setting it as their email)."""

    async def execute(self, principal: Principal) -> None:
        principal.require_session()
        await self.send_to(principal.user_id)

    async def send_to(self, user_id: UUID) -> None:
        """Also used right after registration when logins require a verified address:
        such a user cannot log in to ask for the link."""
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id)
            if user is None or user.is_verified:
                return
            if self._throttle is not None:
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


class RequestPasswordReset(_MailingUseCase):
    """Mail a single-use reset link (valid 1 h by default) to an active account's
    address. Unknown or inactive addresses get nothing, and the caller's answer does not
    depend on which: `admit` (rate limits per client and per address) is all the caller
    waits for; `execute` runs after the answer. The token is bound to the current
    password hash, so it dies when the password changes by any path. Every spelling of
    one mailbox (case, Unicode form, IDNA form of the domain) is the same address, for
    the lookup and for its mail budget."""

    def __init__(self, *args: Any, emails: EmailNormaliser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._emails = emails

    async def admit(self, email: str) -> None:
        if self._throttle is not None:
            try:
                budget = self._emails.normalise(email).value
            except InvalidValueError:
                budget = email  # nothing will be sent, but the client still pays
            await self._throttle.password_reset(budget)

    async def execute(self, email: str) -> None:
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


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyEmailCommand:
    token: str = field(repr=False)


class VerifyEmail:
    """Redeem a verification token: the account's address is verified. The token must
    be unused, unexpired, and issued for the address the account has now."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tokens: RefreshTokenGenerator,
        clock: Clock,
        events: EventPublisher,
        auditor: Auditor,
    ) -> None:
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._clock = clock
        self._events = events
        self._auditor = auditor

    async def execute(self, command: VerifyEmailCommand) -> User:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            record, user = await redeem(
                uow, self._tokens.digest(command.token), TokenPurpose.VERIFY_EMAIL, now
            )
            if record.binding != binding_of(user.email.value):
                raise InvalidOneTimeTokenError()
            user.verify_email(now=now)
            await uow.users.update(user)
            events = await self._auditor.commit(uow, user, actor_id=user.id)
        await self._events.publish(events)
        return user


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetPasswordCommand:
    token: str = field(repr=False)
    new_password: str = field(repr=False)


class ResetPassword:
    """Redeem a reset token with a new password.

    - The token must be unused, unexpired, issued for the current password and email,
      and the account still active.
    - The new password meets the password rules; every session of the account ends,
      and a lockout is lifted (the owner of the mailbox proved who they are).
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tokens: RefreshTokenGenerator,
        hasher: PasswordHasher,
        password_rules: PasswordRules,
        revoker: SessionRevoker,
        clock: Clock,
        events: EventPublisher,
        auditor: Auditor,
    ) -> None:
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._hasher = hasher
        self._rules = password_rules
        self._revoker = revoker
        self._clock = clock
        self._events = events
        self._auditor = auditor

    async def execute(self, command: ResetPasswordCommand) -> None:
        digest = self._tokens.digest(command.token)
        async with self._uow_factory() as uow:  # check first: no hash for a bad token
            record = await uow.one_time_tokens.get(digest)
            user = await uow.users.get(record.user_id) if record else None
        if record is None or user is None or record.purpose is not TokenPurpose.RESET_PASSWORD:
            raise InvalidOneTimeTokenError()
        self._rules.check(
            command.new_password,
            email=user.email.value,
            username=user.username.value,
            field="new_password",
        )
        new_hash = await self._hasher.hash(command.new_password)

        now = self._clock.now()
        async with self._uow_factory() as uow:
            record, user = await redeem(uow, digest, TokenPurpose.RESET_PASSWORD, now)
            if not user.is_active or record.binding != reset_binding(user):
                raise InvalidOneTimeTokenError()
            user.reset_password(new_hash, now=now)
            await uow.users.update(user)
            revoked = await revoke_user_sessions(
                uow.sessions, user.id, now=now, reason="password_reset"
            )
            events = await self._auditor.commit(uow, user, *revoked, actor_id=user.id)
        await self._revoker.announce([s.id for s in revoked])
        await self._events.publish(events)


async def redeem(
    uow: UnitOfWork, digest: str, purpose: TokenPurpose, now: datetime
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
