from uuid import UUID

from application.audit.describe import Auditor
from application.common.security import Principal
from application.identity.use_cases.update_user import locked_target
from application.ports.clock import Clock
from application.ports.event_publisher import EventPublisher
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.permissions import Permission
from domain.user import User


class UnlockUser:
    """Lift a login lockout now and forget the failures behind it. Needs `users:write`.
    Audited; unlocking an account that is not locked changes nothing."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        events: EventPublisher,
        auditor: Auditor,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._events = events
        self._auditor = auditor

    async def execute(self, principal: Principal, user_id: UUID) -> User:
        principal.require(Permission.USERS_WRITE)
        async with self._uow_factory() as uow:
            user, _ = await locked_target(uow, principal, user_id)
            events = []
            if user.unlock(now=self._clock.now()):
                await uow.users.update(user)
                events = await self._auditor.commit(uow, user, actor_id=principal.actor_id)
        await self._events.publish(events)
        return user
