from uuid import UUID

from application.audit.describe import Auditor
from application.common.security import Principal
from application.errors import LastAdministratorError
from application.identity.revocation import SessionRevoker
from application.identity.use_cases.update_user import locked_target
from application.ports.clock import Clock
from application.ports.event_publisher import EventPublisher
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.permissions import Permission


class DeleteUser:
    """An administrator deletes an account and, with it, all its sessions and keys.

    Needs `users:write`. The last active administrator cannot be deleted (`conflict`).
    Tokens and keys of the deleted account stop working on the next request; its audit
    trail stays.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        revoker: SessionRevoker,
        clock: Clock,
        events: EventPublisher,
        auditor: Auditor,
    ) -> None:
        self._uow_factory = uow_factory
        self._revoker = revoker
        self._clock = clock
        self._events = events
        self._auditor = auditor

    async def execute(self, principal: Principal, user_id: UUID) -> None:
        principal.require(Permission.USERS_WRITE)
        now = self._clock.now()
        async with self._uow_factory() as uow:
            user, active_admins = await locked_target(uow, principal, user_id)
            if user.is_admin and user.is_active and active_admins <= 1:
                raise LastAdministratorError()
            sessions = await uow.sessions.list_active_for_user(user.id, now=now)
            user.mark_deleted(now=now)
            await uow.users.delete(user.id)
            events = await self._auditor.commit(uow, user, actor_id=principal.actor_id)
        await self._revoker.announce([s.id for s in sessions])
        await self._events.publish(events)
