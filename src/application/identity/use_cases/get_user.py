from dataclasses import dataclass
from uuid import UUID

from application.common.security import Principal
from application.errors import UserNotFoundError
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.access.permissions import Permission
from domain.identity.user import User


@dataclass(frozen=True, slots=True)
class GetUser:
    """One account by id. Anyone may read themselves; reading others needs `users:read`."""

    uow_factory: UnitOfWorkFactory

    async def execute(self, principal: Principal, user_id: UUID) -> User:
        principal.require_self_or(user_id, Permission.USERS_READ)
        async with self.uow_factory() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise UserNotFoundError()
        return user
