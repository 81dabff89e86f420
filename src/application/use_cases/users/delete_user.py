from uuid import UUID

from application.errors import LastAdministratorError, UserNotFoundError
from application.ports.clock import Clock
from application.ports.event_publisher import EventPublisher
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.revocation import SessionRevoker
from application.security import Principal
from domain.roles import Permission


class DeleteUser:
    """An administrator deletes an account and, with it, all its sessions.

    Needs `users:write`. The last active administrator cannot be deleted (`conflict`).
    Tokens of the deleted account stop working on the next request.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        revoker: SessionRevoker,
        clock: Clock,
        events: EventPublisher,
    ) -> None:
        self._uow_factory = uow_factory
        self._revoker = revoker
        self._clock = clock
        self._events = events

    async def execute(self, principal: Principal, user_id: UUID) -> None:
        principal.require(Permission.USERS_WRITE)
        now = self._clock.now()
        async with self._uow_factory() as uow:
            active_admins = await uow.users.count_active_admins(lock=True)
            user = await uow.users.get(user_id, for_update=True)
            if user is None:
                raise UserNotFoundError()
            if user.is_admin and user.is_active and active_admins <= 1:
                raise LastAdministratorError()
            sessions = await uow.sessions.list_active_for_user(user.id, now=now)
            user.mark_deleted(now=now)
            await uow.users.delete(user.id)
            await uow.commit()
        await self._revoker.announce([s.id for s in sessions])
        await self._events.publish(user.pull_events())
