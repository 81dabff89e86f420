from dataclasses import dataclass, field

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import ConcurrentUpdateError, InvalidCurrentPasswordError
from application.identity.attempts import PasswordAttempts
from application.identity.passwords import PasswordRules
from application.identity.revocation import revoke_user_sessions
from application.ports.password_hasher import PasswordHasher


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangePasswordCommand:
    current_password: str = field(repr=False)
    new_password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ChangePassword(Transactional):
    """Change one's own password.

    - The current password must be given and right; otherwise a 400 `bad_request` with
      detail type `invalid_current_password` (not a 401: the caller's token is fine).
      Wrong guesses count towards the account lockout and are audited, so a stolen
      access token cannot be used to guess the password.
    - The new one must meet the password policy.
    - Every other session is revoked at once; the calling session stays.
    - If the password changed by another path while this ran, nothing is written
      (`conflict`): the last writer never silently wins over a concurrent change.
    """

    hasher: PasswordHasher
    password_rules: PasswordRules
    attempts: PasswordAttempts

    async def execute(self, principal: Principal, command: ChangePasswordCommand) -> None:
        session_id = principal.require_session()
        self.password_rules.check(
            command.new_password,
            email=principal.account.email.value,
            username=principal.account.username.value,
            field="new_password",
        )
        old_hash = await self.attempts.verify_password(
            self.hasher,
            principal.account,
            command.current_password,
            reason="wrong_current_password",
            refuse=InvalidCurrentPasswordError,
            on_missing=ConcurrentUpdateError,
        )
        new_hash = await self.hasher.hash(command.new_password)

        async with self.uow_factory() as uow:
            user = await uow.users.get(principal.user_id, for_update=True)
            if user is None or user.password_hash != old_hash:
                raise ConcurrentUpdateError()
            now = self.clock.now()
            user.change_password(new_hash, now=now)
            await uow.users.update(user)
            await revoke_user_sessions(
                uow.sessions, user.id, now=now, reason="password_changed", keep=session_id
            )
            await uow.commit(actor_id=user.id)
