from dataclasses import dataclass, field

from application.errors import ConflictError
from application.identity.accounts import AccountCreator, NewAccount
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.access.roles import Role
from domain.identity.user import User


@dataclass(frozen=True, slots=True, kw_only=True)
class BootstrapAdminCommand:
    email: str
    password: str = field(repr=False)
    username: str = "admin"


@dataclass(frozen=True, slots=True)
class BootstrapAdmin:
    """Create the first administrator, only when no active administrator exists.

    Returns the new account, or None when an administrator already exists (so running it
    at every start-up is safe, also on instances starting side by side: the one that
    loses the race finds the winner's account and returns None). An email or username
    taken by a non-administrator is a `conflict`.
    """

    uow_factory: UnitOfWorkFactory
    accounts: AccountCreator

    async def execute(self, command: BootstrapAdminCommand) -> User | None:
        async with self.uow_factory() as uow:
            if await uow.users.count_active_admins() > 0:
                return None
        try:
            return await self.accounts.create(
                NewAccount(
                    email=command.email,
                    username=command.username,
                    password=command.password,
                    roles=frozenset({Role.ADMIN, Role.USER}),
                    is_verified=True,
                )
            )
        except ConflictError:
            async with self.uow_factory() as uow:
                if await uow.users.count_active_admins() > 0:
                    return None
            raise
