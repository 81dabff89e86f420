from dataclasses import dataclass, field

from application.errors import ConcurrentUpdateError, InvalidCurrentPasswordError
from application.ports.clock import Clock
from application.ports.event_publisher import EventPublisher
from application.ports.password_hasher import PasswordHasher
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.revocation import SessionRevoker, revoke_user_sessions
from application.security import Principal
from domain.password_policy import PasswordPolicy


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangePasswordCommand:
    current_password: str = field(repr=False)
    new_password: str = field(repr=False)


class ChangePassword:
    """Change one's own password.

    - The current password must be given and right; otherwise a 400 `bad_request` with
      detail type `invalid_current_password` (not a 401: the caller's token is fine).
    - The new one must meet the password policy.
    - Every other session is revoked at once; the calling session stays.
    - If the password changed by another path while this ran, nothing is written
      (`conflict`): the last writer never silently wins over a concurrent change.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        revoker: SessionRevoker,
        clock: Clock,
        events: EventPublisher,
        password_policy: PasswordPolicy,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._revoker = revoker
        self._clock = clock
        self._events = events
        self._policy = password_policy

    async def execute(self, principal: Principal, command: ChangePasswordCommand) -> None:
        self._policy.check(command.new_password, field="new_password")
        old_hash = principal.user.password_hash
        if old_hash is None or not await self._hasher.verify(old_hash, command.current_password):
            raise InvalidCurrentPasswordError()
        new_hash = await self._hasher.hash(command.new_password)

        async with self._uow_factory() as uow:
            user = await uow.users.get(principal.user_id, for_update=True)
            if user is None or user.password_hash != old_hash:
                raise ConcurrentUpdateError()
            now = self._clock.now()
            user.change_password(new_hash, now=now)
            await uow.users.update(user)
            revoked = await revoke_user_sessions(
                uow.sessions,
                user.id,
                now=now,
                reason="password_changed",
                keep=principal.session_id,
            )
            await uow.commit()
        await self._revoker.announce([s.id for s in revoked])
        await self._events.publish(
            user.pull_events() + [e for s in revoked for e in s.pull_events()]
        )
