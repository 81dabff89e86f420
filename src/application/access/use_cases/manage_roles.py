"""Reading and changing role definitions."""

from dataclasses import dataclass

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import RoleExistsError, RoleNotFoundError
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.access.permissions import Permission, parse_permissions
from domain.access.roles import RoleDefinition, role_name


@dataclass(frozen=True, slots=True)
class ListRoles:
    """Every role with what it grants. Needs `users:read` or `roles:manage`."""

    uow_factory: UnitOfWorkFactory

    async def execute(self, principal: Principal) -> list[RoleDefinition]:
        _require_read(principal)
        async with self.uow_factory() as uow:
            return await uow.roles.list()


@dataclass(frozen=True, slots=True)
class GetRole:
    """One role by name. Needs `users:read` or `roles:manage`."""

    uow_factory: UnitOfWorkFactory

    async def execute(self, principal: Principal, name: str) -> RoleDefinition:
        _require_read(principal)
        async with self.uow_factory() as uow:
            role = await uow.roles.get(name.lower())
        if role is None:
            raise RoleNotFoundError()
        return role


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateRoleCommand:
    name: str
    permissions: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeRoleCommand:
    name: str | None = None
    permissions: list[str] | None = None


@dataclass(frozen=True, slots=True)
class CreateRole(Transactional):
    """A new custom role. Needs `roles:manage`.

    - Names are unique (`conflict`), 2-32 characters of a-z, 0-9, '_' or '-'.
    - Permissions must be known strings, and the caller must hold each one (no
      escalation: nobody mints a role more powerful than themselves).
    """

    async def execute(self, principal: Principal, command: CreateRoleCommand) -> RoleDefinition:
        principal.require(Permission.ROLES_MANAGE)
        permissions = parse_permissions(command.permissions)
        principal.may_grant(permissions)
        role = RoleDefinition.create(
            name=command.name, permissions=permissions, now=self.clock.now()
        )
        async with self.uow_factory() as uow:
            if await uow.roles.get(role.name) is not None:
                raise RoleExistsError()
            await uow.roles.add(role)
            await uow.commit(actor_id=principal.actor_id)
        return role


@dataclass(frozen=True, slots=True)
class ChangeRole(Transactional):
    """Rename a custom role and/or replace its permissions. Needs `roles:manage`.

    - Built-in roles cannot change (`conflict`).
    - The caller must hold every permission the role grants, before and after: nobody
      edits a role more powerful than themselves.
    - A rename follows the role onto every user holding it; permission changes act on
      those users' next request.
    """

    async def execute(
        self, principal: Principal, name: str, command: ChangeRoleCommand
    ) -> RoleDefinition:
        principal.require(Permission.ROLES_MANAGE)
        permissions = (
            parse_permissions(command.permissions) if command.permissions is not None else None
        )
        async with self.uow_factory() as uow:
            role = await uow.roles.get(name.lower())
            if role is None:
                raise RoleNotFoundError()
            principal.may_grant(role.permissions | (permissions or frozenset()))
            previous = role.name
            new_name = role_name(command.name) if command.name is not None else None
            if new_name is not None and new_name != previous and await uow.roles.get(new_name):
                raise RoleExistsError()
            if role.change(now=self.clock.now(), name=new_name, permissions=permissions):
                await uow.roles.update(role, previous_name=previous)
                await uow.commit(actor_id=principal.actor_id)
        return role


@dataclass(frozen=True, slots=True)
class DeleteRole(Transactional):
    """Delete a custom role; users holding it simply lose it. Needs `roles:manage`, and
    every permission the role grants. Built-in roles cannot be deleted (`conflict`)."""

    async def execute(self, principal: Principal, name: str) -> None:
        principal.require(Permission.ROLES_MANAGE)
        async with self.uow_factory() as uow:
            role = await uow.roles.get(name.lower())
            if role is None:
                raise RoleNotFoundError()
            principal.may_grant(role.permissions)
            role.delete(now=self.clock.now())
            await uow.roles.delete(role.name)
            await uow.commit(actor_id=principal.actor_id)


def _require_read(principal: Principal) -> None:
    if Permission.ROLES_MANAGE not in principal.permissions:
        principal.require(Permission.USERS_READ)
