from dataclasses import dataclass
from uuid import UUID

from application.access.permissions import grantable_roles
from application.access.targets import locked_target
from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import LastAdministratorError
from domain.access.permissions import Permission
from domain.identity.user import User


@dataclass(frozen=True, slots=True)
class AssignRoles(Transactional):
    """Replace an account's roles (`PUT /users/{id}/roles`). Needs `users:write`.

    - Every role must exist (`validation_error` otherwise).
    - No escalation: the caller must hold every permission the given roles grant, for
      any account, its own included.
    - The last active administrator keeps the admin role (`conflict`).
    - Takes effect on the account's next request.
    """

    async def execute(self, principal: Principal, user_id: UUID, roles: list[str]) -> User:
        principal.require(Permission.USERS_WRITE)
        async with self.uow_factory() as uow:
            wanted = await grantable_roles(uow.roles, principal, roles)
            user, active_admins = await locked_target(uow, principal, user_id)
            was_admin = user.is_admin and user.is_active
            if user.assign_roles(wanted, now=self.clock.now()):
                if was_admin and not user.is_admin and active_admins <= 1:
                    raise LastAdministratorError()
                await uow.users.update(user)
                await uow.commit(actor_id=principal.actor_id)
        return user
