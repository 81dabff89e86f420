import asyncio
import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

from application.ports.event_outbox import OutboxEvent
from application.ports.idempotency_repository import IdempotencyRecord
from domain.access.api_keys import ApiKey
from domain.access.roles import Role, RoleDefinition, builtin_role
from domain.audit.entries import AuditEvent
from domain.common.aggregate import Aggregate
from domain.identity.mfa import TotpFactor
from domain.identity.one_time_tokens import OneTimeToken
from domain.identity.session import AuthSession, RefreshTokenRecord
from domain.identity.user import User
from domain.mail.messages import OutboxMail
from domain.releases.deployment import Deployment
from domain.releases.environment import Environment
from domain.releases.release import Release
from domain.signin.authorization import AuthorizationCode, Consent
from domain.signin.external import ExternalIdentity
from domain.tokens.service_clients import ServiceClient
from domain.tokens.signing_keys import SigningKey
from domain.webhooks.webhooks import Webhook, WebhookDelivery

T = TypeVar("T")


@dataclass(slots=True)
class Tables:
    """One consistent state of the data. Values are private copies that are replaced,
    never mutated, so copying the dicts is enough to branch a transaction off."""

    users: dict[UUID, User] = field(default_factory=dict)
    sessions: dict[UUID, AuthSession] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshTokenRecord] = field(default_factory=dict)
    roles: dict[str, RoleDefinition] = field(default_factory=dict)
    api_keys: dict[UUID, ApiKey] = field(default_factory=dict)
    audit_events: dict[UUID, AuditEvent] = field(default_factory=dict)
    one_time_tokens: dict[str, OneTimeToken] = field(default_factory=dict)
    outbox: dict[UUID, OutboxMail] = field(default_factory=dict)
    # Plaintext key material and seeds: nothing here outlives the process.
    signing_keys: dict[str, SigningKey] = field(default_factory=dict)
    service_clients: dict[str, ServiceClient] = field(default_factory=dict)
    mfa_factors: dict[UUID, TotpFactor] = field(default_factory=dict)
    events: dict[UUID, OutboxEvent] = field(default_factory=dict)
    event_leases: dict[UUID, datetime] = field(default_factory=dict)
    # The releases context.
    releases: dict[UUID, Release] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    deployments: dict[UUID, Deployment] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    webhooks: dict[UUID, Webhook] = field(default_factory=dict)
    webhook_deliveries: dict[UUID, WebhookDelivery] = field(default_factory=dict)
    authorization_codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    consents: dict[tuple[UUID, str], Consent] = field(default_factory=dict)
    external_identities: dict[tuple[str, str], ExternalIdentity] = field(default_factory=dict)

    def branch(self) -> "Tables":
        return Tables(
            users=dict(self.users),
            sessions=dict(self.sessions),
            refresh_tokens=dict(self.refresh_tokens),
            roles=dict(self.roles),
            api_keys=dict(self.api_keys),
            audit_events=dict(self.audit_events),
            one_time_tokens=dict(self.one_time_tokens),
            outbox=dict(self.outbox),
            signing_keys=dict(self.signing_keys),
            service_clients=dict(self.service_clients),
            mfa_factors=dict(self.mfa_factors),
            events=dict(self.events),
            event_leases=dict(self.event_leases),
            releases=dict(self.releases),
            environments=dict(self.environments),
            deployments=dict(self.deployments),
            idempotency=dict(self.idempotency),
            webhooks=dict(self.webhooks),
            webhook_deliveries=dict(self.webhook_deliveries),
            authorization_codes=dict(self.authorization_codes),
            consents=dict(self.consents),
            external_identities=dict(self.external_identities),
        )


class InMemoryStore:
    """The "database": committed state shared by every `InMemoryUnitOfWork` built on it.

    One lock is held for a whole transaction, so transactions run one at a time
    (serializable, like SQLite with BEGIN IMMEDIATE). A unit of work must therefore not
    open a second one on the same store while it is still open.
    """

    def __init__(self) -> None:
        # The built-in roles exist from the start, as migration 0002 seeds them.
        seeded = datetime.now(UTC)
        self.committed = Tables(
            roles={role.value: builtin_role(role.value, now=seeded) for role in Role}
        )
        self.lock = asyncio.Lock()


def detached(entity: T) -> T:
    """A copy that shares nothing mutable with `entity`, events dropped (they belong to
    the caller's object, not to the stored state)."""
    clone = copy.deepcopy(entity)
    if isinstance(clone, Aggregate):
        clone._events = []
    return clone


def utc(value: datetime) -> datetime:
    """What the SQL adapter stores: the same instant in UTC; naive input refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime refused: {value!r}")
    return value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)
