"""Permissions: what a role grants, as stable strings (`area:verb`)."""

from collections.abc import Iterable
from enum import StrEnum

from domain.common.errors import InvalidValueError


class Permission(StrEnum):
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    ROLES_MANAGE = "roles:manage"
    AUDIT_READ = "audit:read"
    API_KEYS_MANAGE = "api_keys:manage"
    TOKENS_INTROSPECT = "tokens:introspect"
    KEYS_MANAGE = "keys:manage"
    CLIENTS_MANAGE = "clients:manage"
    # The releases context.
    RELEASES_READ = "releases:read"
    RELEASES_WRITE = "releases:write"
    DEPLOYMENTS_WRITE = "deployments:write"
    DEPLOYMENTS_PROTECTED = "deployments:protected"
    ENVIRONMENTS_MANAGE = "environments:manage"
    WEBHOOKS_MANAGE = "webhooks:manage"


ALL_PERMISSIONS: frozenset[Permission] = frozenset(Permission)


class UnknownPermissionError(InvalidValueError):
    field = "permissions"


def parse_permissions(
    values: Iterable[str], *, field: str = "permissions"
) -> frozenset[Permission]:
    """Known permission strings only: an unknown one is refused, never silently dropped."""
    parsed: set[Permission] = set()
    for value in values:
        try:
            parsed.add(Permission(value))
        except ValueError:
            raise UnknownPermissionError(f"unknown permission: {value!r}", field=field) from None
    return frozenset(parsed)
