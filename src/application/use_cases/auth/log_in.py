from dataclasses import dataclass, field
from datetime import timedelta

from application.attempts import LockoutPolicy, PasswordAttempts
from application.audit import Auditor
from application.errors import EmailNotVerifiedError, InvalidCredentialsError, MfaRequiredError
from application.ports.clock import Clock
from application.ports.email_normaliser import EmailNormaliser
from application.ports.event_publisher import EventPublisher
from application.ports.id_generator import IdGenerator
from application.ports.password_hasher import PasswordHasher
from application.ports.token_service import MfaTokenService
from application.ports.unit_of_work import UnitOfWork
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.sessions import SessionOpener
from application.throttle import Throttle
from application.tokens import TokenMinter, TokenPair
from domain.errors import InvalidValueError
from domain.events import DomainEvent, LoginFailed
from domain.user import User
from domain.value_objects import Email, Username


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginPolicy:
    lockout_threshold: int = 10
    lockout_base: timedelta = timedelta(minutes=1)
    lockout_ceiling: timedelta = timedelta(hours=1)
    require_verified_email: bool = False

    @property
    def lockout(self) -> LockoutPolicy:
        return LockoutPolicy(
            threshold=self.lockout_threshold, base=self.lockout_base, ceiling=self.lockout_ceiling
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LogInCommand:
    login: str
    """A username or an email address."""
    password: str = field(repr=False)
    ip: str | None = None
    user_agent: str | None = None


class LogIn:
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

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        minter: TokenMinter,
        ids: IdGenerator,
        clock: Clock,
        events: EventPublisher,
        auditor: Auditor,
        policy: LoginPolicy | None = None,
        throttle: Throttle | None = None,
        mfa_tokens: MfaTokenService | None = None,
        *,
        emails: EmailNormaliser,
    ) -> None:
        self._throttle = throttle
        self._emails = emails
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._opener = SessionOpener(minter, ids, clock)
        self._mfa_tokens = mfa_tokens
        self._clock = clock
        self._events = events
        self._auditor = auditor
        self._policy = policy or LoginPolicy()
        self._attempts = PasswordAttempts(uow_factory, clock, events, auditor, self._policy.lockout)

    async def execute(self, command: LogInCommand) -> TokenPair:
        if self._throttle is not None:
            await self._throttle.login_client()
        # A second round only when the stored hash changed while we checked it (another
        # login upgrading it, say): the password is then verified against the new hash.
        for _ in range(2):
            user = await self._verified_user(command)
            upgraded = None
            if self._hasher.needs_rehash(user.password_hash or ""):
                upgraded = await self._hasher.hash(command.password)
            pair = await self._open_session(user, command, upgraded)
            if pair is not None:
                return pair
        raise InvalidCredentialsError()

    async def _verified_user(self, command: LogInCommand) -> User:
        user = await self._find(command.login)
        if self._throttle is not None:
            # Keyed on the account, not the spelling: username and email share a budget.
            await self._throttle.login_account(str(user.id) if user else command.login)
        if user is None or user.password_hash is None:
            await self._hasher.verify_dummy(command.password)
            await self._attempts.failed(
                user.id if user else None,
                attempt=None,
                reason="invalid_credentials",
                refuse=InvalidCredentialsError,
            )
        attempt = await self._attempts.reserve(user.id)
        if attempt is None:  # locked, or its budget of guesses is in flight
            await self._hasher.verify_dummy(command.password)
            await self._attempts.failed(
                user.id, attempt=None, reason="locked", refuse=InvalidCredentialsError
            )
        try:
            right = await self._hasher.verify(user.password_hash, command.password)
        except BaseException:
            # Counted but never judged (a busy hasher, a cancelled request): hand the
            # attempt back, or such errors would add up to a lock nobody earned.
            await self._attempts.settle(user.id, User.release_failed_login)
            raise
        if not right:
            await self._attempts.failed(
                user.id,
                attempt=attempt,
                reason="invalid_credentials",
                refuse=InvalidCredentialsError,
            )
        # From here on the password was right: it must not count towards a lockout,
        # whatever refuses the login next (a successful login resets it itself).
        if not user.is_active:
            await self._attempts.settle(user.id, User.clear_failed_logins)
            await self._attempts.failed(
                user.id, attempt=None, reason="inactive", refuse=InvalidCredentialsError
            )
        if self._policy.require_verified_email and not user.is_verified:
            await self._attempts.settle(user.id, User.clear_failed_logins)
            await self._attempts.failed(
                user.id, attempt=None, reason="email_not_verified", refuse=EmailNotVerifiedError
            )
        return user

    async def _open_session(
        self, user: User, command: LogInCommand, upgraded: str | None
    ) -> TokenPair | None:
        """Write the session; None when the password hash changed meanwhile. With a
        second factor on, write only the hash upgrade and the audit row, and refuse."""
        outcome: TokenPair | MfaRequiredError
        async with self._uow_factory() as uow:
            current = await uow.users.get(user.id, for_update=True)
            if current is None or not current.is_active:
                raise InvalidCredentialsError()
            if current.password_hash != user.password_hash:
                return None
            if upgraded is not None:
                current.upgrade_password_hash(upgraded)
            if await self._has_second_factor(uow, current):
                outcome, events = await self._challenge(uow, current)
            else:
                outcome = await self._opener.open(
                    uow, current, ip=command.ip, user_agent=command.user_agent
                )
                events = await self._auditor.commit(uow, current, actor_id=current.id)
        await self._events.publish(events)
        if isinstance(outcome, MfaRequiredError):
            raise outcome
        return outcome

    async def _has_second_factor(self, uow: UnitOfWork, user: User) -> bool:
        factor = await uow.mfa.get(user.id)
        return factor is not None and factor.is_enabled

    async def _challenge(
        self, uow: UnitOfWork, user: User
    ) -> tuple[MfaRequiredError, list[DomainEvent]]:
        if self._mfa_tokens is None:
            # A wiring mistake must never turn into a login without the second factor.
            raise RuntimeError("MFA is on for this account but LogIn has no mfa_tokens")
        # Released, not cleared: failed codes before this password stay counted
        # (OWASP MFA Cheat Sheet: limit second-factor attempts per account).
        user.release_failed_login()
        await uow.users.update(user)
        refused = LoginFailed(occurred_at=self._clock.now(), user_id=user.id, reason="mfa_required")
        events = await self._auditor.commit(uow, user, actor_id=None, events=[refused])
        return MfaRequiredError(self._mfa_tokens.issue_mfa_token(user.id)), events

    async def _find(self, login: str) -> User | None:
        try:
            key: Email | Username = (
                self._emails.normalise(login) if "@" in login else Username(login)
            )
        except InvalidValueError:
            return None
        async with self._uow_factory() as uow:
            if isinstance(key, Email):
                return await uow.users.get_by_email(key)
            return await uow.users.get_by_username(key)
