from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import RoleRow
from application.errors import RoleNotFoundError
from application.ports.role_repository import RoleRepository
from domain.access.permissions import Permission
from domain.access.roles import BUILTIN_PERMISSIONS, BuiltinRoleError, RoleDefinition


class SqlAlchemyRoleRepository(RoleRepository):
    """Role definitions in the `roles` table, inside the caller's session. Never commits.

    The built-in rows are seeded by migration 0002; their permissions are read from the
    domain, never from the row. `user_roles.role_name` references `roles.name` with ON
    UPDATE / ON DELETE CASCADE, so the database itself renames a role on every holder or
    takes it away from them, in the same statement. Writes run in a savepoint: a taken
    name raises `RoleExistsError` at the call and leaves the transaction usable. Built-in
    rows are never changed or deleted here, whatever the caller asks.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def add(self, role: RoleDefinition) -> None:
        # A Core INSERT, not `session.add`: a row of that name already in the identity
        # map would fail in the ORM before the database could say "taken".
        async with self._session.begin_nested():
            await self._session.execute(insert(RoleRow).values(**_to_row(role)))

    @translated
    async def update(self, role: RoleDefinition, *, previous_name: str) -> None:
        async with self._session.begin_nested():
            changed = await self._session.execute(
                update(RoleRow)
                .where(RoleRow.name == previous_name, RoleRow.builtin.is_(False))
                .values(
                    name=role.name,
                    permissions=_permissions_to_row(role.permissions),
                    updated_at=role.updated_at,
                )
                .returning(RoleRow.name)
                .execution_options(synchronize_session=False)
            )
            hit = changed.scalar_one_or_none() is not None
        # The cascade rewrote `user_roles` behind the identity map's back; everything is
        # flushed at each call, so nothing pending is lost by forgetting cached rows.
        self._session.expunge_all()
        if not hit:
            await self._refuse(previous_name)

    @translated
    async def delete(self, name: str) -> None:
        await self._session.execute(
            delete(RoleRow)
            .where(RoleRow.name == name, RoleRow.builtin.is_(False))
            .execution_options(synchronize_session=False)
        )
        self._session.expunge_all()  # as in `update`: holders lost it in the database

    @translated
    async def get(self, name: str) -> RoleDefinition | None:
        row = await self._session.get(RoleRow, name, populate_existing=True)
        return None if row is None else _to_entity(row)

    @translated
    async def get_many(self, names: frozenset[str]) -> list[RoleDefinition]:
        if not names:
            return []
        query = _ordered(select(RoleRow).where(RoleRow.name.in_(sorted(names))))
        rows = await self._session.scalars(query.execution_options(populate_existing=True))
        return [_to_entity(row) for row in rows]

    @translated
    async def list(self) -> list[RoleDefinition]:
        rows = await self._session.scalars(
            _ordered(select(RoleRow)).execution_options(populate_existing=True)
        )
        return [_to_entity(row) for row in rows]

    async def _refuse(self, previous_name: str) -> None:
        existing = await self._session.get(RoleRow, previous_name)
        if existing is None:
            raise RoleNotFoundError()
        raise BuiltinRoleError(f"the built-in role {previous_name!r} cannot be changed")


def _ordered(query: Select[RoleRow]) -> Select[RoleRow]:
    return query.order_by(RoleRow.builtin.desc(), RoleRow.name)


def _to_entity(row: RoleRow) -> RoleDefinition:
    if row.builtin and row.name in BUILTIN_PERMISSIONS:
        permissions = BUILTIN_PERMISSIONS[row.name]
    else:
        permissions = _permissions_from_row(row.permissions)
    return RoleDefinition(
        name=row.name,
        permissions=permissions,
        builtin=row.builtin,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _to_row(role: RoleDefinition) -> dict[str, object]:
    return {
        "name": role.name,
        "permissions": _permissions_to_row(role.permissions),
        "builtin": role.builtin,
        "created_at": role.created_at,
        "updated_at": role.updated_at,
    }


def _permissions_to_row(permissions: frozenset[Permission]) -> list[str]:
    return sorted(str(p) for p in permissions)


def _permissions_from_row(values: list[str]) -> frozenset[Permission]:
    # A permission the code no longer knows grants nothing: dropped, never an error, so
    # retiring a permission cannot break reading the roles that held it.
    known = {p.value for p in Permission}
    return frozenset(Permission(v) for v in values if v in known)
