from dataclasses import dataclass, field
from typing import NoReturn

from application.errors import EmailNotVerifiedError, InvalidCredentialsError, MfaRequiredError
from application.identity.attempts import Guarded, LoginPolicy
from application.identity.sessions import SessionOpener
from application.identity.token_pairs import TokenPair
from application.ports.email_normaliser import EmailNormaliser
from application.ports.password_hasher import PasswordHasher
from application.ports.token_service import MfaTokenService
from application.ports.unit_of_work import UnitOfWork
from application.ports.unit_of_work_factory import TransactionFactory
from domain.common.errors import InvalidValueError
from domain.identity.events import LoginFailed
from domain.identity.user import User
from domain.identity.value_objects import Email, Username


@dataclass(frozen=True, slots=True, kw_only=True)
class LogInCommand:
    login: str
    """A username or an email address."""
    password: str = field(repr=False)
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class LogIn(Guarded):
    """Check a password and open a new session with a token pair.

    - `login` may be the username or the email, in any spelling of the mailbox (case,
      Unicode form, IDNA form of the domain).
    - Rate limited per client address and per account name (`rate_limited`).
    - Unknown account, wrong password, inactive, locked and password-less accounts all
      fail the same way (`invalid_credentials`) and cost one hash, so neither the
      answer nor its timing tells which accounts exist or are locked.
    - Lockout: after `lockout_threshold` consecutive failures the account is locked,
      for a period that doubles with each lock (OWASP Authentication Cheat Sheet). Each
      attempt is counted *before* its password is checked, so however many guesses run
      at once, at most `lockout_threshold` of them are checked.
    - With `require_verified_email`, a right password on an unverified account is
      refused with `email_not_verified` (403).
    - When the stored hash uses weaker parameters than today's, it is upgraded.
    - With a confirmed second factor, a right password opens nothing: the login is
      refused with `mfa_required` and a short-lived `mfa_token` for `VerifyMfa`. The
      attempt is handed back but earlier failures stay counted, so re-entering the
      password never buys fresh guesses at the code.
    - The session, the refresh token, `last_login_at` and the audit row are written in
      one transaction; the hash check runs between short transactions, never inside one.
      If the stored hash changed in between (a concurrent upgrade), the password is
      checked again against the new hash rather than refused.
    """

    hasher: PasswordHasher
    opener: SessionOpener
    mfa_tokens: MfaTokenService
    policy: LoginPolicy
    emails: EmailNormaliser
    # The account is looked up in a read-only transaction: it takes no write lock, so
    # on SQLite a login does not queue behind other writers just to find its user.
    reads: TransactionFactory

    async def execute(self, command: LogInCommand) -> TokenPair:
        await self.throttle.login_client()
        # A second round only when the stored hash changed while we checked it (another
        # login upgrading it, say): the password is then verified against the new hash.
        for _ in range(2):
            user = await self._verified_user(command)
            upgraded = None
            if self.hasher.needs_rehash(user.password_hash or ""):
                upgraded = await self.hasher.hash(command.password)
            pair = await self._open_session(user, command, upgraded)
            if pair is not None:
                return pair
        raise InvalidCredentialsError()

    async def _verified_user(self, command: LogInCommand) -> User:
        user = await self._find(command.login)
        # Keyed on the account, not the spelling: username and email share a budget.
        await self.throttle.login_account(str(user.id) if user else command.login)
        if user is None or user.password_hash is None:
            await self.hasher.verify_dummy(command.password)
            await self.attempts.failed(
                user.id if user else None,
                attempt=None,
                reason="invalid_credentials",
                refuse=InvalidCredentialsError,
            )
        attempt = await self.attempts.reserve(user.id)
        if attempt is None:  # locked, or its budget of guesses is in flight
            await self.hasher.verify_dummy(command.password)
            await self.attempts.failed(
                user.id, attempt=None, reason="locked", refuse=InvalidCredentialsError
            )
        try:
            right = await self.hasher.verify(user.password_hash, command.password)
        except BaseException:
            # Counted but never judged (a busy hasher, a cancelled request): hand the
            # attempt back, or such errors would add up to a lock nobody earned.
            await self.attempts.settle(user.id, User.release_failed_login)
            raise
        if not right:
            await self.attempts.failed(
                user.id,
                attempt=attempt,
                reason="invalid_credentials",
                refuse=InvalidCredentialsError,
            )
        # From here on the password was right: it must not count towards a lockout,
        # whatever refuses the login next (a successful login resets it itself).
        if not user.is_active:
            await self.attempts.settle(user.id, User.clear_failed_logins)
            await self.attempts.failed(
                user.id, attempt=None, reason="inactive", refuse=InvalidCredentialsError
            )
        if self.policy.require_verified_email and not user.is_verified:
            await self.attempts.settle(user.id, User.clear_failed_logins)
            await self.attempts.failed(
                user.id, attempt=None, reason="email_not_verified", refuse=EmailNotVerifiedError
            )
        return user

    async def _open_session(
        self, user: User, command: LogInCommand, upgraded: str | None
    ) -> TokenPair | None:
        """Write the session; None when the password hash changed meanwhile. With a
        second factor on, write only the hash upgrade and the audit row, and refuse."""
        async with self.uow_factory() as uow:
            current = await uow.users.get(user.id, for_update=True)
            if current is None or not current.is_active:
                raise InvalidCredentialsError()
            if current.password_hash != user.password_hash:
                return None
            if upgraded is not None:
                current.upgrade_password_hash(upgraded)
            if await self._has_second_factor(uow, current):
                await self._challenge(uow, current)
            pair = await self.opener.open(
                uow, current, ip=command.ip, user_agent=command.user_agent
            )
            await uow.commit(actor_id=current.id)
        return pair

    async def _has_second_factor(self, uow: UnitOfWork, user: User) -> bool:
        factor = await uow.mfa.get(user.id)
        return factor is not None and factor.is_enabled

    async def _challenge(self, uow: UnitOfWork, user: User) -> NoReturn:
        """Open nothing: commit the attempt handed back and its audit row, and refuse
        with a token for the second step."""
        # Released, not cleared: failed codes before this password stay counted
        # (OWASP MFA Cheat Sheet: limit second-factor attempts per account).
        user.release_failed_login()
        await uow.users.update(user)
        uow.record(
            LoginFailed(occurred_at=self.clock.now(), user_id=user.id, reason="mfa_required")
        )
        await uow.commit()
        raise MfaRequiredError(self.mfa_tokens.issue_mfa_token(user.id))

    async def _find(self, login: str) -> User | None:
        try:
            key: Email | Username = (
                self.emails.normalise(login) if "@" in login else Username(login)
            )
        except InvalidValueError:
            return None
        async with self.reads() as tx:
            if isinstance(key, Email):
                return await tx.users.get_by_email(key)
            return await tx.users.get_by_username(key)
