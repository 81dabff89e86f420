"""How access control's events leave the service (see `application.events.catalog`)."""

from application.events.catalog import ACCOUNT, USERS, EventSpec, EventTable, fields, no_account
from domain.access.events import (
    ApiKeyCreated,
    ApiKeyFirstUsed,
    ApiKeyRevoked,
    RoleCreated,
    RoleDeleted,
    RoleUpdated,
)

# As `GET /roles/{name}` and `GET /api-keys` show them (a key's secret never).
ROLE = fields("name", "permissions", "builtin")
API_KEY = fields(
    "id",
    "prefix",
    "name",
    "scopes",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
    "owner_id",
)


def _role(name: str) -> EventSpec:
    return EventSpec(
        name=name, topic=USERS, subject=lambda e: e.role, account=no_account, view=ROLE
    )


def _api_key(name: str) -> EventSpec:
    return EventSpec(
        name=name,
        topic=ACCOUNT,
        subject=lambda e: e.key_id,
        account=lambda e: e.owner_id,
        view=API_KEY,
    )


ACCESS_EVENTS: EventTable = {
    RoleCreated: _role("role.created"),
    RoleUpdated: _role("role.updated"),
    RoleDeleted: EventSpec(
        name="role.deleted",
        topic=USERS,
        subject=lambda e: e.role,
        account=no_account,
        view=fields("name"),
    ),
    ApiKeyCreated: _api_key("api_key.created"),
    ApiKeyRevoked: _api_key("api_key.revoked"),
    ApiKeyFirstUsed: _api_key("api_key.first_used"),
}
