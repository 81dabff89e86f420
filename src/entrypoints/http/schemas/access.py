"""Shapes of roles, API keys and audit events (field names fixed by API.md)."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from domain.access.api_keys import ApiKey
from domain.access.permissions import Permission
from domain.access.roles import RoleDefinition
from domain.audit.entries import AuditDetail, AuditEvent
from entrypoints.http.schemas.common import DateTimeField
from entrypoints.http.schemas.users import (
    Input,
    NameField,
    ReauthPasswordField,
    RoleNameField,
    RoleNames,
)

PermissionList = Annotated[list[Permission], Field(max_length=64)]


def values(permissions: list[Permission]) -> list[str]:
    return [p.value for p in permissions]


class RoleOut(BaseModel):
    name: str
    permissions: list[Permission]
    builtin: bool

    @classmethod
    def of(cls, role: RoleDefinition) -> "RoleOut":
        return cls(
            name=role.name,
            permissions=sorted(role.permissions),
            builtin=role.builtin,
        )


class RoleListOut(BaseModel):
    items: list[RoleOut]


class RoleCreateIn(Input):
    name: RoleNameField
    permissions: PermissionList = []


class RolePatchIn(Input):
    name: RoleNameField | None = None
    permissions: PermissionList | None = None


class RolesAssignmentIn(Input):
    roles: RoleNames


class ApiKeyCreateIn(Input):
    name: Annotated[NameField, Field(examples=["ci-deployer"])]
    scopes: PermissionList = []
    expires_at: Annotated[
        DateTimeField | None,
        Field(description="In the future, when given", examples=["2099-01-01T00:00:00Z"]),
    ] = None
    current_password: ReauthPasswordField = None


class ApiKeyOut(BaseModel):
    id: UUID
    prefix: str
    name: str
    scopes: list[Permission]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    """None while the key is usable (expiry aside)."""
    owner_id: UUID

    @classmethod
    def of(cls, key: ApiKey) -> "ApiKeyOut":
        return cls(
            id=key.id,
            prefix=key.prefix,
            name=key.name,
            scopes=sorted(key.scopes),
            created_at=key.created_at,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
            owner_id=key.owner_id,
        )


class ApiKeyCreatedOut(BaseModel):
    """The only time the whole key is shown."""

    id: UUID
    key: str
    prefix: str
    name: str
    scopes: list[Permission]
    created_at: datetime
    expires_at: datetime | None


class ApiKeyListOut(BaseModel):
    items: list[ApiKeyOut]


class AuditEventOut(BaseModel):
    id: UUID
    action: str
    actor_id: UUID | None
    target_id: str | None
    outcome: str
    ip: str | None
    user_agent: str | None
    request_id: str | None
    occurred_at: datetime
    details: dict[str, AuditDetail]

    @classmethod
    def of(cls, event: AuditEvent) -> "AuditEventOut":
        return cls(
            id=event.id,
            action=event.action,
            actor_id=event.actor_id,
            target_id=event.target_id,
            outcome=event.outcome.value,
            ip=event.ip,
            user_agent=event.user_agent,
            request_id=event.request_id,
            occurred_at=event.occurred_at,
            details=event.details,
        )


class AuditPageOut(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None
    limit: int
