"""Counting password checks towards a lockout, for every path that checks a password.

Each attempt is counted *before* its check (so parallel guesses can never get more than
the threshold checked) and settled after: a wrong password keeps the count and may lock
the account; a right one clears it; a check that never finished hands it back.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn, TypeVar
from uuid import UUID

from application.common.security import Principal
from application.common.use_case import Transactional
from application.identity.throttle import Throttle
from application.ports.clock import Clock
from application.ports.password_hasher import PasswordHasher
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.identity.events import LoginFailed
from domain.identity.user import User

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class LockoutPolicy:
    threshold: int = 10
    base: timedelta = timedelta(minutes=1)
    ceiling: timedelta = timedelta(hours=1)


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


class PasswordAttempts:
    """The one lockout bookkeeping of every password and second-factor check (one per
    service, shared by the use cases that check something)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, policy: LockoutPolicy) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._policy = policy

    async def reserve(self, user_id: UUID) -> int | None:
        """The attempt's number, or None when the account is locked or its budget of
        unanswered attempts is spent (the caller then refuses without checking)."""
        async with self._uow_factory() as uow:
            attempt = await uow.users.reserve_login_attempt(
                user_id, now=self._clock.now(), threshold=self._policy.threshold
            )
            await uow.commit()
        return attempt

    async def counted(
        self,
        user_id: UUID,
        check: Callable[[], Awaitable[T | None]],
        *,
        locked: str,
        wrong: str,
        refuse: Callable[[], Exception],
        actor_id: UUID | None = None,
    ) -> T:
        """Run `check` as one counted attempt on the account: refused without running it
        while the account is locked or its budget of guesses is in flight (audited as
        `locked`); handed back if it never finished; a failure (audited as `wrong`) when
        it answers None; else its answer, the attempt still counted until the caller
        settles it (in its own transaction, or with `settle`)."""
        attempt = await self.reserve(user_id)
        if attempt is None:
            await self.failed(
                user_id, attempt=None, reason=locked, refuse=refuse, actor_id=actor_id
            )
        try:
            outcome = await check()
        except BaseException:
            await self.settle(user_id, User.release_failed_login)
            raise
        if outcome is None:
            await self.failed(
                user_id, attempt=attempt, reason=wrong, refuse=refuse, actor_id=actor_id
            )
        return outcome

    async def failed(
        self,
        user_id: UUID | None,
        *,
        attempt: int | None,
        reason: str,
        refuse: Callable[[], Exception],
        actor_id: UUID | None = None,
    ) -> NoReturn:
        """Record a failed or refused check (and the lock the threshold-th one causes)
        in one audited transaction, then raise `refuse()`. `actor_id` is None for a
        login (nobody is authenticated yet), the caller for a password change."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            uow.record(LoginFailed(occurred_at=now, user_id=user_id, reason=reason))
            if user_id is not None and attempt is not None and attempt >= self._policy.threshold:
                locked = await uow.users.get(user_id, for_update=True)
                if locked is not None and not locked.is_locked(now):
                    locked.lock(now=now, base=self._policy.base, ceiling=self._policy.ceiling)
                    await uow.users.update(locked)
            await uow.commit(actor_id=actor_id)
        raise refuse()

    async def verify_password(
        self,
        hasher: PasswordHasher,
        user: User,
        password: str,
        *,
        reason: str,
        refuse: Callable[[], Exception],
        on_missing: Callable[[], Exception] | None = None,
    ) -> str:
        """Check a signed-in user's password as a counted attempt (a stolen access token
        must not become a guessing oracle). Raises `refuse()` when wrong or locked, and
        `on_missing()` when the account vanished meanwhile. Returns the stored hash the
        password matched, read fresh (the caller's copy of the user may be cached, and
        cached users carry no hash), so a write can check that it did not change since."""
        async with self._uow_factory() as uow:
            stored = await uow.users.get(user.id)
        if stored is None:
            raise (on_missing or refuse)()
        password_hash = stored.password_hash
        if password_hash is None:
            raise refuse()
        attempt = await self.reserve(user.id)
        if attempt is None and on_missing is not None:
            async with self._uow_factory() as uow:
                if await uow.users.get(user.id) is None:
                    raise on_missing()
        if attempt is None:
            await self.failed(user.id, attempt=None, reason=reason, refuse=refuse, actor_id=user.id)
        try:
            right = await hasher.verify(password_hash, password)
        except BaseException:
            await self.settle(user.id, User.release_failed_login)
            raise
        if not right:
            await self.failed(
                user.id, attempt=attempt, reason=reason, refuse=refuse, actor_id=user.id
            )
        # Right: this attempt is handed back, but earlier failures (a wrong MFA code, say,
        # which shares the count) still stand.
        await self.settle(user.id, User.release_failed_login)
        return password_hash

    async def settle(self, user_id: UUID, outcome: Callable[[User], None]) -> None:
        """Apply `User.clear_failed_logins` (a right password) or
        `User.release_failed_login` (a check that never finished)."""
        async with self._uow_factory() as uow:
            current = await uow.users.get(user_id, for_update=True)
            if current is not None:
                outcome(current)
                await uow.users.update(current)
                await uow.commit()


@dataclass(frozen=True, slots=True)
class Guarded(Transactional):
    """A use case that checks something a person typed (a password, a code): besides a
    unit of work and the time, the one lockout bookkeeping and the rate limits."""

    attempts: PasswordAttempts
    throttle: Throttle

    async def own_account(self, principal: Principal) -> UUID:
        """The caller's own account, for a step only a person at a login may take; each
        try spends the account's sign-in budget, like a password login."""
        principal.require_session()
        await self.throttle.login_account(str(principal.user_id))
        return principal.user_id
