from dataclasses import dataclass, field
from typing import NoReturn
from uuid import UUID

from application.common.security import Principal
from application.errors import (
    ConcurrentUpdateError,
    InvalidCurrentPasswordError,
    InvalidMfaCodeError,
    MfaNotEnabledError,
)
from application.identity.attempts import Guarded
from application.identity.mfa_codes import redeem
from application.ports.password_hasher import PasswordHasher
from application.ports.totp import TotpEngine
from domain.identity.user import User


@dataclass(frozen=True, slots=True, kw_only=True)
class DisableTotpCommand:
    current_password: str = field(repr=False)
    code: str = field(repr=False)
    """A code from the app, or an unused recovery code."""


@dataclass(frozen=True, slots=True)
class DisableTotp(Guarded):
    """Turn two-factor authentication off.

    - Needs a login session, the account's password and a valid code (from the app or
      a recovery code): a stolen access token alone cannot remove the second factor.
    - MFA not on: `conflict`.
    - A wrong password (`bad_request`, detail type `invalid_current_password`) or a wrong,
      stale or replayed code (`bad_request`, detail type `invalid_mfa_code`) is refused,
      counts towards the account lockout like a wrong password, and is audited. The code
      is only looked at once the password was right.
    - The factor and its recovery codes are deleted; the change is audited.
    """

    hasher: PasswordHasher
    engine: TotpEngine

    async def execute(self, principal: Principal, command: DisableTotpCommand) -> None:
        user_id = await self.own_account(principal)
        async with self.uow_factory() as uow:
            user = await uow.users.get(user_id)
            factor = await uow.mfa.get(user_id)
        if user is None:
            raise ConcurrentUpdateError()  # deleted while this request ran
        if factor is None or not factor.is_enabled:
            raise MfaNotEnabledError()
        old_hash = user.password_hash
        if old_hash is None:
            raise InvalidCurrentPasswordError()
        attempt = await self.attempts.reserve(user_id)
        if attempt is None:  # locked: a stolen token must not become a guessing oracle
            await self._refuse(user_id, None, "mfa_disable_locked", InvalidCurrentPasswordError)
        try:
            right = await self.hasher.verify(old_hash, command.current_password)
            disabled = right and await self._disable(user_id, old_hash, command.code)
        except BaseException:
            # Counted but never judged: hand the attempt back (see PasswordAttempts).
            await self.attempts.settle(user_id, User.release_failed_login)
            raise
        if not right:
            reason = "mfa_disable_wrong_password"
            await self._refuse(user_id, attempt, reason, InvalidCurrentPasswordError)
        if not disabled:
            await self._refuse(user_id, attempt, "mfa_disable_invalid_code", InvalidMfaCodeError)

    async def _disable(self, user_id: UUID, old_hash: str, code: str) -> bool:
        """Turn MFA off; False (nothing written) for a wrong code."""
        async with self.uow_factory() as uow:
            user = await uow.users.get(user_id, for_update=True)
            if user is None or user.password_hash != old_hash:
                raise ConcurrentUpdateError()
            factor = await uow.mfa.get(user_id, for_update=True)
            if factor is None or not factor.is_enabled:
                raise MfaNotEnabledError()
            now = self.clock.now()
            if redeem(factor, code, self.engine, now) is None:
                return False
            factor.disable(now=now)
            await uow.mfa.delete(user_id)
            user.release_failed_login()  # right password and code: the attempt goes back
            await uow.users.update(user)
            await uow.commit(actor_id=user_id)
        return True

    async def _refuse(
        self,
        user_id: UUID,
        attempt: int | None,
        reason: str,
        error: type[InvalidCurrentPasswordError] | type[InvalidMfaCodeError],
    ) -> NoReturn:
        await self.attempts.failed(
            user_id, attempt=attempt, reason=reason, refuse=error, actor_id=user_id
        )
