from adapters.memory.store import Tables, detached, utc
from application.errors import RoleExistsError, RoleNotFoundError
from application.ports.role_repository import RoleRepository
from domain.access.roles import BUILTIN_PERMISSIONS, BuiltinRoleError, RoleDefinition


class InMemoryRoleRepository(RoleRepository):
    """Role definitions in a transaction's working tables. Same contract as the SQL
    adapter: the built-in roles are seeded by the store and read with the domain's
    permissions; a taken name raises `RoleExistsError` at the call; renaming or deleting
    a role does the same to its holders as the schema's ON UPDATE / ON DELETE CASCADE
    (their `updated_at` untouched, as there); built-in roles are never changed here."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, role: RoleDefinition) -> None:
        if role.name in self._tables.roles:
            raise RoleExistsError()
        self._tables.roles[role.name] = _stored(role)

    async def update(self, role: RoleDefinition, *, previous_name: str) -> None:
        current = self._tables.roles.get(previous_name)
        if current is None:
            raise RoleNotFoundError()
        if current.builtin:
            raise BuiltinRoleError(f"the built-in role {previous_name!r} cannot be changed")
        if role.name != previous_name and role.name in self._tables.roles:
            raise RoleExistsError()
        stored = _stored(role)
        stored.builtin = False
        stored.created_at = current.created_at  # the SQL adapter never rewrites it either
        del self._tables.roles[previous_name]
        self._tables.roles[stored.name] = stored
        if role.name != previous_name:
            self._replace_on_holders(previous_name, role.name)

    async def delete(self, name: str) -> None:
        current = self._tables.roles.get(name)
        if current is None or current.builtin:
            return
        del self._tables.roles[name]
        self._replace_on_holders(name, None)

    async def get(self, name: str) -> RoleDefinition | None:
        role = self._tables.roles.get(name)
        return None if role is None else _read(role)

    async def get_many(self, names: frozenset[str]) -> list[RoleDefinition]:
        found = [role for name, role in self._tables.roles.items() if name in names]
        return [_read(role) for role in sorted(found, key=_order)]

    async def list(self) -> list[RoleDefinition]:
        return [_read(role) for role in sorted(self._tables.roles.values(), key=_order)]

    def _replace_on_holders(self, old: str, new: str | None) -> None:
        for user_id, user in list(self._tables.users.items()):
            if old not in user.roles:
                continue
            changed = detached(user)
            kept = user.roles - {old}
            changed.roles = kept | {new} if new is not None else kept
            self._tables.users[user_id] = changed  # replaced, never mutated: see Tables


def _order(role: RoleDefinition) -> tuple[bool, str]:
    return (not role.builtin, role.name)


def _read(role: RoleDefinition) -> RoleDefinition:
    copy = detached(role)
    if copy.builtin and copy.name in BUILTIN_PERMISSIONS:
        copy.permissions = BUILTIN_PERMISSIONS[copy.name]
    return copy


def _stored(role: RoleDefinition) -> RoleDefinition:
    stored = detached(role)
    stored.created_at = utc(role.created_at)
    stored.updated_at = utc(role.updated_at)
    return stored
