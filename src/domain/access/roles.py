"""Roles: named sets of permissions. Three are built in; administrators add others."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.access.events import RoleCreated, RoleDeleted, RoleUpdated
from domain.access.permissions import ALL_PERMISSIONS, Permission
from domain.common.aggregate import Aggregate
from domain.common.errors import DomainError, InvalidValueError
from domain.common.errors import UnknownRoleError as UnknownRoleError  # re-exported: roles raise it

_ROLE_NAME = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")


class Role(StrEnum):
    """Names of the built-in roles."""

    ADMIN = "admin"
    USER = "user"
    AUDITOR = "auditor"


BUILTIN_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.ADMIN: ALL_PERMISSIONS,
    # A plain user acts on its own account only; that needs no permission string.
    Role.USER: frozenset(),
    Role.AUDITOR: frozenset(
        {Permission.USERS_READ, Permission.AUDIT_READ, Permission.RELEASES_READ}
    ),
}


class InvalidRoleNameError(InvalidValueError):
    field = "name"


class BuiltinRoleError(DomainError):
    """Built-in roles are part of the service's contract: fixed name and permissions."""

    code = "conflict"


def role_name(raw: str, *, field: str = "name") -> str:
    """2 to 32 characters: a-z first, then a-z, 0-9, '_' or '-'."""
    name = raw.strip().lower()
    if not _ROLE_NAME.match(name):
        raise InvalidRoleNameError(
            "role name must be 2-32 characters of a-z, 0-9, '_' or '-', starting with a letter",
            field=field,
        )
    return name


@dataclass(eq=False, kw_only=True)
class RoleDefinition(Aggregate):
    """A role as stored. Compares by name."""

    name: str
    permissions: frozenset[Permission]
    builtin: bool
    created_at: datetime
    updated_at: datetime
    _events: list = field(default_factory=list, repr=False)  # type: ignore[type-arg]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RoleDefinition) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    @classmethod
    def create(
        cls, *, name: str, permissions: frozenset[Permission], now: datetime
    ) -> "RoleDefinition":
        role = cls(
            name=role_name(name),
            permissions=permissions,
            builtin=False,
            created_at=now,
            updated_at=now,
        )
        role.record(RoleCreated(occurred_at=now, role=role.name))
        return role

    def change(
        self,
        *,
        now: datetime,
        name: str | None = None,
        permissions: frozenset[Permission] | None = None,
    ) -> tuple[str, ...]:
        """Rename and/or change permissions; returns the fields that really changed."""
        changed: list[str] = []
        new_name = role_name(name) if name is not None else self.name
        renamed = new_name != self.name
        regranted = permissions is not None and permissions != self.permissions
        if self.builtin and (renamed or regranted):
            raise BuiltinRoleError(f"the built-in role {self.name!r} cannot be changed")
        previous = self.name
        if new_name != self.name:
            self.name = new_name
            changed.append("name")
        if permissions is not None and permissions != self.permissions:
            self.permissions = permissions
            changed.append("permissions")
        if changed:
            self.updated_at = now
            self.record(
                RoleUpdated(
                    occurred_at=now, role=self.name, previous_name=previous, fields=tuple(changed)
                )
            )
        return tuple(changed)

    def delete(self, *, now: datetime) -> None:
        if self.builtin:
            raise BuiltinRoleError(f"the built-in role {self.name!r} cannot be deleted")
        self.record(RoleDeleted(occurred_at=now, role=self.name))


def builtin_role(name: str, *, now: datetime) -> RoleDefinition:
    return RoleDefinition(
        name=name,
        permissions=BUILTIN_PERMISSIONS[name],
        builtin=True,
        created_at=now,
        updated_at=now,
    )


def permissions_of(roles: list[RoleDefinition]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= role.permissions
    return frozenset(granted)
