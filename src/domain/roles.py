"""Roles and the permissions they grant.

Built-in roles for now; stored, administrator-defined roles build on these names.
"""

from enum import StrEnum

from domain.errors import UnknownRoleError


class Permission(StrEnum):
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"


class Role(StrEnum):
    ADMIN = "admin"
    USER = "user"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    # A plain user acts on its own account only; that needs no permission string.
    Role.USER: frozenset(),
}


def parse_roles(
    names: list[str] | tuple[str, ...] | frozenset[str], *, field: str = "roles"
) -> frozenset[Role]:
    """Turn role names into roles, refusing unknown names (no silent drops)."""
    roles: set[Role] = set()
    for name in names:
        try:
            roles.add(Role(name))
        except ValueError:
            raise UnknownRoleError(f"unknown role: {name!r}", field=field) from None
    return frozenset(roles)


def permissions_of(roles: frozenset[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)
