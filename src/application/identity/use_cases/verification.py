"""Proving an email address, and resetting a forgotten password, by mailed tokens."""

from dataclasses import dataclass, field

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import InvalidOneTimeTokenError
from application.identity.one_time_mail import OneTimeMail, binding_of, redeem, reset_binding
from application.identity.passwords import PasswordRules
from application.identity.revocation import revoke_user_sessions
from application.identity.throttle import Throttle
from application.ports.password_hasher import PasswordHasher
from domain.identity.one_time_tokens import TokenPurpose
from domain.identity.user import User


@dataclass(frozen=True, slots=True)
class RequestEmailVerification:
    """Mail the caller a single-use link proving their address (valid 24 h by default).
    The token is bound to the address: changing the email kills it. Already verified:
    nothing is sent. Needs a login session, and mails to one address are rate limited
    (nobody floods someone else's inbox by setting it as their email)."""

    mail: OneTimeMail

    async def execute(self, principal: Principal) -> None:
        principal.require_session()
        await self.mail.send_verification(principal.user_id)


@dataclass(frozen=True, slots=True)
class RequestPasswordReset:
    """Mail a single-use reset link (valid 1 h by default) to an active account's
    address. Unknown or inactive addresses get nothing, and the caller's answer does not
    depend on which: `admit` (rate limits per client and per address) is all the caller
    waits for; `execute` runs after the answer. The token is bound to the current
    password hash, so it dies when the password changes by any path. Every spelling of
    one mailbox is the same address, for the lookup and for its mail budget."""

    mail: OneTimeMail
    throttle: Throttle

    async def admit(self, email: str) -> None:
        await self.throttle.password_reset(self.mail.mailbox(email))

    async def execute(self, email: str) -> None:
        await self.mail.send_reset(email)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyEmailCommand:
    token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class VerifyEmail(Transactional):
    """Redeem a verification token: the account's address is verified. The token must
    be unused, unexpired, and issued for the address the account has now."""

    mail: OneTimeMail

    async def execute(self, command: VerifyEmailCommand) -> User:
        now = self.clock.now()
        async with self.uow_factory() as uow:
            record, user = await redeem(
                uow, self.mail.digest(command.token), TokenPurpose.VERIFY_EMAIL, now
            )
            if record.binding != binding_of(user.email.value):
                raise InvalidOneTimeTokenError()
            user.verify_email(now=now)
            await uow.users.update(user)
            await uow.commit(actor_id=user.id)
        return user


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetPasswordCommand:
    token: str = field(repr=False)
    new_password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ResetPassword(Transactional):
    """Redeem a reset token with a new password.

    - The token must be unused, unexpired, issued for the current password and email,
      and the account still active.
    - The new password meets the password rules; every session of the account ends,
      and a lockout is lifted (the owner of the mailbox proved who they are).
    """

    mail: OneTimeMail
    hasher: PasswordHasher
    password_rules: PasswordRules

    async def execute(self, command: ResetPasswordCommand) -> None:
        digest = self.mail.digest(command.token)
        async with self.uow_factory() as uow:  # check first: no hash for a bad token
            record = await uow.one_time_tokens.get(digest)
            user = await uow.users.get(record.user_id) if record else None
        if record is None or user is None or record.purpose is not TokenPurpose.RESET_PASSWORD:
            raise InvalidOneTimeTokenError()
        self.password_rules.check(
            command.new_password,
            email=user.email.value,
            username=user.username.value,
            field="new_password",
        )
        new_hash = await self.hasher.hash(command.new_password)

        now = self.clock.now()
        async with self.uow_factory() as uow:
            record, user = await redeem(uow, digest, TokenPurpose.RESET_PASSWORD, now)
            if not user.is_active or record.binding != reset_binding(user):
                raise InvalidOneTimeTokenError()
            user.reset_password(new_hash, now=now)
            await uow.users.update(user)
            await revoke_user_sessions(uow.sessions, user.id, now=now, reason="password_reset")
            await uow.commit(actor_id=user.id)
