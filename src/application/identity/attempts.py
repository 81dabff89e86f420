"""Counting password checks towards a lockout, for every path that checks a password.

Each attempt is counted *before* its check (so parallel guesses can never get more than
the threshold checked) and settled after: a wrong password keeps the count and may lock
the account; a right one clears it; a check that never finished hands it back.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn
from uuid import UUID

from application.ports.clock import Clock
from application.ports.password_hasher import PasswordHasher
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.events import LoginFailed
from domain.user import User


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
