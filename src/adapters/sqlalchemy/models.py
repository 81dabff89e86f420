"""Table definitions (the target of Alembic autogenerate and of the drift test).

Rows are persistence details: repositories map them to domain entities explicitly and
never hand a row to a caller.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from adapters.sqlalchemy.types import JsonText, UtcDateTime

# Named constraints: error translation matches `uq_users_email` etc., and migrations can
# drop or alter a constraint by a name that is the same on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

USERS_EMAIL_CONSTRAINT = "uq_users_email"
USERS_USERNAME_CONSTRAINT = "uq_users_username"
ROLES_PRIMARY_KEY = "pk_roles"
USER_ROLES_ROLE_FOREIGN_KEY = "fk_user_roles_role_name_roles"
API_KEYS_PREFIX_CONSTRAINT = "uq_api_keys_prefix"
SIGNING_KEYS_PRIMARY_KEY = "pk_signing_keys"
SERVICE_CLIENTS_PRIMARY_KEY = "pk_service_clients"
RELEASES_NAME_VERSION_CONSTRAINT = "uq_releases_name_version"
ENVIRONMENTS_PRIMARY_KEY = "pk_environments"
DEPLOYMENTS_ONE_ACTIVE_INDEX = "uq_deployments_active_environment"
IDEMPOTENCY_PRIMARY_KEY = "pk_idempotency_records"
EXTERNAL_IDENTITIES_PRIMARY_KEY = "pk_external_identities"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(mapped: type[Base]) -> Table:
    """The table a mapped class is declared on, for plain Core statements on the hot
    paths (no ORM bulk handling, no identity map)."""
    table = mapped.__table__
    assert isinstance(table, Table)
    return table


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(128))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean)
    is_verified: Mapped[bool] = mapped_column(Boolean)
    oauth_provider: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lockouts: Mapped[int] = mapped_column(Integer, server_default="0")

    # lazy="raise": every query states what it loads (joinedload), no hidden I/O.
    roles: Mapped[list["UserRoleRow"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class UserRoleRow(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # ON UPDATE CASCADE: renaming a role renames it for every holder in one statement.
    role_name: Mapped[str] = mapped_column(
        String(32),
        ForeignKey("roles.name", onupdate="CASCADE", ondelete="CASCADE"),
        primary_key=True,
    )


class RoleRow(Base):
    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    # For built-in roles this is informative only: their permissions come from the domain.
    permissions: Mapped[list[str]] = mapped_column(JsonText)
    builtin: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))  # IPv6 text with a zone id fits
    user_agent: Mapped[str | None] = mapped_column(String(512))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(64))

    # Live sessions only: the active-sessions gauge counts them every few seconds, and
    # revoked rows (most of the table, in time) stay out of the index.
    __table_args__ = (
        Index(
            "ix_sessions_live_expires_at",
            "expires_at",
            postgresql_where=text("revoked_at IS NULL"),
            sqlite_where=text("revoked_at IS NULL"),
        ),
    )


class RefreshTokenRow(Base):
    __tablename__ = "refresh_tokens"

    # A SHA-256 hex digest: the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    # A digest only: the secret half of the key is never stored.
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JsonText)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditEventRow(Base):
    """Append-only: migration 0002 adds triggers that abort any UPDATE or DELETE.

    No foreign key on `actor_id`: an audit row must outlive the account it names. Ids are
    UUIDv7, so id order is time order and pages are keyed by id.
    """

    __tablename__ = "audit_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    target_id: Mapped[str | None] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    request_id: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JsonText)


class OneTimeTokenRow(Base):
    __tablename__ = "one_time_tokens"

    # A SHA-256 hex digest: the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    binding: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MailOutboxRow(Base):
    __tablename__ = "mail_outbox"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(255))
    # May hold a one-time link: set to NULL as soon as the mail is sent.
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


class SigningKeyRow(Base):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    # Ciphertext (FernetSecretBox): a database dump or backup alone cannot sign tokens.
    private_material: Mapped[bytes] = mapped_column(LargeBinary)
    public_jwk: Mapped[dict[str, str] | None] = mapped_column(JsonText)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ServiceClientRow(Base):
    __tablename__ = "service_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # A digest only: the client secret is never stored.
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JsonText)
    # No foreign key, as for `audit_events.actor_id`: a client outlives its creator.
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # OpenID Connect clients (0009); client-credentials clients keep the defaults.
    redirect_uris: Mapped[list[str]] = mapped_column(JsonText, server_default="[]")
    grant_types: Mapped[list[str]] = mapped_column(
        JsonText, server_default='["client_credentials"]'
    )
    token_endpoint_auth_method: Mapped[str] = mapped_column(
        String(32), server_default="client_secret_basic"
    )
    first_party: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class AuthorizationCodeRow(Base):
    __tablename__ = "authorization_codes"

    # A SHA-256 hex digest: the code itself is never stored.
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    redirect_uri: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(JsonText)
    nonce: Mapped[str | None] = mapped_column(String(512))
    code_challenge: Mapped[str] = mapped_column(String(128))
    auth_time: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # No foreign key: the session may be pruned while the replay record still matters.
    issued_session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class ConsentRow(Base):
    __tablename__ = "consents"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scopes: Mapped[list[str]] = mapped_column(JsonText)
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ExternalIdentityRow(Base):
    __tablename__ = "external_identities"

    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(254))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MfaFactorRow(Base):
    __tablename__ = "mfa_factors"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Ciphertext (FernetSecretBox): the TOTP seed must be readable to check codes, so it
    # cannot be a digest; encryption keeps a leaked dump from minting codes.
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The time step of the last accepted code, so no code is accepted twice (RFC 6238 §5.2).
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    # Digests of the unused recovery codes, sorted.
    recovery_code_hashes: Mapped[list[str]] = mapped_column(JsonText)


class EventOutboxRow(Base):
    """Every committed domain event, written in the transaction of its change; relayed
    in id order (UUIDv7: time order), then kept for the retention window."""

    __tablename__ = "event_outbox"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[str] = mapped_column(String(128))
    account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Never a secret, hash or token (a contract test checks every kind of event).
    data: Mapped[dict[str, Any]] = mapped_column(JsonText)
    facts: Mapped[dict[str, Any]] = mapped_column(JsonText)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # The relay that claimed the event holds it until then.
    leased_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    relayed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    # The relay reads the oldest unrelayed events: a small index however long the
    # retention window makes the table.
    __table_args__ = (
        Index(
            "ix_event_outbox_unrelayed_id",
            "id",
            postgresql_where=text("relayed_at IS NULL"),
            sqlite_where=text("relayed_at IS NULL"),
        ),
    )


# --- The releases context -----------------------------------------------------------


class ReleaseRow(Base):
    """Ids are UUIDv7: id order is creation order, and pages are keyed by id."""

    __tablename__ = "releases"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(63))
    version: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    # No foreign key, as for `audit_events.actor_id`: a release outlives its author.
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("name", "version", name=RELEASES_NAME_VERSION_CONSTRAINT),)


class EnvironmentRow(Base):
    __tablename__ = "environments"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    protected: Mapped[bool] = mapped_column(Boolean)
    requires: Mapped[list[str]] = mapped_column(JsonText)
    position: Mapped[int] = mapped_column(Integer)
    current_release_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    current_version: Mapped[str | None] = mapped_column(String(128))
    current_deployment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookRow(Base):
    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # No foreign key, as for `audit_events.actor_id`: a webhook outlives its creator.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JsonText)
    description: Mapped[str | None] = mapped_column(String(500))
    # Ciphertext (FernetSecretBox): the signing secret must be readable to sign every
    # delivery, so it cannot be a digest; encryption keeps a leaked dump from forging.
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean)
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeploymentRow(Base):
    __tablename__ = "deployments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    release_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("releases.id"), index=True)
    # Copied from the release, which never changes them: a list needs no join.
    release_name: Mapped[str] = mapped_column(String(63))
    version: Mapped[str] = mapped_column(String(128))
    environment: Mapped[str] = mapped_column(
        String(63), ForeignKey("environments.name"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    # One active deployment per environment, decided by the database: of N concurrent
    # inserts on any number of instances, one commits (SQLite has partial indexes too).
    __table_args__ = (
        Index(
            DEPLOYMENTS_ONE_ACTIVE_INDEX,
            "environment",
            unique=True,
            postgresql_where=text("status IN ('pending', 'in_progress')"),
            sqlite_where=text("status IN ('pending', 'in_progress')"),
        ),
    )


class IdempotencyRecordRow(Base):
    """The first answer to a request with an `Idempotency-Key`, kept 24 hours."""

    __tablename__ = "idempotency_records"

    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class WebhookDeliveryRow(Base):
    """One event on its way to one webhook: the durable queue and the delivery log."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    webhook_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("webhooks.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonText)
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        # One delivery per webhook and event, however often the relay hands it over.
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_event"),
        # The dispatcher reads what is due: only deliveries still waiting are indexed.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("outcome IN ('pending', 'retrying')"),
            sqlite_where=text("outcome IN ('pending', 'retrying')"),
        ),
        Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
    )


metadata = Base.metadata
