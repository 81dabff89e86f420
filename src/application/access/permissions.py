"""Resolving what roles grant, and checking who may hand them out."""

from application.common.security import Principal
from application.ports.role_repository import RoleRepository
from domain.access.permissions import Permission
from domain.access.roles import permissions_of, role_name
from domain.common.errors import UnknownRoleError


async def permissions_for(roles: RoleRepository, names: frozenset[str]) -> frozenset[Permission]:
    """What a set of role names grants now (a deleted role grants nothing)."""
    if not names:
        return frozenset()
    return permissions_of(await roles.get_many(names))


async def grantable_roles(
    roles: RoleRepository,
    principal: Principal,
    names: list[str],
    *,
    field: str = "roles",
) -> frozenset[str]:
    """Role names that exist, and that the caller may hand out: every permission they
    grant must be the caller's own (no escalation through roles)."""
    wanted = frozenset(role_name(n, field=field) for n in names)
    found = await roles.get_many(wanted)
    unknown = wanted - {r.name for r in found}
    if unknown:
        raise UnknownRoleError(f"unknown role: {sorted(unknown)[0]!r}", field=field)
    principal.may_grant(permissions_of(found))
    return wanted
