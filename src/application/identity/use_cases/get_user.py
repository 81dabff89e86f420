from uuid import UUID

from application.common.security import Principal
from application.errors import UserNotFoundError
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.permissions import Permission
from domain.user import User


class GetUser:
    """One account by id. Anyone may read themselves; reading others needs `users:read`."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def execute(self, principal: Principal, user_id: UUID) -> User:
        principal.require_self_or(user_id, Permission.USERS_READ)
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise UserNotFoundError()
        return user
