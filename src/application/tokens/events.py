"""How the token service's events leave the service (see `application.events.catalog`).

Service clients and signing keys are operators' business: topic `system`, audited and
relayed, never offered to the clients of the API's live events."""

from application.events.catalog import SYSTEM, EventSpec, EventTable, fields, no_account
from domain.tokens.events import ServiceClientCreated, ServiceClientRevoked, SigningKeyRotated

# As `GET /clients` shows it (the secret's digest never).
CLIENT = fields("client_id", "name", "scopes", "created_at", "revoked_at")


def _client(name: str) -> EventSpec:
    return EventSpec(
        name=name, topic=SYSTEM, subject=lambda e: e.client_id, account=no_account, view=CLIENT
    )


TOKEN_EVENTS: EventTable = {
    ServiceClientCreated: _client("client.created"),
    ServiceClientRevoked: _client("client.revoked"),
    SigningKeyRotated: EventSpec(
        name="signing_key.rotated", topic=SYSTEM, subject=lambda e: e.kid, account=no_account
    ),
}
