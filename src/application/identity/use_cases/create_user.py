from dataclasses import dataclass, field

from application.access.permissions import grantable_roles
from application.common.security import Principal
from application.identity.accounts import AccountCreator, NewAccount
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.access.permissions import Permission
from domain.identity.user import User


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateUserCommand:
    email: str
    username: str
    password: str = field(repr=False)
    full_name: str | None = None
    roles: list[str] = field(default_factory=lambda: ["user"])
    is_active: bool = True
    is_verified: bool = False


@dataclass(frozen=True, slots=True)
class CreateUser:
    """An administrator creates an account. Needs `users:write`.

    Same rules as registration (unique email and username, password policy), plus the
    roles and flags the administrator sets; it works even when self-registration is off.
    The roles must exist and grant nothing the administrator lacks (no escalation).
    """

    uow_factory: UnitOfWorkFactory
    accounts: AccountCreator

    async def execute(self, principal: Principal, command: CreateUserCommand) -> User:
        principal.require(Permission.USERS_WRITE)
        async with self.uow_factory() as uow:
            roles = await grantable_roles(uow.roles, principal, command.roles)
        return await self.accounts.create(
            NewAccount(
                email=command.email,
                username=command.username,
                password=command.password,
                full_name=command.full_name,
                roles=roles,
                is_active=command.is_active,
                is_verified=command.is_verified,
                created_by=principal.actor_id,
            )
        )
