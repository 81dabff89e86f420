from uuid import UUID

from application.access.permissions import grantable_roles
from application.audit.describe import Auditor
from application.common.security import Principal
from application.errors import LastAdministratorError
from application.identity.use_cases.update_user import locked_target
from application.ports.clock import Clock
from application.ports.event_publisher import EventPublisher
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.permissions import Permission
from domain.user import User


class AssignRoles:
    """Replace an account's roles (`PUT /users/{id}/roles`). Needs `users:write`.

    - Every role must exist (`validation_error` otherwise).
    - No escalation: the caller must hold every permission the given roles grant, for
      any account, its own included.
    - The last active administrator keeps the admin role (`conflict`).
    - Takes effect on the account's next request.
    """

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

    async def execute(self, principal: Principal, user_id: UUID, roles: list[str]) -> User:
        principal.require(Permission.USERS_WRITE)
        async with self._uow_factory() as uow:
            wanted = await grantable_roles(uow.roles, principal, roles)
            user, active_admins = await locked_target(uow, principal, user_id)
            was_admin = user.is_admin and user.is_active
            events = []
            if user.assign_roles(wanted, now=self._clock.now()):
                if was_admin and not user.is_admin and active_admins <= 1:
                    raise LastAdministratorError()
                await uow.users.update(user)
                events = await self._auditor.commit(uow, user, actor_id=principal.actor_id)
        await self._events.publish(events)
        return user
