"""Shared fixtures and builders for the persistence contract suites.

Every test taking `backend` runs on the in-memory twin, on SQLite and on PostgreSQL,
and must pass identically on all three. Test modules import `backend_fixture` and
`database_url_fixture` to make the fixtures `backend` and `database_url` available.
"""

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.crypto.secret_box import FernetSecretBox
from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.sqlalchemy.engine import create_engine, create_session_factory
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from adapters.system.id_generator import Uuid7IdGenerator
from application.ports.transaction import Transaction
from domain.access.api_keys import ApiKey
from domain.access.permissions import Permission
from domain.access.roles import Role, RoleDefinition
from domain.audit.entries import AuditDetail, AuditEvent, Outcome
from domain.identity.mfa import TotpFactor
from domain.identity.one_time_tokens import OneTimeToken, TokenPurpose
from domain.identity.session import AuthSession, RefreshTokenRecord
from domain.identity.user import User
from domain.identity.value_objects import Email, FullName, Username
from domain.mail.messages import MailMessage, OutboxMail
from domain.tokens.service_clients import ServiceClient
from domain.tokens.signing_keys import KeyAlgorithm, SigningKey

# Microseconds and a non-UTC offset on purpose: both must survive a round trip.
T0 = datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
PLUS_TWO = timezone(timedelta(hours=2))


@dataclass(frozen=True)
class Backend:
    name: str
    new_uow: Callable[[], Transaction]
    store: InMemoryStore | None = None
    """The in-memory "database", for the few checks that look behind the port."""
    engine: AsyncEngine | None = None
    """The SQL engine, likewise."""
    secret_box: FernetSecretBox | None = None
    """The box the SQL unit of work encrypts secrets with (None in memory)."""


@pytest.fixture(
    name="database_url",
    params=[
        "memory",
        "sqlite",
        # Marked here because a fixture parameter cannot add `postgres_clean_url` to
        # the test's static fixture list, which is what conftest marks by.
        pytest.param("postgres", marks=pytest.mark.postgres),
    ],
)
def database_url_fixture(request: pytest.FixtureRequest) -> str | None:
    """None for the in-memory twin, else a migrated, empty database."""
    if request.param == "memory":
        return None
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_clean_url"))


@pytest.fixture(name="backend")
async def backend_fixture(database_url: str | None) -> AsyncIterator[Backend]:
    if database_url is None:
        store = InMemoryStore()
        yield Backend("memory", lambda: InMemoryUnitOfWork(store), store=store)
        return
    engine = create_engine(database_url, pool_size=10)
    factory = create_session_factory(engine)
    box = FernetSecretBox([FernetSecretBox.generate_key()])  # not the development key
    try:
        yield Backend(
            engine.dialect.name,
            lambda: SqlAlchemyUnitOfWork(factory, box),
            engine=engine,
            secret_box=box,
        )
    finally:
        await engine.dispose()


def assert_same_fields(expected: Any, actual: Any) -> None:
    """Field-by-field equality of two entities (entities themselves compare by id),
    ignoring recorded events. Datetimes must be the same instant and come back in UTC."""
    assert type(actual) is type(expected)
    differing = {}
    for f in dataclasses.fields(expected):
        if f.name == "_events":
            continue
        want, got = getattr(expected, f.name), getattr(actual, f.name)
        if want != got:
            differing[f.name] = (want, got)
        if isinstance(got, datetime):
            assert got.utcoffset() == timedelta(0), f"{f.name} is not UTC: {got!r}"
    assert not differing, f"fields differ (expected, actual): {differing}"


def make_user(
    name: str,
    *,
    email: str | None = None,
    full_name: str | None = None,
    roles: frozenset[str] = frozenset({Role.USER}),
    is_active: bool = True,
    user_id: uuid.UUID | None = None,
) -> User:
    return User(
        id=user_id or uuid.uuid4(),
        email=Email(email or f"{name}@example.com"),
        username=Username(name),
        full_name=FullName(full_name) if full_name is not None else None,
        password_hash=f"$argon2id$v=19$m=65536,t=3,p=4${name}",
        is_active=is_active,
        is_verified=False,
        roles=roles,
        oauth_provider=None,
        created_at=T0,
        updated_at=T0,
    )


def make_session(
    user: User,
    *,
    created_at: datetime = T0,
    expires_in: timedelta = timedelta(days=30),
    revoked_at: datetime | None = None,
) -> AuthSession:
    return AuthSession(
        id=uuid.uuid4(),
        user_id=user.id,
        created_at=created_at,
        last_used_at=created_at,
        expires_at=created_at + expires_in,
        ip="203.0.113.7",
        user_agent="Mozilla/5.0 (contract test)",
        revoked_at=revoked_at,
        revoked_reason="logout" if revoked_at else None,
    )


def make_token(session: AuthSession, *, token_hash: str | None = None) -> RefreshTokenRecord:
    return RefreshTokenRecord(
        token_hash=token_hash or uuid.uuid4().hex * 2,
        session_id=session.id,
        created_at=session.created_at,
        expires_at=session.expires_at,
    )


async def store_users(backend: Backend, *users: User) -> None:
    async with backend.new_uow() as uow:
        for user in users:
            await uow.users.add(user)
        await uow.commit()


async def store_sessions(
    backend: Backend, *sessions: AuthSession, tokens: tuple[RefreshTokenRecord, ...] = ()
) -> None:
    async with backend.new_uow() as uow:
        for session in sessions:
            await uow.sessions.add(session)
        for token in tokens:
            await uow.sessions.add_refresh_token(token)
        await uow.commit()


def make_role(
    name: str,
    *,
    permissions: frozenset[Permission] = frozenset({Permission.USERS_READ}),
    created_at: datetime = T0,
) -> RoleDefinition:
    return RoleDefinition(
        name=name,
        permissions=permissions,
        builtin=False,
        created_at=created_at,
        updated_at=created_at,
    )


async def store_roles(backend: Backend, *roles: RoleDefinition) -> None:
    async with backend.new_uow() as uow:
        for role in roles:
            await uow.roles.add(role)
        await uow.commit()


def make_api_key(
    owner: User,
    *,
    name: str = "ci",
    prefix: str | None = None,
    created_at: datetime = T0,
    scopes: frozenset[Permission] = frozenset({Permission.USERS_READ}),
) -> ApiKey:
    return ApiKey(
        id=uuid.uuid4(),
        owner_id=owner.id,
        name=name,
        prefix=prefix or uuid.uuid4().hex[:12],
        secret_hash=uuid.uuid4().hex * 2,
        scopes=scopes,
        created_at=created_at,
    )


def sequential_ids(count: int) -> list[uuid.UUID]:
    """UUIDv7 ids minted one after another: increasing, as the audit trail's are."""
    ids = Uuid7IdGenerator()
    return [ids.new_id() for _ in range(count)]


def make_audit_event(
    event_id: uuid.UUID,
    *,
    action: str = "user.login",
    actor_id: uuid.UUID | None = None,
    target_id: str | None = None,
    outcome: Outcome = Outcome.SUCCESS,
    occurred_at: datetime = T0,
    details: dict[str, AuditDetail] | None = None,
) -> AuditEvent:
    return AuditEvent(
        id=event_id,
        action=action,
        actor_id=actor_id,
        target_id=target_id,
        outcome=outcome,
        ip="198.51.100.23",
        user_agent="curl/8.5.0",
        request_id="req-1234",
        occurred_at=occurred_at,
        details=details if details is not None else {},
    )


def make_one_time_token(
    user: User,
    *,
    purpose: TokenPurpose = TokenPurpose.RESET_PASSWORD,
    expires_in: timedelta = timedelta(hours=1),
) -> OneTimeToken:
    return OneTimeToken(
        token_hash=uuid.uuid4().hex * 2,
        purpose=purpose,
        user_id=user.id,
        binding=uuid.uuid4().hex * 2,
        created_at=T0,
        expires_at=T0 + expires_in,
    )


def make_mail(
    *,
    to: str = "alice@example.com",
    created_at: datetime = T0,
    attempts: int = 0,
    next_attempt_at: datetime | None = None,
) -> OutboxMail:
    return OutboxMail(
        id=uuid.uuid4(),
        message=MailMessage(to=to, subject="Reset your password", text="https://x/#t=secret"),
        created_at=created_at,
        attempts=attempts,
        next_attempt_at=next_attempt_at,
    )


# An RSA private key is what RS256 keys store; the PEM header is easy to spot in a dump.
PRIVATE_PEM = (
    b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPLAINTEXTPLAINTEXTPLAINTEXT\n"
    b"-----END PRIVATE KEY-----\n"
)
TOTP_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def make_signing_key(
    kid: str | None = None,
    *,
    algorithm: KeyAlgorithm = KeyAlgorithm.RS256,
    created_at: datetime = T0,
    private_material: bytes = PRIVATE_PEM,
) -> SigningKey:
    kid = kid or uuid.uuid4().hex
    jwk = None
    if not algorithm.is_symmetric:
        jwk = {
            "kty": "RSA",
            "kid": kid,
            "alg": str(algorithm),
            "use": "sig",
            "n": "0vx7",
            "e": "AQAB",
        }
    return SigningKey(
        kid=kid,
        algorithm=algorithm,
        private_material=private_material,
        public_jwk=jwk,
        created_at=created_at,
    )


def make_service_client(
    client_id: str | None = None,
    *,
    name: str = "billing",
    created_by: User | None = None,
    created_at: datetime = T0,
    scopes: frozenset[Permission] = frozenset({Permission.USERS_READ}),
) -> ServiceClient:
    return ServiceClient(
        client_id=client_id or f"svc_{uuid.uuid4().hex[:16]}",
        name=name,
        secret_hash=uuid.uuid4().hex * 2,
        scopes=scopes,
        created_by=None if created_by is None else created_by.id,
        created_at=created_at,
    )


def make_factor(user: User, *, secret: str = TOTP_SEED, created_at: datetime = T0) -> TotpFactor:
    return TotpFactor(user_id=user.id, secret=secret, created_at=created_at)


async def store_factors(backend: Backend, *factors: TotpFactor) -> None:
    async with backend.new_uow() as uow:
        for factor in factors:
            await uow.mfa.put(factor)
        await uow.commit()
