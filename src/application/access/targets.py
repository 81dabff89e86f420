"""The account an administrator acts on, checked and locked the one way every writer
does it."""

from uuid import UUID

from application.access.permissions import permissions_for
from application.common.security import Principal
from application.errors import UserNotFoundError
from application.ports.transaction import Transaction
from domain.identity.user import User


async def locked_target(uow: Transaction, principal: Principal, user_id: UUID) -> tuple[User, int]:
    """The account to change, locked, and the number of active administrators, locked
    first: one lock order for every writer, so concurrent demotions cannot deadlock and
    the last-administrator rule holds. The caller must hold every permission the account
    holds (no managing upwards: a support agent cannot redirect an admin's email)."""
    active_admins = await uow.users.count_active_admins(lock=True)
    user = await uow.users.get(user_id, for_update=True)
    if user is None:
        raise UserNotFoundError()
    principal.may_manage(user.id, await permissions_for(uow.roles, user.roles))
    return user, active_admins
