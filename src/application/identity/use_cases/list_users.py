from dataclasses import dataclass
from uuid import UUID

from application.common.security import Principal
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.ports.user_repository import ListedUser, UserFilter
from domain.access.permissions import Permission
from domain.access.roles import role_name
from domain.common.errors import InvalidValueError, UnknownRoleError


@dataclass(frozen=True, slots=True, kw_only=True)
class ListUsersQuery:
    limit: int = 20
    after: UUID | None = None
    q: str | None = None
    is_active: bool | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class UserPage:
    items: list[ListedUser]
    next_after: UUID | None
    """The id to continue after, or None on the last page."""


@dataclass(frozen=True, slots=True)
class ListUsers:
    """Page through accounts in creation order (keyset pagination), with filters.

    Needs `users:read`. `limit` is 1..100.
    """

    uow_factory: UnitOfWorkFactory

    async def execute(self, principal: Principal, query: ListUsersQuery) -> UserPage:
        principal.require(Permission.USERS_READ)
        limit = max(1, min(query.limit, 100))
        role = role_name(query.role, field="role") if query.role else None
        if query.q is not None and not query.q.isprintable():
            raise InvalidValueError("q must be printable text", field="q")
        user_filter = UserFilter(q=query.q or None, is_active=query.is_active, role=role)
        async with self.uow_factory() as uow:
            if role is not None and await uow.roles.get(role) is None:
                raise UnknownRoleError(f"unknown role: {role!r}", field="role")
            users = await uow.users.list(filter=user_filter, after=query.after, limit=limit + 1)
        more = len(users) > limit
        items = users[:limit]
        return UserPage(items, items[-1].id if more else None)
